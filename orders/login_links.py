"""Single-use sign-in links for sellers (SPEC §7 ``POST /sellers/{id}/login-link``).

A marketplace asks for a link and sends it to its seller, who lands on the dashboard without a
second password. The link is single-use and valid for ``LOGIN_LINK_MINUTES``. Redeeming takes
a POST (the link page shows a "Sign in" button), so mail scanners that prefetch links do not
burn them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model, user_login_failed
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from orders.models import LoginLink, Seller


@dataclass(frozen=True)
class IssuedLink:
    token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_link(*, seller: Seller, actor: User | AnonymousUser | None) -> IssuedLink:
    """A new single-use token for ``seller``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(minutes=settings.LOGIN_LINK_MINUTES)
    LoginLink.objects.create(
        seller=seller,
        token_hash=_hash(token),
        expires_at=expires_at,
        created_by=actor if isinstance(actor, User) else None,
    )
    return IssuedLink(token=token, expires_at=expires_at)


def link_url(*, token: str, request: HttpRequest) -> str:
    """The absolute URL of a link: on ``PUBLIC_BASE_URL`` when set, so a forged Host header
    cannot point a seller at another site; else on the requesting host (development)."""
    path = reverse("login-link", args=[token])
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return request.build_absolute_uri(path)


def sign_in_allowed(*, request: HttpRequest) -> bool:
    """False while the caller's address is locked out after failed sign-ins."""
    return bool(AxesProxyHandler.is_allowed(request, {"username": None}))


def record_failed_sign_in(*, request: HttpRequest) -> None:
    """Count a refused link against the caller's address, like a wrong password."""
    user_login_failed.send(sender=__name__, credentials={"username": None}, request=request)


def usable_link(*, token: str) -> LoginLink | None:
    """The link behind ``token`` if it is unused and unexpired (nothing is consumed)."""
    return (
        LoginLink.objects.select_related("seller")
        .filter(token_hash=_hash(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


@transaction.atomic
def redeem_login_link(*, token: str) -> User | None:
    """Consume the link once and return the seller's login (created if the seller has none).

    The row lock makes two simultaneous clicks redeem it once.
    """
    link = (
        LoginLink.objects.select_for_update()
        .filter(token_hash=_hash(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if link is None:
        return None
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    seller = Seller.objects.select_for_update().get(pk=link.seller_id)
    if seller.user_id is None:
        user_model = get_user_model()
        if user_model.objects.filter(username=seller.username).exists():
            return None  # never hand another account to this seller
        seller.user = user_model.objects.create_user(username=seller.username, password=None)
        seller.save(update_fields=["user"])
    if seller.user is None or not seller.user.is_active:
        return None
    return seller.user
