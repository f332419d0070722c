"""Page middleware: application errors as friendly pages, the pages' language, and no copy of
any answer kept in a browser's or a proxy's cache.

Pages answer application errors (``common.errors``) with a friendly page and their status.
The API answers the same errors in JSON through ``common.api.exception_handler`` (DRF handles
exceptions inside its views before they reach a middleware).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation

from common.errors import AppError


class AppErrorPages:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, AppError):
            return None
        return render(
            request, "app_error.html", {"message": exception.message}, status=exception.status
        )


# Answers that integrations parse: always in LANGUAGE_CODE, whatever the caller's browser says.
_UNTRANSLATED_PREFIXES = ("/api/", "/healthz")


class PageLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware for the pages (Accept-Language, the language switch's cookie);
    the API and /healthz stay in LANGUAGE_CODE (English) and never vary by language."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(_UNTRANSLATED_PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.path_info.startswith(_UNTRANSLATED_PREFIXES):
            return response
        return super().process_response(request, response)


class PrivateNoStore:
    """``Cache-Control: private, no-store`` on every answer the application makes: the pages
    (a seller's dashboard and evidence, staff pages, admin) and the API.

    Without it, a browser may keep a seller's figures on disk and show them again from its
    history on a shared computer after sign-out; a shared proxy may even serve them to someone
    else. Every dynamic answer here is per user, so the rule has no exceptions to get wrong.
    Static files are answered before this middleware (WhiteNoise, first in the list) and keep
    their long-lived caching.
    """

    VALUE = "private, no-store"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response["Cache-Control"] = self.VALUE
        return response
