"""Pages answer application errors (``common.errors``) with a friendly page and their status.

The API answers the same errors in JSON through ``common.api.exception_handler`` (DRF handles
exceptions inside its views before they reach a middleware).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
