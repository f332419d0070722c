"""Application errors: what a service refuses, said without HTTP.

Services and selectors raise these (never a DRF or Django HTTP exception); the one API exception
handler (``common.api.exception_handler``) answers each with its status and the JSON error shape
of SPEC §7 — ``{"detail": "…"}`` or field messages ``{"field": ["…"]}`` — and the pages answer
it with a friendly page (``common.middleware.AppErrorPages``).
"""

from __future__ import annotations

Errors = dict[str, list[str]]


class AppError(Exception):
    """Base of every application error: an HTTP status, and a message or field messages."""

    status = 400
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, *, errors: Errors | None = None) -> None:
        self.message = message or self.default_message
        self.errors = errors
        super().__init__(self.message)

    def payload(self) -> dict[str, object]:
        """The JSON error body (SPEC §7): field messages, else ``{"detail": message}``."""
        if self.errors:
            return dict(self.errors)
        return {"detail": self.message}


class InvalidInput(AppError):
    """400: the input breaks a rule; nothing was written."""

    status = 400
    default_message = "Invalid input."


class NotFound(AppError):
    """404: no such thing, or not yours to see (ids are not confirmed)."""

    status = 404
    default_message = "Not found."


class Conflict(AppError):
    """409: the state of the data does not allow it now (a concurrent write, an open run)."""

    status = 409
    default_message = "The request conflicts with the current state; nothing was written."


class Unavailable(AppError):
    """503: the service cannot answer until an operator acts (e.g. no active policy)."""

    status = 503
    default_message = "The service is not ready to answer this request."
