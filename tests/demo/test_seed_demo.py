"""seed_demo: deterministic, valid demo data, the documented logins, and --if-empty.

Expected values are checked independently here (plain Python over the stored rows), never with
the generator's own helpers.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from rest_framework.authtoken.models import Token

from demo.programs import generate_programs
from demo.world import generate_world
from orders.models import Case, Conversation, Message, Order, Seller
from reviews.models import Review, Survey
from tests.factories import SellerFactory, UserFactory, aware

NOW = aware("2026-11-20 10:00")
SMALL = ["--sellers", "20", "--months", "4"]


# The demo logins are hashed like any password; a cheap hasher keeps these tests fast.
pytestmark = pytest.mark.usefixtures("fast_password_hashing")
FAST_HASHING = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(scope="module")
def fast_password_hashing():
    with FAST_HASHING:
        yield


def when_seeded(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every generated row, without database ids or bookkeeping timestamps."""
    return {
        "users": list(
            get_user_model()
            .objects.order_by("username")
            .values_list("username", "is_staff", "is_superuser", "date_joined")
        ),
        "sellers": list(
            Seller.objects.order_by("external_id").values_list(
                "external_id", "username", "display_name", "joined_at", "user__username"
            )
        ),
        "orders": list(
            Order.objects.order_by("external_id").values_list(
                "external_id",
                "seller__external_id",
                "buyer",
                "amount",
                "created_at",
                "due_at",
                "delivered_at",
                "completed_at",
                "cancelled_at",
                "cancelled_by",
                "excluded_from_metrics",
                "ship_by",
                "shipped_at",
                "tracking",
            )
        ),
        "messages": list(
            Message.objects.order_by("external_id").values_list(
                "external_id", "conversation", "seller__external_id", "buyer", "sender", "sent_at"
            )
        ),
        "reviews": list(
            Review.objects.order_by("external_id").values_list(
                "external_id", "order__external_id", "rating", "comment", "created_at"
            )
        ),
        "cases": list(
            Case.objects.order_by("external_id").values_list(
                "external_id", "order__external_id", "kind", "opened_at", "closed_at", "outcome"
            )
        ),
        "surveys": list(
            Survey.objects.order_by("external_id").values_list(
                "external_id", "order__external_id", "csat", "nps", "answered_at"
            )
        ),
        "conversations": list(
            Conversation.objects.order_by("external_id").values_list(
                "external_id", "seller__external_id", "buyer", "resolved_at"
            )
        ),
    }


def given_empty_database() -> None:
    from metrics.models import Appeal, AuditEntry, EvaluationCorrection

    AuditEntry.objects.all().delete()
    EvaluationCorrection.objects.all().delete()
    Appeal.objects.all().delete()
    Survey.objects.all().delete()
    Case.objects.all().delete()
    Conversation.objects.all().delete()
    Review.objects.all().delete()
    Message.objects.all().delete()
    Order.objects.all().delete()
    Seller.objects.all().delete()
    get_user_model().objects.all().delete()


@pytest.mark.django_db
def test_same_seed_gives_the_same_rows():
    when_seeded(*SMALL, "--seed", "7")
    first = snapshot()
    given_empty_database()

    when_seeded(*SMALL, "--seed", "7")

    assert len(first["orders"]) > 100
    assert first["cases"] and first["surveys"] and first["conversations"]
    assert snapshot() == first


def test_another_seed_gives_another_world():
    def orders(seed: int) -> list[tuple[str, str, Decimal, datetime]]:
        world = generate_world(seed=seed, sellers=20, months=4, now=NOW)
        return [(o.external_id, o.seller, o.amount, o.created_at) for o in world.orders]

    assert orders(7) != orders(8)


@pytest.mark.django_db
def test_if_empty_adds_nothing_the_second_time_but_prints_the_logins():
    when_seeded(*SMALL, "--if-empty")
    before = snapshot()

    output = when_seeded(*SMALL, "--seed", "9", "--if-empty")

    assert snapshot() == before
    assert "admin / admin-demo-pass" in output
    assert Token.objects.get(user__username="admin").key in output


def given_a_real_marketplace() -> None:
    """Real sellers, one of them named ``demo`` with its own password, and a real ``admin``."""
    SellerFactory(username="demo", user__password="the-real-demo-secret")
    SellerFactory(username="carol")
    UserFactory(username="admin", is_staff=True, is_superuser=True, password="real-admin")
    Token.objects.create(user=get_user_model().objects.get(username="admin"))


