"""The demo world's program data (SPEC §2 additions): dispatch fields, cases, surveys and
conversations, so the program and customer-success metrics have something to show.

``generate_programs`` is pure: from a generated ``World`` and a seed it derives every row with
its own ``random.Random``, walking the world's rows in their (deterministic) order, so the same
world and seed always give the same rows. ``seed_programs`` writes them into a database that
already holds the world (``demo.world.seed_demo`` calls it once, in the seeding transaction).
It reads the world through ``WorldLike`` rather than importing ``demo.world``, which imports it.

Shares (believable, not uniform):
* dispatch: every delivered order was shipped, promised 1-3 days after it was placed; most ship
  on time, a few percent late (more for the late and bad sellers); the carrier accepts ~96 % of
  tracking ids (a few are invalid, a few unknown);
* cases on about 1 % of orders (three times as often for late and bad sellers, half as often for
  the best), mostly disputes and claims, a few chargebacks; most are closed, with mixed
  outcomes;
* surveys on about 30 % of completed orders; CSAT follows the seller's rating profile and NPS
  follows CSAT (a five mostly gives a promoter's 9-10); most ask both, some only one;
* conversations: one row per thread, resolved for about nine threads in ten, within minutes to
  two days after its last message.

Nothing is at or after ``world.now``; every row satisfies the database's check constraints.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import connection

from orders.models import Case, CaseKind, CaseOutcome, Conversation, Order, Seller, Tracking
from reviews.models import Survey

# Rows per INSERT/UPDATE, as demo/world.py measured for its inserts.
BATCH_SIZE = 1000
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Derives this module's random stream from the world's seed without repeating the world's.
SEED_SALT = 7919

CASE_SHARE = 0.012
SURVEY_SHARE = 0.30
RESOLVED_SHARE = 0.90
# By ``demo.world.Archetype`` (a StrEnum: its members equal these strings).
_CASE_FACTOR = {"late": 3.0, "bad": 3.0, "top": 0.5, "veteran": 0.5}
_KINDS = (CaseKind.DISPUTE.value, CaseKind.CLAIM.value, CaseKind.CHARGEBACK.value)
_KIND_WEIGHTS = (50, 35, 15)
_OUTCOMES = (
    CaseOutcome.SELLER_RESOLVED.value,
    CaseOutcome.BUYER_FAVOUR.value,
    CaseOutcome.SELLER_FAVOUR.value,
    CaseOutcome.WITHDRAWN.value,
)
_OUTCOME_WEIGHTS = (45, 25, 15, 15)
# NPS (0-10) weights given the CSAT answer: satisfied buyers mostly recommend.
_NPS_GIVEN_CSAT = {
    5: (0, 0, 0, 0, 0, 0, 1, 3, 10, 30, 56),
    4: (0, 0, 0, 1, 1, 3, 6, 20, 35, 24, 10),
    3: (1, 1, 3, 6, 10, 20, 25, 20, 10, 3, 1),
    2: (10, 12, 18, 20, 15, 12, 8, 3, 2, 0, 0),
    1: (35, 20, 15, 10, 8, 6, 3, 2, 1, 0, 0),
}


class WorldLike(Protocol):
    """What is read of ``demo.world.World``: its clock and its rows, in generation order."""

    @property
    def now(self) -> datetime: ...
    @property
    def sellers(self) -> Sequence[Any]: ...
    @property
    def orders(self) -> Sequence[Any]: ...
    @property
    def messages(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class Dispatch:
    ship_by: datetime
    shipped_at: datetime | None
    tracking: str


@dataclass(frozen=True)
class CaseRow:
    external_id: str
    order: str
    kind: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str


@dataclass(frozen=True)
class SurveyRow:
    external_id: str
    order: str
    csat: int | None
    nps: int | None
    answered_at: datetime


@dataclass(frozen=True)
class ConversationRow:
    external_id: str
    seller: str
    buyer: str
    resolved_at: datetime | None


@dataclass
class Programs:
    dispatch: dict[str, Dispatch] = field(default_factory=dict)  # by order external id
    cases: list[CaseRow] = field(default_factory=list)
    surveys: list[SurveyRow] = field(default_factory=list)
    conversations: list[ConversationRow] = field(default_factory=list)


def generate_programs(*, world: WorldLike, seed: int) -> Programs:
    """Every dispatch, case, survey and conversation row of ``world`` (no database)."""
    rng = random.Random(seed * SEED_SALT + 1)  # noqa: S311 - demo data, reproducible by design
    now = world.now
    profiles = {s.external_id: s.profile for s in world.sellers}
    programs = Programs()
    for order in world.orders:
        profile = profiles[order.seller]
        ship_by = order.created_at + rng.choice((1, 2, 2, 3)) * DAY
        shipped_at: datetime | None = None
        tracking = ""
        if order.delivered_at is not None:
            late = rng.random() < 0.02 + profile.late_prob / 3
            if late:
                shipped_at = ship_by + rng.uniform(2, 72) * HOUR
            else:
                shipped_at = order.created_at + (ship_by - order.created_at) * rng.uniform(0.2, 1)
            if shipped_at >= now:
                shipped_at = None
            else:
                tracking = rng.choices(
                    (Tracking.VALID.value, Tracking.INVALID.value, ""), weights=(96, 3, 1)
                )[0]
        programs.dispatch[order.external_id] = Dispatch(ship_by, shipped_at, tracking)

        if rng.random() < CASE_SHARE * _CASE_FACTOR.get(profile.archetype, 1.0):
            opened = (order.delivered_at or order.created_at) + rng.uniform(1, 240) * HOUR
            if opened < now:
                kind = rng.choices(_KINDS, weights=_KIND_WEIGHTS)[0]
                closed: datetime | None = opened + rng.uniform(6, 504) * HOUR
                outcome = rng.choices(_OUTCOMES, weights=_OUTCOME_WEIGHTS)[0]
                if rng.random() >= 0.85 or closed is None or closed >= now:
                    closed, outcome = None, ""  # still open
                programs.cases.append(
                    CaseRow(
                        f"k-{len(programs.cases) + 1:07d}",
                        order.external_id,
                        kind,
                        opened,
                        closed,
                        outcome,
                    )
                )

        if order.completed_at is not None and rng.random() < SURVEY_SHARE:
            answered = order.completed_at + rng.uniform(0.5, 72) * HOUR
            if answered < now:
                csat = rng.choices((1, 2, 3, 4, 5), weights=profile.rating_weights)[0]
                nps = rng.choices(range(11), weights=_NPS_GIVEN_CSAT[csat])[0]
                asked = rng.random()
                programs.surveys.append(
                    SurveyRow(
                        f"v-{len(programs.surveys) + 1:07d}",
                        order.external_id,
                        csat if asked < 0.9 else None,  # 80 % both, 10 % CSAT only, 10 % NPS only
                        nps if asked < 0.8 or asked >= 0.9 else None,
                        answered,
                    )
                )

    threads: dict[str, tuple[str, str, datetime]] = {}
    for message in world.messages:
        last = threads.get(message.conversation)
        if last is None or message.sent_at > last[2]:
            threads[message.conversation] = (message.seller, message.buyer, message.sent_at)
    for conversation in sorted(threads):
        seller, buyer, last_sent = threads[conversation]
        resolved: datetime | None = None
        if rng.random() < RESOLVED_SHARE:
            resolved = last_sent + rng.lognormvariate(1.5, 1.2) * HOUR
            resolved = min(resolved, last_sent + 48 * HOUR)
            if resolved >= now:
                resolved = None
        programs.conversations.append(ConversationRow(conversation, seller, buyer, resolved))
    return programs


def _write_dispatch(dispatch: dict[str, Dispatch], *, order_ids: dict[str, int]) -> None:
    """One parameterised UPDATE per order, sent with ``executemany``: measured on SQLite for the
    default world (15,000 orders), ``bulk_update``'s CASE statements took ~17 s, this ~0.3 s."""
    table = connection.ops.quote_name(Order._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (adapt(d.ship_by), adapt(d.shipped_at), d.tracking, order_ids[external_id])
        for external_id, d in dispatch.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET ship_by = %s, shipped_at = %s, tracking = %s WHERE id = %s",  # noqa: S608 - the table name is the model's
            rows,
        )


