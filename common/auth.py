"""Sign-in throttling (django-axes) for every password sign-in of the project."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class ThrottledSignInBackend(AxesStandaloneBackend):
    """django-axes' lockout check in front of the password backends.

    Every sign-in over HTTP (login page, admin) passes its request and is throttled.
    ``authenticate()`` without a request (the test client's ``login()``, a shell) has no address
    to throttle and no attacker behind it, so it is left to the next backend instead of failing.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