@pytest.mark.django_db
def test_if_empty_on_a_real_database_changes_no_user_and_shows_no_login():
    given_a_real_marketplace()
    users_before = list(get_user_model().objects.order_by("pk").values_list())
    real_token = Token.objects.get().key

    output = when_seeded(*SMALL, "--if-empty")

    assert "nothing seeded" in output
    assert list(get_user_model().objects.order_by("pk").values_list()) == users_before
    assert get_user_model().objects.get(username="demo").check_password("the-real-demo-secret")
    assert get_user_model().objects.get(username="admin").check_password("real-admin")
    assert Token.objects.count() == 1
    assert "admin-demo-pass" not in output and "demo-pass" not in output
    assert real_token not in output


@pytest.mark.django_db
def test_a_database_with_users_but_no_sellers_is_not_seeded():
    UserFactory(username="demo", password="mine")

    with pytest.raises(CommandError, match="not empty"):
        when_seeded(*SMALL)
    output = when_seeded(*SMALL, "--if-empty")

    assert "nothing seeded" in output
    assert not Seller.objects.exists()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["demo"]
    assert get_user_model().objects.get(username="demo").check_password("mine")


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_outside_demo_mode():
    given_empty_database()

    with override_settings(DEMO=False), pytest.raises(CommandError, match="demo mode"):
        when_seeded(*SMALL, "--if-empty")

    assert not get_user_model().objects.exists() and not Seller.objects.exists()


@pytest.mark.django_db
def test_demo_banner_shows_no_login_or_token_of_a_real_database():
    given_a_real_marketplace()
    out = StringIO()

    call_command("demo_banner", "--url", "http://127.0.0.1:8000", stdout=out)

    text = out.getvalue()
    assert "http://127.0.0.1:8000/admin/" in text
    assert "demo-pass" not in text and "admin-demo-pass" not in text
    assert Token.objects.get().key not in text