def seed_programs(*, world: WorldLike, seed: int) -> Programs:
    """Write the program rows of a world already stored (dispatch fields updated in batches)."""
    programs = generate_programs(world=world, seed=seed)
    order_ids = dict(
        Order.objects.filter(external_id__in=programs.dispatch).values_list("external_id", "id")
    )
    _write_dispatch(programs.dispatch, order_ids=order_ids)
    Case.objects.bulk_create(
        (
            Case(
                external_id=c.external_id,
                order_id=order_ids[c.order],
                kind=c.kind,
                opened_at=c.opened_at,
                closed_at=c.closed_at,
                outcome=c.outcome,
            )
            for c in programs.cases
        ),
        batch_size=BATCH_SIZE,
    )
    Survey.objects.bulk_create(
        (
            Survey(
                external_id=s.external_id,
                order_id=order_ids[s.order],
                csat=s.csat,
                nps=s.nps,
                answered_at=s.answered_at,
            )
            for s in programs.surveys
        ),
        batch_size=BATCH_SIZE,
    )
    seller_ids = dict(Seller.objects.values_list("external_id", "id"))
    Conversation.objects.bulk_create(
        (
            Conversation(
                external_id=c.external_id,
                seller_id=seller_ids[c.seller],
                buyer=c.buyer,
                resolved_at=c.resolved_at,
            )
            for c in programs.conversations
        ),
        batch_size=BATCH_SIZE,
    )
    return programs
