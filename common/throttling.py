"""Throttling of failed API authentication (issue 10, finding 3).

DRF checks permissions before throttles, so an anonymous or bad-token request is answered 401
before any throttle counts it: a client could guess tokens, or hammer the API, for ever. Here
every 401 is counted per client address (``common.net.client_ip``) in the default cache, and an
address past ``THROTTLE_AUTH_FAILURES`` failures is refused with 429 and ``Retry-After`` before
its credentials are even looked at, by the first authentication class of every API view.

The counts live in the cache: production configures a shared one (``CACHE_URL``, Redis), so
every web process counts together; ``manage.py check --deploy`` warns without one.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, TokenAuthentication
from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle

from common.net import client_ip


class AuthFailureThrottle(SimpleRateThrottle):
    """A sliding window of one address's failed authentications (DRF's rate syntax)."""

    scope = "auth_failure"
    # Set by SimpleRateThrottle.__init__ from the rate (the stubs leave them out).
    num_requests: int
    duration: int

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}

    def _load(self, request: Any) -> None:
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()

    def wait_if_refused(self, request: Any) -> float | None:
        """Seconds the address must wait, or None if it may try."""
        if self.rate is None:
            return None
        self._load(request)
        if len(self.history) >= self.num_requests:
            return self.wait()
        return None

    def record(self, request: Any) -> None:
        if self.rate is None:
            return
        self._load(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class RefuseFailingClients(BaseAuthentication):
    """First of the authentication classes: an address with too many recent failures is
    refused (429) before its credentials are checked."""

    def authenticate(self, request: Any) -> None:
        wait = AuthFailureThrottle().wait_if_refused(request)
        if wait is not None:
            raise Throttled(
                wait=wait,
                detail="Too many requests failed authentication from this address.",
            )
        return None

    def authenticate_header(self, request: Any) -> str:
        # DRF answers 401 (not 403) only if the first class names a scheme: the token's.
        return TokenAuthentication.keyword


def record_auth_failure(request: Any) -> None:
    AuthFailureThrottle().record(request)