@pytest.fixture(scope="class")
def seeded_output(django_db_setup, django_db_blocker, fast_password_hashing):
    """One small world seeded (committed) for a whole test class, removed afterwards."""
    from metrics.models import GradePolicy

    with django_db_blocker.unblock():
        graces = dict(GradePolicy.objects.values_list("pk", "demotion_grace_months"))
        output = when_seeded(*SMALL)
        yield output
        given_empty_database()
        # Seeding gives the seeded policy a month of grace (demo.world): put it back, the
        # tests that follow expect the migration's policy.
        for pk, months in graces.items():
            GradePolicy.objects.filter(pk=pk).update(demotion_grace_months=months)


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded_output")
class TestOneSeededWorld:
    """Read-only checks on one small seeded world, seeded once for the class (seeding is the
    slow part) and removed afterwards."""

    def test_every_generated_row_satisfies_the_domain_rules(self):
        problems = []
        for o in Order.objects.select_related("seller"):
            stamps = [o.created_at, o.due_at, o.delivered_at, o.completed_at, o.cancelled_at]
            if any(t is not None and t.tzinfo is None for t in stamps):
                problems.append((o.external_id, "naive timestamp"))
            for name in ("due_at", "delivered_at", "completed_at", "cancelled_at"):
                value = getattr(o, name)
                if value is not None and value < o.created_at:
                    problems.append((o.external_id, f"{name} before created_at"))
            for t in (o.created_at, o.delivered_at, o.completed_at, o.cancelled_at):
                if t is not None and t > NOW:
                    problems.append((o.external_id, "in the future"))
            if o.completed_at and o.cancelled_at:
                problems.append((o.external_id, "completed and cancelled"))
            if bool(o.cancelled_at) != bool(o.cancelled_by):
                problems.append((o.external_id, "cancelled_by without cancelled_at or vice versa"))
            if o.cancelled_by not in ("", "buyer", "seller", "admin"):
                problems.append((o.external_id, "unknown cancelled_by"))
            if o.completed_at and (o.delivered_at is None or o.completed_at < o.delivered_at):
                problems.append((o.external_id, "completed without or before delivery"))
            if not (Decimal(10_000) <= o.amount <= Decimal(2_000_000)) or o.amount % 1000:
                problems.append((o.external_id, f"amount {o.amount}"))
            if o.created_at < o.seller.joined_at:
                problems.append((o.external_id, "ordered before the seller joined"))
        for r in Review.objects.select_related("order"):
            if not 1 <= r.rating <= 5:
                problems.append((r.external_id, "rating"))
            if r.order.completed_at is None or r.created_at < r.order.completed_at:
                problems.append((r.external_id, "review of an order that was not completed"))
            if r.created_at > NOW:
                problems.append((r.external_id, "in the future"))
        for m in Message.objects.all():
            if m.sender not in ("buyer", "seller") or m.sent_at > NOW or m.sent_at.tzinfo is None:
                problems.append((m.external_id, "message"))

        assert Order.objects.count() > 100
        assert Review.objects.exists() and Message.objects.exists()
        assert problems == []

    def test_every_program_row_satisfies_the_domain_rules(self):
        problems = []
        for o in Order.objects.all():
            if o.ship_by is None or o.ship_by < o.created_at:
                problems.append((o.external_id, "ship_by missing or before created_at"))
            if o.shipped_at is not None and not o.created_at <= o.shipped_at <= NOW:
                problems.append((o.external_id, "shipped_at before created_at or in the future"))
            if o.tracking and o.shipped_at is None:
                problems.append((o.external_id, "tracking without shipped_at"))
        for c in Case.objects.all():
            if c.opened_at > NOW or (c.closed_at is not None and c.closed_at > NOW):
                problems.append((c.external_id, "in the future"))
            if (c.closed_at is None) != (c.outcome == ""):
                problems.append((c.external_id, "outcome without closing or vice versa"))
            if c.closed_at is not None and c.closed_at < c.opened_at:
                problems.append((c.external_id, "closed before opened"))
        for v in Survey.objects.select_related("order"):
            if v.order.completed_at is None or not v.order.completed_at <= v.answered_at <= NOW:
                problems.append((v.external_id, "survey of an open order, or in the future"))
        threads = {
            (m.conversation, m.seller_id): m.sent_at
            for m in Message.objects.order_by("sent_at", "id")
        }
        for t in Conversation.objects.all():
            last = threads.get((t.external_id, t.seller_id))
            if last is None:
                problems.append((t.external_id, "no messages of this seller in the thread"))
            elif t.resolved_at is not None and not last <= t.resolved_at <= NOW:
                problems.append((t.external_id, "resolved before its last message or later"))
        assert problems == []
        assert Conversation.objects.count() == len({c for c, _ in threads})

    def test_seeding_creates_the_documented_logins_and_prints_them(self, seeded_output):
        users = get_user_model().objects
        admin = users.get(username="admin")
        demo_user = users.get(username="demo")
        token = Token.objects.get(user=admin)
        assert admin.is_staff and admin.is_superuser and admin.check_password("admin-demo-pass")
        assert demo_user.check_password("demo-pass") and not demo_user.is_staff
        assert Seller.objects.get(username="demo").user == demo_user
        others = Seller.objects.exclude(username="demo").select_related("user")
        assert others.count() == 19
        assert all(s.user and s.user.username == s.username for s in others)
        assert not any(s.user and s.user.has_usable_password() for s in others)
        assert "admin / admin-demo-pass" in seeded_output
        assert "demo / demo-pass" in seeded_output
        assert token.key in seeded_output

    def test_demo_banner_prints_urls_logins_and_the_staff_token(self):
        out = StringIO()

        call_command("demo_banner", "--url", "http://127.0.0.1:8000", stdout=out)

        text = out.getvalue()
        assert "http://127.0.0.1:8000/admin/" in text
        assert "http://127.0.0.1:8000/api/docs/" in text
        assert "demo / demo-pass" in text and "admin / admin-demo-pass" in text
        assert Token.objects.get(user__username="admin").key in text


