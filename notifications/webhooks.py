"""Webhooks (SPEC §7): endpoints, their URL rules, the signature and one delivery attempt.

A delivery is a JSON POST ``{"id", "type", "created", "data"}`` with the header
``GradeCraft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`` (the scheme
of Stripe's webhooks: the receiver recomputes it with the secret and checks ``t`` is recent).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from common.errors import InvalidInput, NotFound
from notifications import sending
from notifications.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

SIGNATURE_HEADER = "GradeCraft-Signature"
MAX_URL_LENGTH = 2000
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 255


# --- endpoints --------------------------------------------------------------------------------


class AddressRefused(InvalidInput):
    """The URL's host resolves to a loopback or private address (never retried)."""


class HostUnresolvable(InvalidInput):
    """The URL's host does not resolve (now: a delivery retries it later)."""


# IPv6 forms that carry an IPv4 address in their last 32 bits, each a way to reach an IPv4 host:
# IPv4-compatible (::a.b.c.d, deprecated), NAT64's well-known prefix and its local-use one.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped (::ffff:a.b.c.d), compatible
    (::a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16), Teredo (2001::/32:
    its server and its client)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _IPV4_COMPATIBLE or any(ip in network for network in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def refused_address(address: str) -> bool:
    """Whether a webhook may not go to ``address``: it, or an IPv4 address it embeds, is not a
    public unicast address (loopback, private, link-local, shared, reserved, multicast...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates += embedded_ipv4(ip)
    return any(not c.is_global or c.is_multicast for c in candidates)


def _vet(host: str, addresses: list[str]) -> None:
    """AddressRefused unless every address of ``host`` is public."""
    for address in addresses:
        if refused_address(address):
            raise AddressRefused(
                errors={
                    "url": [
                        f"{host} resolves to {address}, a loopback or private address: "
                        "refused (WEBHOOKS_ALLOW_PRIVATE allows it for local development)."
                    ]
                }
            )


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
        _vet(host, resolve(host, port or (443 if parts.scheme == "https" else 80)))
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


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    retry_in: int | None = None  # seconds until the next attempt, when there is one


# --- one attempt: resolved once, vetted, connected to the vetted address, capped in time ------


def backoff_seconds(attempts: int) -> int:
    """The wait before attempt ``attempts + 1``: base × 2^(attempts−1), capped."""
    return sending.WEBHOOKS.backoff_seconds(attempts)


def due_deliveries(*, now: datetime | None = None, limit: int = sending.SWEEP_LIMIT) -> list[int]:
    """Deliveries whose next attempt is due and that nothing holds (``sending.Channel.due``)."""
    return sending.WEBHOOKS.due(now=now, limit=limit)


class _Deadline:
    """The end of one attempt. When it passes, the attempt's socket is shut down, which ends a
    read blocked on a receiver that dribbles its answer a byte at a time (a socket timeout
    bounds each read, not their sum)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.passed = threading.Event()
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def left(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no answer within {self.seconds:g} s")
        return left

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            if self.passed.is_set():
                self._shutdown(sock)

    def _cut(self) -> None:
        with self._lock:
            self.passed.set()
            if self._socket is not None:
                self._shutdown(self._socket)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # socket.socket's own shutdown, also for a TLS socket: it wakes a blocked read without
        # touching the TLS object the reading thread is using.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to ``address`` (the vetted IP) for ``host``: the Host header, the
    TLS server name (SNI) and the certificate check are the URL's host; the TCP connection is
    to the address that was resolved and vetted, never to a second resolution of the name."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: str,
        deadline: _Deadline,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(host, port, timeout=deadline.left())
        self.address = address
        self.deadline = deadline
        self.tls = tls

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), timeout=self.deadline.left())
        self.deadline.watch(sock)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname=self.host)
            self.deadline.watch(sock)
        self.sock = sock


