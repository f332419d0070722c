"""Webhook deliveries against a hostile network (issue 20, findings 1-3): a name that answers a
public address and then loopback (DNS rebinding), IPv6 forms embedding a private IPv4 address,
a receiver that dribbles its answer, internal services' answers kept out of the log.

The connections are real (servers on 127.0.0.1); only DNS is stood in for, at
``socket.getaddrinfo``, the way a hostile name server would answer.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from notifications.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications.tasks import deliver_webhook

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SECRET = "whsec-test-0123456789abcdef"
# Global unicast to Python's ipaddress (so it passes the vetting), in 3fff::/20, the IPv6
# documentation prefix. The tests never send a packet off this machine: a connection to any
# address but loopback is refused by ``internet`` below, which stands in for the public network.
PUBLIC_V6 = "3fff::1"


@pytest.fixture(autouse=True)
def internet(monkeypatch) -> list[str]:
    """The public network, refusing every connection (and recording its address): a test may
    connect to loopback only."""
    attempted: list[str] = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        host = address[0]
        if host in ("127.0.0.1", "::1", "localhost"):
            return real(address, *args, **kwargs)
        attempted.append(host)
        raise ConnectionRefusedError(f"[Errno 111] Connection refused ({host})")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempted


def a_delivery(url: str) -> WebhookDelivery:
    """A delivery of one event to ``url`` (an endpoint accepted when it resolved publicly)."""
    endpoint = WebhookEndpoint.objects.create(url=url, events=["run.completed"], secret=SECRET)
    event = WebhookEvent.objects.create(
        key="run_completed:1",
        event_id="evt_0123456789abcdef0123456789abcdef",
        type=WebhookEvent.RUN_COMPLETED,
        created_at=timezone.now(),
        data={"id": 1},
    )
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint)


@dataclass
class Resolver:
    """A name server for one name: each lookup of it gets the next of ``answers`` (the last
    one repeats); every other name resolves normally."""

    name: str
    answers: list[str]
    lookups: int = 0
    real: Callable[..., list] = field(default=socket.getaddrinfo)

    def __call__(self, host, port, *args, **kwargs):
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        answer = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        family = socket.AF_INET6 if ":" in answer else socket.AF_INET
        sockaddr = (answer, port, 0, 0) if family == socket.AF_INET6 else (answer, port)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


@pytest.fixture
def dns(monkeypatch) -> Callable[[str, list[str]], Resolver]:
    def install(name: str, answers: list[str]) -> Resolver:
        resolver = Resolver(name, answers)
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        return resolver

    return install


@dataclass
class RawServer:
    """A TCP server on 127.0.0.1 answering every request with ``answer`` (its pieces sent
    ``pause`` seconds apart), recording what it received."""

    port: int
    received: list[bytes] = field(default_factory=list)


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    stops: list[Callable[[], None]] = []

    def start(pieces: list[bytes], pause: float = 0.0) -> RawServer:
        listener = socket.create_server(("127.0.0.1", 0))
        state = RawServer(port=listener.getsockname()[1])
        stopping = threading.Event()

        def serve() -> None:
            listener.settimeout(0.2)
            while not stopping.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    state.received.append(data)
                    try:
                        for piece in pieces:
                            conn.sendall(piece)
                            if pause:
                                time.sleep(pause)
                    except OSError:
                        pass  # the client gave up: what this test wants to see

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()

        def stop() -> None:
            stopping.set()
            thread.join(timeout=5)
            listener.close()

        stops.append(stop)
        return state

    yield start
    for stop in stops:
        stop()


# --- finding 1: DNS rebinding ----------------------------------------------------------------


def test_a_name_rebound_to_loopback_after_the_check_is_not_posted_there(
    settings, dns, hook_server, internet
):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    port = hook_server.url.split(":")[2].split("/")[0]
    delivery = a_delivery(f"http://rebind.example:{port}/hooks")
    resolver = dns("rebind.example", [PUBLIC_V6, "127.0.0.1"])  # public first, loopback next

    delivered = deliver_webhook.delay(delivery.pk).get()

    assert delivered is False
    assert hook_server.received == []  # the loopback service got nothing
    assert resolver.lookups == 1  # resolved once: the address vetted is the one connected to
    assert internet == [PUBLIC_V6]
    delivery.refresh_from_db()
    assert delivery.delivered_at is None
    assert PUBLIC_V6 in delivery.last_error and "127.0.0.1" not in delivery.last_error


def test_the_vetted_address_is_connected_to_with_the_names_host_header(settings, dns, hook_server):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the name's address is the local test server
    port = hook_server.url.split(":")[2].split("/")[0]
    delivery = a_delivery(f"http://hooks.example:{port}/hooks?x=1")
    resolver = dns("hooks.example", ["127.0.0.1", "127.0.0.2"])

    assert deliver_webhook.delay(delivery.pk).get() is True

    [received] = hook_server.received
    assert received.headers["host"] == f"hooks.example:{port}"
    assert received.json["id"] == "evt_0123456789abcdef0123456789abcdef"
    assert resolver.lookups == 1


# --- finding 2: IPv6 forms embedding a private IPv4 address ---------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "[::127.0.0.1]",  # IPv4-compatible
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
        "[64:ff9b:1::c0a8:1]",  # local-use NAT64 of 192.168.0.1
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254 (cloud metadata)
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
        "[::1]",
        "[fd00::1]",
        "169.254.169.254",
        "[::]",
    ],
)
def test_an_ipv6_form_of_a_private_address_is_refused(staff_client, settings, host):
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    response = staff_client.post(
        "/api/v1/webhooks",
        {"url": f"http://{host}:8080/hooks", "events": ["run.completed"], "secret": SECRET},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "loopback or private" in str(response.json())


@pytest.mark.parametrize("host", ["[64:ff9b::808:808]", "[2606:4700:4700::1111]", "8.8.8.8"])
def test_public_addresses_are_accepted_also_through_nat64(staff_client, settings, host):
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    response = staff_client.post(
        "/api/v1/webhooks",
        {"url": f"https://{host}/hooks", "events": ["run.completed"], "secret": SECRET},
        format="json",
    )

    assert response.status_code == 201, response.content


def test_a_delivery_to_a_name_now_answering_a_nat64_loopback_is_given_up(settings, dns):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    delivery = a_delivery("http://nat64.example/hooks")
    dns("nat64.example", ["64:ff9b::7f00:1"])

    assert deliver_webhook.delay(delivery.pk).get() is False

    delivery.refresh_from_db()
    assert delivery.gave_up_at is not None and delivery.attempts == 1
    assert "64:ff9b::7f00:1" in delivery.last_error


# --- finding 3: an attempt's whole duration is capped ----------------------------------------


def test_a_receiver_dribbling_its_answer_is_cut_at_the_timeout(settings, raw_server):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    # A header line every 0.4 s: each read is well within 1 s, the whole answer takes 4.4 s.
    slow = raw_server(
        [b"HTTP/1.1 200 OK\r\n", *[b"X-Slow: %d\r\n" % i for i in range(10)], b"\r\n"],
        pause=0.4,
    )
    delivery = a_delivery(f"http://127.0.0.1:{slow.port}/hooks")

    started = time.monotonic()
    delivered = deliver_webhook.delay(delivery.pk).get()
    took = time.monotonic() - started

    assert delivered is False
    assert took < 1.5, took  # the timeout, plus the bookkeeping
    delivery.refresh_from_db()
    assert delivery.delivered_at is None and delivery.next_attempt_at is not None
    assert delivery.last_error.startswith("Timed out")


def test_a_prompt_receiver_is_not_cut(settings, raw_server):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    quick = raw_server([b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"])

    assert deliver_webhook.delay(a_delivery(f"http://127.0.0.1:{quick.port}/").pk).get()


# --- the log keeps no internal service's answer; redirects are answers ----------------------


def test_a_failing_answers_body_is_not_kept_only_its_status(settings, raw_server):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    body = b'{"internal": "db password hunter2"}'
    server = raw_server(
        [b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n" % len(body) + body]
    )
    delivery = a_delivery(f"http://127.0.0.1:{server.port}/hooks")

    deliver_webhook.delay(delivery.pk).get()

    delivery.refresh_from_db()
    assert (delivery.last_status, delivery.last_error) == (500, "HTTP 500")


def test_a_redirect_is_not_followed(settings, raw_server, hook_server):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    server = raw_server(
        [
            f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {hook_server.url}\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        ]
    )
    delivery = a_delivery(f"http://127.0.0.1:{server.port}/hooks")

    assert deliver_webhook.delay(delivery.pk).get() is False

    assert hook_server.received == []
    delivery.refresh_from_db()
    assert (delivery.last_status, delivery.last_error) == (307, "HTTP 307")
