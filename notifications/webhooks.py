"""Webhooks (SPEC §7): endpoints, their URL rules, the signature and one delivery attempt.

A delivery is a JSON POST ``{"id", "type", "created", "data"}`` with the header
``GradeCraft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`` (the scheme
of Stripe's webhooks: the receiver recomputes it with the secret and checks ``t`` is recent).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from common.errors import InvalidInput, NotFound
from notifications.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

SIGNATURE_HEADER = "GradeCraft-Signature"
MAX_URL_LENGTH = 2000
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 255
# Of a failing endpoint's answer, this much is kept in the delivery log.
ERROR_EXCERPT = 500


# --- endpoints --------------------------------------------------------------------------------


class AddressRefused(InvalidInput):
    """The URL's host resolves to a loopback or private address (never retried)."""


class HostUnresolvable(InvalidInput):
    """The URL's host does not resolve (now: a delivery retries it later)."""


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str) -> str:
    """The webhook URL, checked: http(s), a host, and (unless ``WEBHOOKS_ALLOW_PRIVATE``) no
    address of the host loopback, private, link-local or otherwise not public. InvalidInput."""

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(errors={"url": [message]})

    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise refuse(f"At most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refuse(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise refuse("The URL must start with http:// or https://.")
    host = parts.hostname
    if not host:
        raise refuse("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise refuse("Credentials in the URL are not accepted: sign with the secret instead.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        for address in resolve(host, port or (443 if parts.scheme == "https" else 80)):
            if _refused(address):
                raise AddressRefused(
                    errors={
                        "url": [
                            f"{host} resolves to {address}, a loopback or private address: "
                            "refused (WEBHOOKS_ALLOW_PRIVATE allows it for local development)."
                        ]
                    }
                )
    return url


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host``; HostUnresolvable if it has none."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        raise HostUnresolvable(errors={"url": [f"The host {host} does not resolve."]}) from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise HostUnresolvable(errors={"url": [f"The host {host} does not resolve."]})
    return addresses


def create_endpoint(*, url: str, events: list[str], secret: str) -> WebhookEndpoint:
    """A new webhook subscription (staff). The secret is stored to sign, never shown again."""
    errors: dict[str, list[str]] = {}
    unknown = [event for event in events if event not in WebhookEvent.TYPES]
    if not events or unknown or len(set(events)) != len(events):
        errors["events"] = [
            f"A non-empty list of distinct event types among {list(WebhookEvent.TYPES)}."
        ]
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        errors["secret"] = [f"Between {SECRET_MIN_LENGTH} and {SECRET_MAX_LENGTH} characters."]
    try:
        url = check_url(url)
    except InvalidInput as exc:
        errors.update(exc.errors or {})
    if errors:
        raise InvalidInput(errors=errors)
    return WebhookEndpoint.objects.create(url=url, events=list(events), secret=secret)


def live_endpoints() -> Any:
    return WebhookEndpoint.objects.filter(deleted_at__isnull=True).order_by("id")


def delete_endpoint(*, endpoint_id: int) -> None:
    """No more deliveries to it; its delivery log stays (admin). NotFound if none."""
    if not live_endpoints().filter(pk=endpoint_id).update(deleted_at=timezone.now()):
        raise NotFound("No such webhook.")


# --- the signed request -----------------------------------------------------------------------


def payload(event: WebhookEvent) -> bytes:
    """The request body: the same bytes on every attempt of the event."""
    document = {
        "id": event.event_id,
        "type": event.type,
        "created": event.created_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``GradeCraft-Signature`` header value."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a 2xx: following it could reach a refused address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def backoff_seconds(attempts: int) -> int:
    """The wait before attempt ``attempts + 1``: base × 2^(attempts−1), capped."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return int(min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS))


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    retry_in: int | None = None  # seconds until the next attempt, when there is one


LEASE = timedelta(minutes=2)


# A retry may arrive this early (clocks of the worker and of the database).
EARLY = timedelta(seconds=1)


def _open() -> Q:
    return Q(delivered_at__isnull=True, gave_up_at__isnull=True, endpoint__deleted_at__isnull=True)


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt (one UPDATE): not delivered nor given up, not held by
    another attempt, and its backoff over. A duplicate or early message finds nothing to do."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, delivered_at__isnull=True, gave_up_at__isnull=True
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + EARLY))
        .update(claimed_until=now + LEASE, attempts=F("attempts") + 1, last_attempt_at=now)
    )


def due_deliveries(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Deliveries whose next attempt is due and that nothing holds: the sweep sends them again
    (with eager tasks, the only retry; with a broker, a lost retry message's safety net)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(_open(), next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def _post(url: str, body: bytes, header: str) -> tuple[int | None, str]:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked: http(s) only
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "GradeCraft-Webhooks/1",
            SIGNATURE_HEADER: header,
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        excerpt = exc.read(ERROR_EXCERPT).decode("utf-8", "replace")
        return exc.code, f"HTTP {exc.code}: {excerpt}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


def deliver(*, delivery_id: int) -> Attempt:
    """One attempt at one delivery, unless it was delivered (or given up) already or another
    attempt holds it. A 2xx marks it delivered, never to be sent again; any other answer is
    logged and retried after ``backoff_seconds`` up to ``WEBHOOK_MAX_ATTEMPTS`` attempts."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return Attempt(delivered=False)
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    rows = WebhookDelivery.objects.filter(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint.deleted_at is not None:
        rows.update(claimed_until=None, gave_up_at=now, last_error="The webhook was deleted.")
        return Attempt(delivered=False)
    status: int | None = None
    try:
        check_url(endpoint.url)  # the host may resolve elsewhere since it was accepted
    except HostUnresolvable as exc:  # perhaps a passing DNS failure: an attempt that failed
        error = "; ".join((exc.errors or {}).get("url", []))
    except InvalidInput as exc:  # a private address now: never sent there
        rows.update(
            claimed_until=None,
            gave_up_at=now,
            last_error="; ".join((exc.errors or {}).get("url", [])),
        )
        return Attempt(delivered=False)
    else:
        body = payload(delivery.event)
        timestamp = int(timezone.now().timestamp())
        status, error = _post(
            endpoint.url, body, signature(secret=endpoint.secret, timestamp=timestamp, body=body)
        )
    if status is not None and 200 <= status < 300:
        rows.update(
            claimed_until=None,
            delivered_at=timezone.now(),
            last_status=status,
            last_error="",
            next_attempt_at=None,
        )
        return Attempt(delivered=True)
    if status is not None and not error:
        error = f"HTTP {status}"
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        rows.update(
            claimed_until=None,
            last_status=status,
            last_error=error[:2000],
            gave_up_at=timezone.now(),
            next_attempt_at=None,
        )
        return Attempt(delivered=False)
    wait = backoff_seconds(delivery.attempts)
    rows.update(
        claimed_until=None,
        last_status=status,
        last_error=error[:2000],
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
    )
    return Attempt(delivered=False, retry_in=wait)