def _resolve_within(host: str, port: int, deadline: _Deadline) -> list[str]:
    """``resolve`` bounded by the attempt's deadline (a resolver may hang for a long time)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(resolve, host, port)
    pool.shutdown(wait=False)
    try:
        return future.result(timeout=deadline.left())
    except concurrent.futures.TimeoutError:
        raise HostUnresolvable(
            errors={"url": [f"The host {host} did not resolve within {deadline.seconds:g} s."]}
        ) from None


def _reason(exc: BaseException) -> str:
    """A short note of a failed connection (never a receiver's words: no body is kept)."""
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return f"{type(exc).__name__}: {reason}"[:200]


def _post(*, url: str, body: bytes, header: str) -> tuple[int | None, str]:
    """POST ``body`` to ``url``: resolve its host once, vet every address (unless
    ``WEBHOOKS_ALLOW_PRIVATE``), connect to a vetted one. The status, and a short note when it
    is not a 2xx (``HTTP 500``: the status only; a receiver's body is never kept, it may be an
    internal service's). Redirects are answers, not followed. AddressRefused when an address is
    not public. The whole attempt ends within ``WEBHOOK_TIMEOUT_SECONDS``."""
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError:
        return None, "The URL's host is not a valid name."
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GradeCraft-Webhooks/1",
        SIGNATURE_HEADER: header,
    }
    tls = ssl.create_default_context() if parts.scheme == "https" else None
    with _Deadline(settings.WEBHOOK_TIMEOUT_SECONDS) as deadline:
        try:
            addresses = _resolve_within(host, port, deadline)
        except TimeoutError as exc:
            return None, f"Timed out: {exc}."
        if not settings.WEBHOOKS_ALLOW_PRIVATE:
            _vet(host, addresses)
        error = ""
        for address in addresses:
            connection: _PinnedConnection | None = None
            try:
                try:
                    connection = _PinnedConnection(
                        host, port, address=address, deadline=deadline, tls=tls
                    )
                    connection.connect()
                except (OSError, ssl.SSLError) as exc:
                    if deadline.passed.is_set():
                        raise TimeoutError(f"no answer within {deadline.seconds:g} s") from None
                    error = f"Could not connect to {address} port {port}: {_reason(exc)}"
                    continue  # the host's next address
                connection.request("POST", target, body=body, headers=headers)
                status = connection.getresponse().status
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if deadline.passed.is_set() or isinstance(exc, TimeoutError):
                    return None, f"Timed out: no answer within {deadline.seconds:g} s."
                return None, f"No answer from {address} port {port}: {_reason(exc)}"
            finally:
                if connection is not None:
                    connection.close()
            if deadline.passed.is_set():
                return None, f"Timed out: no answer within {deadline.seconds:g} s."
            return status, "" if 200 <= status < 300 else f"HTTP {status}"
        return None, error


def deliver(*, delivery_id: int) -> Attempt:
    """One attempt at one delivery, unless it was delivered (or given up) already or another
    attempt holds it. A 2xx marks it delivered, never to be sent again; any other answer is
    logged and retried after ``backoff_seconds`` up to ``WEBHOOK_MAX_ATTEMPTS`` attempts; an
    address that is not public (now) gives it up unsent."""
    channel = sending.WEBHOOKS
    if not channel.claim(delivery_id):
        return Attempt(delivered=False)
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint.deleted_at is not None:
        channel.gave_up(delivery_id, error="The webhook was deleted.")
        return Attempt(delivered=False)
    body = payload(delivery.event)
    timestamp = int(timezone.now().timestamp())
    try:
        status, error = _post(
            url=endpoint.url,
            body=body,
            header=signature(secret=endpoint.secret, timestamp=timestamp, body=body),
        )
    except HostUnresolvable as exc:  # perhaps a passing DNS failure: an attempt that failed
        status, error = None, "; ".join((exc.errors or {}).get("url", []))
    except InvalidInput as exc:  # a private address now: never sent there
        channel.gave_up(delivery_id, error="; ".join((exc.errors or {}).get("url", [])))
        return Attempt(delivered=False)
    if status is not None and 200 <= status < 300:
        channel.succeeded(delivery_id, last_status=status)
        return Attempt(delivered=True)
    outcome = channel.failed(
        delivery_id, attempts=delivery.attempts, error=error, last_status=status
    )
    return Attempt(delivered=False, retry_in=outcome.retry_in)