def _window_facts(world: Any, cutoff: datetime) -> dict[str, dict[str, Any]]:
    """Per seller: cumulative sales/reviews and the 3-month window's rates (SPEC §4, by hand)."""
    start = aware("2026-08-01 00:00")
    orders = {o.external_id: o for o in world.orders}
    facts: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"completed": 0, "revenue": Decimal(0), "reviews": 0, "ratings": [],
                 "delivered": 0, "on_time": 0, "inquiries": 0, "answered": 0}
    )  # fmt: skip
    for o in world.orders:
        f = facts[o.seller]
        if o.completed_at and o.completed_at < cutoff:
            f["completed"] += 1
            f["revenue"] += o.amount
        if o.delivered_at and start <= o.delivered_at < cutoff:
            f["delivered"] += 1
            f["on_time"] += o.delivered_at <= o.due_at
    for r in world.reviews:
        f = facts[orders[r.order].seller]
        if r.created_at < cutoff:
            f["reviews"] += 1
        if start <= r.created_at < cutoff:
            f["ratings"].append(r.rating)
    threads = defaultdict(list)
    for m in world.messages:
        threads[m.conversation].append(m)
    for thread in threads.values():
        thread.sort(key=lambda m: m.sent_at)
        for i, m in enumerate(thread):
            if m.sender != "buyer" or (i and thread[i - 1].sender != "seller"):
                continue
            deadline = m.sent_at + timedelta(hours=24)
            if not start <= deadline < cutoff:
                continue
            reply = next((x for x in thread[i + 1 :] if x.sender == "seller"), None)
            facts[m.seller]["inquiries"] += 1
            facts[m.seller]["answered"] += bool(reply and reply.sent_at <= deadline)
    return facts


def test_default_world_has_a_master_candidate_strong_sellers_and_a_demo_close_to_level_2():
    world = generate_world(seed=42, sellers=300, months=14, now=NOW)
    cutoff = aware("2026-11-01 00:00")

    facts = _window_facts(world, cutoff)
    by_username = {s.username: facts[s.external_id] for s in world.sellers}
    top_revenue = max(by_username.values(), key=lambda f: f["revenue"])
    demo = by_username["demo"]
    strong = [f for f in by_username.values() if f["completed"] >= 100]

    assert len(world.sellers) == 300
    assert top_revenue["reviews"] >= 1300
    assert top_revenue["on_time"] * 100 >= 85 * top_revenue["delivered"]
    assert len(strong) >= 5
    assert demo["completed"] >= 15
    assert sum(demo["ratings"]) >= Decimal("4.7") * len(demo["ratings"]) > 0
    assert demo["answered"] * 100 < 90 * demo["inquiries"]


def test_default_world_has_program_data_in_realistic_shares():
    world = generate_world(seed=42, sellers=300, months=14, now=NOW)
    programs = generate_programs(world=world, seed=42)
    shipped = [d for d in programs.dispatch.values() if d.shipped_at is not None]
    late = [d for d in shipped if d.shipped_at is not None and d.shipped_at > d.ship_by]
    valid = [d for d in shipped if d.tracking == "valid"]
    completed = [o for o in world.orders if o.completed_at is not None]
    resolved = [c for c in programs.conversations if c.resolved_at is not None]
    closed = [c for c in programs.cases if c.closed_at is not None]
    csat = [v.csat for v in programs.surveys if v.csat is not None]
    nps = [v.nps for v in programs.surveys if v.nps is not None]

    assert len(shipped) >= 0.9 * len(world.orders)  # most orders shipped...
    assert 0.01 * len(shipped) <= len(late) <= 0.08 * len(shipped)  # ...a few late
    assert len(valid) >= 0.93 * len(shipped)
    assert 0.007 * len(world.orders) <= len(programs.cases) <= 0.015 * len(world.orders)
    assert {c.kind for c in programs.cases} == {"dispute", "claim", "chargeback"}
    assert {c.outcome for c in closed} == {
        "seller_resolved",
        "buyer_favour",
        "seller_favour",
        "withdrawn",
    }
    assert len(closed) < len(programs.cases)  # some still open
    assert 0.25 * len(completed) <= len(programs.surveys) <= 0.35 * len(completed)
    assert set(csat) == {1, 2, 3, 4, 5} and 0.6 * len(csat) <= csat.count(5) <= 0.9 * len(csat)
    promoters = sum(n >= 9 for n in nps)
    detractors = sum(n <= 6 for n in nps)
    assert 0.3 * len(nps) <= promoters - detractors <= 0.8 * len(nps)
    assert len(programs.conversations) == len({m.conversation for m in world.messages})
    assert 0.85 * len(programs.conversations) <= len(resolved) <= 0.95 * len(programs.conversations)


def test_the_demo_world_has_open_appeals_of_late_orders_the_demo_seller_included(db):
    from metrics.models import Appeal

    given_empty_database()
    when_seeded(*SMALL)
    appeals = list(Appeal.objects.select_related("order", "seller"))
    assert appeals and all(a.status == "open" for a in appeals)
    assert any(a.seller.username == "demo" for a in appeals)
    assert all(
        a.order.delivered_at is not None
        and a.order.due_at is not None
        and a.order.delivered_at > a.order.due_at
        for a in appeals
    )
