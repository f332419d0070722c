"""The benchmark's marketplace: 24 months of sellers, orders, messages and reviews.

Set-based and deterministic. A seller plan (one row per seller: how many orders and messages,
when it joined, how good it is) is computed in Python and COPYed in; every order, message and
review is then made by ``INSERT … SELECT … generate_series`` in PostgreSQL. Randomness is
``hashint8extended(key, stream)``, a pure function of the row's number: unlike ``setseed`` +
``random()`` it does not depend on the plan or the order rows are evaluated in, so the same
scale and period always give the same rows.

Shape (SPEC §2, like a real marketplace): Zipf-like seller sizes, weight ``(rank + 1.95) ^ -0.97``
(fitted so that at scale S the top seller has ≈ 36k orders and ≈ 107k messages and the median
seller ≈ 27 orders); 1.5 % of sellers never sold anything; orders ≈ 85 % completed, ≈ 8 %
cancelled (buyer 55 % / seller 30 % / admin 15 %, a quarter of them after delivery), the rest in
progress or delivered; ≈ 7 % of deliveries late, 5 % without a deadline, 0.5 % excluded from
metrics; buyers drawn from a per-seller pool with a skew, so buyers come back; conversations of
a few messages, mostly alternating, sometimes two in a row, replies from seconds to two days,
some never answered; reviews on completed orders only, after completion, mostly 5 stars.
Sellers differ in quality (lateness, cancellations, replies, ratings), so every level is
reached. Activity grows over time and runs 14 days past the cutoff (data the metrics must
ignore). A handful of hand-made "edge" sellers put rows exactly on every boundary of SPEC §3–4
(deadline = window start, reply at the cutoff, delivered at the deadline, tied revenue, ...).

The load runs in one transaction with the secondary indexes and foreign keys of the three big
tables dropped and rebuilt at the end (bulk index builds, one validation query per foreign key):
an interrupted load leaves the previous data and schema untouched.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg2
from psycopg2.extras import execute_values

from .common import ROOT, Period, Policy, Scale, say, stopwatch

GENERATOR_VERSION = 3  # bump when the data changes: kept databases are regenerated
SEED = 20261101
MONTHS = 24
AFTER_CUTOFF = timedelta(days=14)
ZIPF_EXPONENT = 0.97
ZIPF_OFFSET = 1.95
INACTIVE_SHARE = 0.015
MESSAGES_PER_CONVERSATION = 5.5
BIG_TABLES = ("reviews_review", "orders_message", "orders_order")
PROGRAM_TABLES = ("orders_case", "reviews_survey", "orders_conversation")
US = timedelta(microseconds=1)


def U(key: str, stream: int) -> str:  # noqa: N802 - reads like the maths
    """SQL for a uniform double in [0, 1) that depends only on ``key`` and ``stream``."""
    return (
        f"(((hashint8extended(({key})::bigint, {SEED * 100 + stream}) >> 11)"
        " & 9007199254740991)::float8 / 9007199254740992.0)"
    )


def buyer_sql(seller_no: str, pool: str, u: str) -> str:
    """A buyer from the seller's pool (skewed: low indexes come back often), as a global id:
    pools of different sellers overlap, as buyers do on a marketplace."""
    index = f"floor({pool} * pow({u}, 1.8))::bigint"
    return f"'B' || lpad(mod({seller_no}::bigint * 7919 + {index}, %(buyers)s)::text, 7, '0')"


@dataclass(frozen=True)
class PlanRow:
    seller_no: int
    external_id: str
    display_name: str
    joined_at: datetime
    t0: datetime  # first possible activity: max(joined_at, start of the 24 months)
    quality: float
    n_orders: int
    order_offset: int
    n_messages: int
    message_offset: int
    n_conversations: int
    conversation_offset: int
    pool: int


@dataclass(frozen=True)
class Bounds:
    cutoff: datetime
    window_start: datetime  # where the edge cases are put (the 3-month default if all-time)
    response: timedelta
    start: datetime  # first activity: 24 months before the cutoff
    end: datetime  # last activity: AFTER_CUTOFF past the cutoff

    @classmethod
    def of(cls, period: Period, policy: Policy) -> Bounds:
        window_start = policy.window_start(period) or period.shifted(-2).start
        return cls(
            cutoff=period.cutoff,
            window_start=window_start,
            response=timedelta(hours=policy.response_window_hours),
            start=period.shifted(1 - MONTHS).start,
            end=period.cutoff + AFTER_CUTOFF,
        )


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` exactly (largest remainder)."""
    weight_sum = sum(weights)
    raw = [total * w / weight_sum for w in weights]
    counts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


EDGE_SELLERS = (
    "E-messages",
    "E-orders",
    "E-repeat",
    "E-tie-a",
    "E-tie-b",
    "E-zero",
    "E-joined-at-cutoff",
    "E-joined-just-before",
    "E-tenure-10",
)


def seller_plan(*, scale: Scale, bounds: Bounds) -> list[PlanRow]:
    rng = random.Random(SEED)
    n_inactive = max(2, round(scale.sellers * INACTIVE_SHARE))
    n_active = scale.sellers - n_inactive - len(EDGE_SELLERS)
    weights = [(rank + ZIPF_OFFSET) ** -ZIPF_EXPONENT for rank in range(1, n_active + 1)]
    orders = allocate(scale.orders, weights)
    # Messages follow orders, with some sellers chattier than others (not the top one).
    noise = [1.0] + [math.exp(rng.gauss(0, 0.25)) for _ in range(n_active - 1)]
    messages = allocate(scale.messages, [w * f for w, f in zip(weights, noise, strict=True)])
    numbers = list(range(1, n_active + n_inactive + 1))
    rng.shuffle(numbers)  # the biggest seller is not seller 1
    top = max(5, n_active // 100)
    span = bounds.cutoff - timedelta(days=60) - bounds.start

    rows: list[PlanRow] = []
    offsets = {"order": 0, "message": 0, "conversation": 0}

    def add(
        *,
        no: int,
        external_id: str,
        name: str,
        joined_at: datetime,
        quality: float,
        n_orders: int = 0,
        n_messages: int = 0,
    ) -> None:
        n_conversations = max(1, round(n_messages / MESSAGES_PER_CONVERSATION)) if n_messages else 0
        rows.append(
            PlanRow(
                seller_no=no,
                external_id=external_id,
                display_name=name,
                joined_at=joined_at,
                t0=max(joined_at, bounds.start),
                quality=quality,
                n_orders=n_orders,
                order_offset=offsets["order"],
                n_messages=n_messages,
                message_offset=offsets["message"],
                n_conversations=n_conversations,
                conversation_offset=offsets["conversation"],
                pool=max(1, math.ceil(n_orders * 0.7)),
            )
        )
        offsets["order"] += n_orders
        offsets["message"] += n_messages
        offsets["conversation"] += n_conversations

    for rank in range(1, n_active + 1):
        no = numbers[rank - 1]
        if rank <= top or rng.random() < 0.7:
            joined = bounds.start - timedelta(seconds=rng.uniform(0, 4 * 365 * 86400))
        else:
            joined = bounds.start + span * rng.random()
        quality = 0.6 + 0.4 * rng.random() if rank <= top else rng.random() ** 0.6
        add(
            no=no,
            external_id=f"S{no:06d}",
            name=f"Seller {no} (rank {rank})",
            joined_at=joined,
            quality=quality,
            n_orders=orders[rank - 1],
            n_messages=messages[rank - 1],
        )
    for i in range(n_inactive):
        no = numbers[n_active + i]
        if i % 5 == 0:  # joined after the cutoff: tenure 0, nothing before the cutoff
            joined = bounds.cutoff + timedelta(seconds=rng.uniform(0, 30 * 86400))
        else:
            joined = bounds.start + (bounds.cutoff - bounds.start) * rng.random()
        add(no=no, external_id=f"S{no:06d}", name=f"Seller {no} (inactive)", joined_at=joined,
            quality=rng.random())  # fmt: skip
    joined_edge = {
        "E-joined-at-cutoff": bounds.cutoff,
        "E-joined-just-before": bounds.cutoff - US,
        "E-tenure-10": bounds.cutoff - timedelta(days=10),
        "E-tie-b": bounds.cutoff - timedelta(days=10) - US,
    }
    for i, name in enumerate(EDGE_SELLERS):
        add(
            no=n_active + n_inactive + 1 + i,
            external_id=name,
            name=f"Edge case {name}",
            joined_at=joined_edge.get(name, bounds.start - timedelta(days=100)),
            quality=0.5,
        )
    return rows


def copy_plan(cursor: Any, plan: Sequence[PlanRow]) -> None:
    cursor.execute(
        """
        CREATE TEMP TABLE bench_plan (
            seller_no int PRIMARY KEY, external_id text, display_name text,
            joined_at timestamptz, t0 timestamptz, quality float8,
            n_orders int, order_offset bigint, n_messages int, message_offset bigint,
            n_conversations int, conversation_offset bigint, pool int, seller_id bigint
        ) ON COMMIT DROP
        """
    )
    buffer = io.StringIO()
    for r in plan:
        buffer.write(
            f"{r.seller_no}\t{r.external_id}\t{r.display_name}\t{r.joined_at.isoformat()}\t"
            f"{r.t0.isoformat()}\t{r.quality!r}\t{r.n_orders}\t{r.order_offset}\t"
            f"{r.n_messages}\t{r.message_offset}\t{r.n_conversations}\t"
            f"{r.conversation_offset}\t{r.pool}\t\\N\n"
        )
    buffer.seek(0)
    cursor.copy_expert("COPY bench_plan FROM STDIN", buffer)


SELLERS_SQL = """
INSERT INTO orders_seller (external_id, username, display_name, joined_at, user_id, created,
                           modified)
SELECT external_id, lower(external_id), display_name, joined_at, NULL, %(now)s, %(now)s
FROM bench_plan ORDER BY seller_no;
UPDATE bench_plan p SET seller_id = s.id FROM orders_seller s WHERE s.external_id = p.external_id;
ANALYZE bench_plan;
"""

ORDERS_SQL = f"""
WITH base AS (
    SELECT p.seller_id, p.seller_no, p.quality AS q, p.pool, p.order_offset + g.k AS n,
           p.t0 + (%(end)s::timestamptz - p.t0) * sqrt({U("p.order_offset + g.k", 1)})
               AS created_at  -- sqrt: activity grows over the 24 months
    FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.n_orders) AS g(k)
    WHERE p.n_orders > 0
), shaped AS (
    SELECT b.*,
           CASE WHEN {U("b.n", 2)} < 0.05 THEN NULL
                ELSE b.created_at + (1 + floor({U("b.n", 3)} * 14)) * interval '1 day'
           END AS due_at,
           {U("b.n", 4)} AS r_outcome,
           0.06 + 0.08 * (1 - b.q) AS p_cancel
    FROM base b
), planned AS (
    SELECT s.*,
           CASE
               WHEN s.due_at IS NOT NULL AND {U("s.n", 6)} < 0.03 THEN s.due_at  -- at the deadline
               WHEN s.due_at IS NULL
                   THEN s.created_at + (0.5 + 9.5 * {U("s.n", 7)}) * interval '1 day'
               WHEN {U("s.n", 5)} < 0.80 + 0.18 * s.q  -- on time
                   THEN s.created_at + (s.due_at - s.created_at) * (0.25 + 0.75 * {U("s.n", 7)})
               ELSE s.due_at + interval '1 microsecond'  -- late, by up to 0.6 of the lead time
                    + (s.due_at - s.created_at) * 0.6 * {U("s.n", 7)}
           END AS delivery,
           CASE WHEN s.r_outcome < s.p_cancel THEN 'cancelled'
                WHEN s.r_outcome < s.p_cancel + 0.07 THEN 'open'
                ELSE 'completed' END AS outcome,
           {U("s.n", 9)} < CASE WHEN s.r_outcome < s.p_cancel THEN 0.25 ELSE 0.5 END AS delivered
    FROM shaped s
), amounts AS (
    SELECT pl.*,
           exp(ln(60000) + 0.9 * sqrt(-2 * ln(1 - {U("pl.n", 15)}))
               * cos(2 * pi() * {U("pl.n", 16)})) AS raw_amount
    FROM planned pl
), final AS (
    SELECT a.n, a.seller_id,
           {buyer_sql("a.seller_no", "a.pool", U("a.n", 14))} AS buyer,
           CASE WHEN {U("a.n", 13)} < 0.002 THEN 0
                WHEN {U("a.n", 17)} < 0.01 THEN round(a.raw_amount)
                ELSE round(a.raw_amount / 1000) * 1000 END AS amount,
           a.created_at, a.due_at,
           CASE WHEN a.outcome = 'completed' OR a.delivered THEN a.delivery END AS delivered_at,
           CASE WHEN a.outcome <> 'completed' THEN NULL
                WHEN {U("a.n", 8)} < 0.02 THEN a.delivery
                ELSE a.delivery + pow({U("a.n", 10)}, 2) * interval '7 days' END AS completed_at,
           CASE WHEN a.outcome <> 'cancelled' THEN NULL
                WHEN a.delivered THEN a.delivery + {U("a.n", 10)} * interval '3 days'
                ELSE a.created_at + pow({U("a.n", 10)}, 2) * interval '10 days'
           END AS cancelled_at,
           CASE WHEN a.outcome <> 'cancelled' THEN ''
                WHEN {U("a.n", 11)} < 0.55 THEN 'buyer'
                WHEN {U("a.n", 11)} < 0.85 THEN 'seller'
                ELSE 'admin' END AS cancelled_by,
           {U("a.n", 12)} < 0.005 AS excluded,
           a.outcome, a.delivered AS was_delivered, a.q
    FROM amounts a
), shipping AS (
    -- Dispatch fields on 70 %% of orders (goods): ship_by 1-3 days after creation; shipped on
    -- time mostly (some exactly at ship_by), ≈ 4 %% late (some by one microsecond), ≈ 1 %%
    -- never; orders cancelled before delivery are not shipped. Tracking: ≈ 95 %% valid.
    SELECT f.*,
           CASE WHEN {U("f.n", 20)} < 0.70
                     -- an order cancelled before delivery mostly never reached dispatch
                     AND NOT (f.outcome = 'cancelled' AND NOT f.was_delivered
                              AND {U("f.n", 25)} < 0.8)
                THEN f.created_at + (1 + floor({U("f.n", 21)} * 3)) * interval '1 day'
           END AS ship_by,
           {U("f.n", 22)} AS r_ship, {U("f.n", 23)} AS v_ship, {U("f.n", 24)} AS r_tracking
    FROM final f
), shipped AS (
    SELECT sh.*,
           CASE WHEN sh.ship_by IS NULL OR (sh.outcome = 'cancelled' AND NOT sh.was_delivered)
                     OR sh.r_ship < 0.01 THEN NULL
                WHEN sh.r_ship < 0.03 THEN sh.ship_by  -- exactly at ship_by: on time
                WHEN sh.r_ship < 0.035 THEN sh.ship_by + interval '1 microsecond'
                WHEN sh.r_ship < 0.03 + 0.06 * (1 - sh.q)  -- late, up to two days
                    THEN sh.ship_by + sh.v_ship * interval '2 days'
                ELSE sh.created_at + (sh.ship_by - sh.created_at) * sh.v_ship
           END AS shipped_at
    FROM shipping sh
)
INSERT INTO orders_order (external_id, seller_id, buyer, amount, currency, created_at, due_at,
                          delivered_at, completed_at, cancelled_at, cancelled_by,
                          excluded_from_metrics, ship_by, shipped_at, tracking, created,
                          modified)
SELECT 'O' || lpad(n::text, 9, '0'), seller_id, buyer, amount, 'KRW', created_at, due_at,
       delivered_at, completed_at, cancelled_at, cancelled_by, excluded, ship_by, shipped_at,
       CASE WHEN shipped_at IS NULL THEN ''
            WHEN r_tracking < 0.95 THEN 'valid'
            WHEN r_tracking < 0.98 THEN 'invalid'
            ELSE '' END,
       %(now)s, %(now)s
FROM shipped
ORDER BY created_at, n  -- ingested as it happened: one seller's rows spread over the table
"""  # noqa: S608 - built from constant fragments, no input


def sender_sql(ck: str, pos: str, length: str | None = None) -> str:
    """Sender of message ``pos`` of conversation ``ck``: mostly alternating buyer/seller, 8 %
    flipped (two in a row); 3 % of conversations opened by the seller; the last message mostly
    the seller's (given ``length``), depending on the seller's quality ``q``. A pure function
    of (ck, pos), so the previous message's sender needs no window function."""
    last = (
        f"WHEN {pos} = {length} AND {U(ck, 47)} < 0.75 + 0.24 * q THEN 'seller'" if length else ""
    )
    return f"""CASE WHEN {pos} = 1 THEN
                CASE WHEN {U(ck, 43)} < 0.03 THEN 'seller' ELSE 'buyer' END
            {last}
            WHEN (mod({pos}, 2) = 0) <> ({U(f"{ck} * 4096 + {pos}", 44)} < 0.08)
                THEN 'seller' ELSE 'buyer' END"""


MESSAGES_SQL = f"""
WITH assigned AS (
    SELECT p.seller_id, p.seller_no, p.quality AS q, p.pool, p.t0,
           p.message_offset + g.k AS m,
           -- skewed: a few long conversations, many short ones
           p.conversation_offset
               + floor(p.n_conversations * pow({U("p.message_offset + g.k", 40)}, 1.3))::bigint
               AS ck
    FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.n_messages) AS g(k)
    WHERE p.n_messages > 0
), keyed AS (
    SELECT a.*, {U("a.m", 41)} AS shuffle FROM assigned a
), positioned AS (
    SELECT k.*, row_number() OVER (PARTITION BY k.ck ORDER BY k.shuffle, k.m) AS pos,
           count(*) OVER (PARTITION BY k.ck) AS conv_length
    FROM keyed k
), sendered AS (
    SELECT x.*, {sender_sql("x.ck", "x.pos", "x.conv_length")} AS sender,
           {sender_sql("x.ck", "x.pos - 1")} AS prev_sender,
           {U("x.ck * 4096 + x.pos", 45)} AS r, {U("x.ck * 4096 + x.pos", 46)} AS v
    FROM positioned x
), gapped AS (
    SELECT s.*,
           CASE
               WHEN s.pos = 1 THEN interval '0'
               WHEN s.prev_sender = 'buyer' AND s.sender = 'seller' THEN  -- a reply
                   CASE WHEN s.r < 0.01 THEN interval '0'  -- the same instant
                        WHEN s.r < 0.02 THEN %(response)s::interval  -- exactly at the deadline
                        WHEN s.r < 0.025  -- one microsecond late
                            THEN %(response)s::interval + interval '1 microsecond'
                        WHEN s.r < 0.65 + 0.33 * s.q THEN pow(s.v, 3) * interval '6 hours'
                        ELSE interval '6 hours' + s.v * interval '42 hours' END
               WHEN s.prev_sender = 'seller' AND s.sender = 'buyer'
                   THEN interval '30 seconds' + pow(s.v, 2) * interval '72 hours'
               ELSE s.v * interval '3 hours'  -- a second message in a row
           END AS gap
    FROM sendered s
), timed AS (
    SELECT gp.*,
           gp.t0 + (%(end)s::timestamptz - gp.t0) * sqrt({U("gp.ck", 50)})
               + sum(gp.gap) OVER (PARTITION BY gp.ck ORDER BY gp.shuffle, gp.m) AS sent_at
    FROM gapped gp
)
INSERT INTO orders_message (external_id, conversation, seller_id, buyer, sender, sent_at,
                            created)
SELECT 'M' || lpad(m::text, 10, '0'), 'C' || lpad(ck::text, 9, '0'), seller_id,
       {buyer_sql("seller_no", "pool", U("ck", 51))}, sender, sent_at, %(now)s
FROM timed
ORDER BY sent_at, {U("m", 42)}  -- ingested as sent; ties in random insertion order
"""  # noqa: S608 - built from constant fragments, no input

REVIEWS_SQL = f"""
WITH chosen AS (
    SELECT o.id, o.completed_at,
           p.quality - CASE WHEN o.delivered_at > o.due_at THEN 0.3 ELSE 0 END AS q
    FROM orders_order o JOIN bench_plan p ON p.seller_id = o.seller_id
    WHERE o.completed_at IS NOT NULL
    ORDER BY {U("o.id", 60)}
    LIMIT %(reviews)s
), rated AS (
    SELECT c.*, {U("c.id", 62)} AS r,
           0.01 + 0.06 * pow(1 - c.q, 2) AS p1, 0.01 + 0.05 * pow(1 - c.q, 2) AS p2,
           0.02 + 0.06 * (1 - c.q) AS p3, 0.10 + 0.08 * (1 - c.q) AS p4
    FROM chosen c
)
INSERT INTO reviews_review (external_id, order_id, rating, comment, created_at, created,
                            modified)
SELECT 'R' || lpad(id::text, 9, '0'), id,
       CASE WHEN r < p1 THEN 1 WHEN r < p1 + p2 THEN 2 WHEN r < p1 + p2 + p3 THEN 3
            WHEN r < p1 + p2 + p3 + p4 THEN 4 ELSE 5 END,
       '',
       completed_at + interval '1 minute' + pow({U("id", 61)}, 2) * interval '14 days',
       %(now)s, %(now)s
FROM rated
ORDER BY 5, 1
"""  # noqa: S608 - built from constant fragments, no input


# About 1 % of orders get a case (a few two), opened within three weeks of the order; 80 % of
# them closed within ten days, with every outcome.
CASES_SQL = f"""
WITH chosen AS (
    SELECT o.id, o.created_at, g.k, o.id * 4 + g.k AS key
    FROM orders_order o
    CROSS JOIN LATERAL generate_series(1, CASE WHEN {U("o.id", 71)} < 0.1 THEN 2 ELSE 1 END)
        AS g(k)
    WHERE {U("o.id", 70)} < 0.01
), shaped AS (
    SELECT c.*, c.created_at + {U("c.key", 72)} * interval '21 days' AS opened_at,
           {U("c.key", 73)} AS r_kind, {U("c.key", 74)} AS r_closed, {U("c.key", 75)} AS v_closed,
           {U("c.key", 76)} AS r_outcome
    FROM chosen c
)
INSERT INTO orders_case (external_id, order_id, kind, opened_at, closed_at, outcome, created,
                         modified)
SELECT 'K' || lpad(id::text, 9, '0') || '-' || k, id,
       CASE WHEN r_kind < 0.5 THEN 'dispute' WHEN r_kind < 0.85 THEN 'claim'
            ELSE 'chargeback' END,
       opened_at,
       CASE WHEN r_closed < 0.8 THEN opened_at + v_closed * interval '10 days' END,
       CASE WHEN r_closed >= 0.8 THEN ''
            WHEN r_outcome < 0.4 THEN 'seller_resolved'
            WHEN r_outcome < 0.65 THEN 'buyer_favour'
            WHEN r_outcome < 0.85 THEN 'seller_favour'
            ELSE 'withdrawn' END,
       %(now)s, %(now)s
FROM shaped
ORDER BY opened_at, id, k
"""  # noqa: S608 - built from constant fragments, no input

# Surveys on about 30 % of completed orders, answered within a week: CSAT only, NPS only, or
# both; better sellers are rated higher.
SURVEYS_SQL = f"""
WITH chosen AS (
    SELECT o.id, o.completed_at, p.quality AS q, {U("o.id", 81)} AS r_which,
           {U("o.id", 82)} AS r_csat, {U("o.id", 83)} AS r_nps
    FROM orders_order o JOIN bench_plan p ON p.seller_id = o.seller_id
    WHERE o.completed_at IS NOT NULL AND {U("o.id", 80)} < 0.30
)
INSERT INTO reviews_survey (external_id, order_id, csat, nps, answered_at, created, modified)
SELECT 'V' || lpad(id::text, 9, '0'), id,
       CASE WHEN r_which < 0.2 THEN NULL
            ELSE least(5, 1 + floor(pow(r_csat, 0.6 - 0.4 * q) * 5))::int END,
       CASE WHEN r_which >= 0.2 AND r_which < 0.4 THEN NULL
            ELSE least(10, floor(pow(r_nps, 0.7 - 0.5 * q) * 11))::int END,
       completed_at + {U("id", 84)} * interval '7 days',
       %(now)s, %(now)s
FROM chosen
ORDER BY 5, 1
"""  # noqa: S608 - built from constant fragments, no input

# One conversation row for most threads (90 %): resolved for 85 % of them, within two days of
# the last message (0.5 % exactly at the first message: not counted), the rest still open.
CONVERSATIONS_SQL = f"""
WITH threads AS (
    SELECT m.seller_id, m.conversation, min(m.buyer) AS buyer, min(m.sent_at) AS first_at,
           max(m.sent_at) AS last_at, min(m.id) AS key
    FROM orders_message m
    GROUP BY m.seller_id, m.conversation
)
INSERT INTO orders_conversation (external_id, seller_id, buyer, resolved_at, created, modified)
SELECT conversation, seller_id, buyer,
       CASE WHEN {U("key", 91)} < 0.005 THEN first_at
            WHEN {U("key", 91)} < 0.85 THEN last_at + {U("key", 92)} * interval '2 days'
       END,
       %(now)s, %(now)s
FROM threads
WHERE {U("key", 90)} < 0.90
ORDER BY key
"""  # noqa: S608 - built from constant fragments, no input


def edge_rows(b: Bounds) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[Any]]:
    """Hand-made rows on the boundaries of SPEC §3–4, relative to the benchmark's window.

    Returns (messages, orders, reviews). Messages are inserted in list order: ties on
    ``sent_at`` are broken by insertion order (SPEC §4), and two cases rely on it.
    """
    ws, c, h = b.window_start, b.cutoff, b.response
    lo = ws - h  # sent here, an inquiry's deadline is the window start
    day, hour, minute = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
    conversations: list[tuple[str, list[tuple[str, datetime]]]] = [
        ("a", [("buyer", lo), ("seller", ws)]),  # deadline = window start; reply at deadline
        ("b", [("buyer", c - h), ("seller", c - h + minute)]),  # deadline = cutoff: out
        ("c", [("buyer", c - h - US), ("seller", c)]),  # in; reply at the cutoff: unanswered
        ("d", [("buyer", lo - US), ("seller", lo + hour)]),  # deadline just before: out
        ("e", [("seller", lo - day), ("buyer", lo + hour), ("seller", lo + hour + h + US)]),
        ("f", [("buyer", lo - 2 * hour), ("buyer", lo + hour), ("seller", lo + 2 * hour)]),
        # same instant, seller inserted first: the buyer message follows a seller one
        ("g", [("seller", ws + 10 * day), ("buyer", ws + 10 * day),
               ("seller", ws + 10 * day + 30 * minute)]),
        ("h", [("buyer", ws + 20 * day), ("seller", ws + 20 * day)]),  # answered in 0 min
        ("i", [("buyer", ws + 30 * day), ("buyer", ws + 30 * day + hour),
               ("seller", ws + 30 * day + 2 * hour)]),
        ("j", [("buyer", ws + 40 * day)]),  # never answered
        ("k", [("buyer", c - 2 * hour), ("seller", c + hour)]),  # deadline after the cutoff
        ("l", [("buyer", ws + 50 * day),
               ("seller", ws + 50 * day + 45 * minute + timedelta(seconds=0.5))]),
    ]  # fmt: skip
    messages = [
        ("E-messages", f"ME-{conv}-{i}", f"E-{conv}", "BE-1", sender, at)
        for conv, items in conversations
        for i, (sender, at) in enumerate(items)
    ]

    def order(
        seller: str,
        key: str,
        buyer: str,
        created: datetime,
        *,
        due: datetime | None = None,
        delivered: datetime | None = None,
        completed: datetime | None = None,
        cancelled: datetime | None = None,
        by: str = "",
        excluded: bool = False,
        amount: int = 100_000,
        ship_by: datetime | None = None,
        shipped: datetime | None = None,
        tracking: str = "",
    ) -> tuple[Any, ...]:
        return (seller, f"OE-{key}", buyer, amount, created, due, delivered, completed,
                cancelled, by, excluded, ship_by, shipped, tracking)  # fmt: skip

    t = ws + 10 * day
    orders = [
        # dispatch: at ship_by (on time), 1 µs late, cancelled 1 µs before ship_by (left out),
        # ship_by at the window start (in) and at the cutoff (out), shipped 1 µs before it
        order("E-orders", "s1", "BE-s", ws + day, ship_by=ws + 2 * day, shipped=ws + 2 * day,
              tracking="valid"),
        order("E-orders", "s2", "BE-s", ws + day, ship_by=ws + 2 * day,
              shipped=ws + 2 * day + US, tracking="invalid"),
        order("E-orders", "s3", "BE-s", ws - day, ship_by=ws, cancelled=ws - US, by="buyer"),
        order("E-orders", "s4", "BE-s", ws - day, ship_by=ws),  # never shipped: late
        order("E-orders", "s5", "BE-s", c - day, ship_by=c, shipped=c - US),  # no tracking
        order("E-orders", "s6", "BE-s", ws + day, ship_by=ws + 2 * day, excluded=True),
        order("E-orders", "o1", "BE-o", ws - 10 * day, due=ws - day, delivered=ws - day,
              completed=ws),  # completed exactly at the window start
        order("E-orders", "o2", "BE-o", ws + day, due=ws + 5 * day, delivered=ws + 5 * day,
              completed=c - US),  # delivered at the deadline: on time
        order("E-orders", "o3", "BE-o", ws + day, due=ws + 3 * day,
              delivered=ws + 3 * day + US, completed=ws + 4 * day),  # 1 µs late
        order("E-orders", "o4", "BE-o", ws + 2 * day, delivered=ws + 20 * day,
              completed=c),  # no deadline: on time; completed at the cutoff: not yet
        order("E-orders", "o5", "BE-p", ws - 5 * day, cancelled=ws, by="seller"),
        order("E-orders", "o6", "BE-p", ws + 3 * day, due=ws + 6 * day, delivered=ws + 7 * day,
              cancelled=ws + 8 * day, by="buyer"),  # delivered late, then cancelled
        order("E-orders", "o7", "BE-p", ws + 3 * day, due=ws + 4 * day, delivered=ws + 9 * day,
              completed=ws + 10 * day, excluded=True, amount=250_000),
        order("E-orders", "o8", "BE-q", c - day, due=c + day, delivered=c),  # at the cutoff
        order("E-orders", "o9", "BE-q", c + day, delivered=c + 2 * day, completed=c + 2 * day),
        order("E-orders", "o10", "BE-q", ws - 30 * day, cancelled=ws - US, by="admin"),
        # repeat buyers: X completed at t, next order created at t (not strictly before)
        order("E-repeat", "x1", "BE-x", ws + 5 * day, delivered=t, completed=t),
        order("E-repeat", "x2", "BE-x", t),
        order("E-repeat", "y1", "BE-y", ws - 20 * day, delivered=t - US, completed=t - US),
        order("E-repeat", "y2", "BE-y", t),
        order("E-repeat", "z1", "BE-z", ws + day, delivered=ws + 3 * day,
              completed=ws + 3 * day),  # the earlier order is itself in the window
        order("E-repeat", "z2", "BE-z", ws + 4 * day),
        order("E-repeat", "w1", "BE-w", ws + 2 * day, cancelled=ws + 3 * day, by="buyer"),
        order("E-repeat", "w2", "BE-w", ws + 5 * day, cancelled=ws + 6 * day, by="seller"),
        order("E-repeat", "v1", "BE-v", ws - 15 * day, delivered=ws - 10 * day,
              completed=ws - 10 * day, excluded=True),  # excluded: ignored
        order("E-repeat", "v2", "BE-v", ws + day),
        order("E-repeat", "u0", "BE-u", ws - 40 * day, delivered=ws - 35 * day,
              completed=ws - 35 * day),
        order("E-repeat", "u1", "BE-u", ws + day, excluded=True),  # not a window buyer
        order("E-repeat", "q1", "BE-q", ws - 15 * day, delivered=ws - 10 * day,
              completed=ws - 10 * day),
        order("E-repeat", "q2", "BE-q", ws + 20 * day),
        order("E-repeat", "q3", "BE-q", c + day),  # after the cutoff: ignored
        order("E-repeat", "q4", "BE-r", c),  # at the cutoff: not a window order
        # tied revenue (shared rank) and a zero-revenue ranked seller
        order("E-tie-a", "t1", "BE-t", ws - 100 * day, delivered=ws - 90 * day,
              completed=ws - 90 * day, amount=777_000),
        order("E-tie-b", "t2", "BE-t", ws - 100 * day, delivered=ws - 90 * day,
              completed=ws - 90 * day, amount=777_000),
        order("E-zero", "z0", "BE-t", ws - 100 * day, delivered=ws - 90 * day,
              completed=ws - 90 * day, amount=0),
    ]  # fmt: skip
    reviews = [
        ("OE-o1", 5, ws),  # created exactly at the window start: in
        ("OE-o2", 4, c),  # created at the cutoff: counts nowhere
        ("OE-o3", 2, ws + 5 * day),  # negative
        ("OE-o7", 1, ws + 11 * day),  # of an excluded order: review_count only
        ("OE-y1", 3, t),
    ]
    return messages, orders, reviews


def insert_edge_rows(cursor: Any, bounds: Bounds, now: datetime) -> None:
    messages, orders, reviews = edge_rows(bounds)
    cursor.execute("SELECT external_id, id FROM orders_seller WHERE external_id LIKE 'E-%%'")
    sellers = dict(cursor.fetchall())
    execute_values(
        cursor,
        "INSERT INTO orders_message (seller_id, external_id, conversation, buyer, sender,"
        " sent_at, created) VALUES %s",
        [(sellers[s], *rest, now) for s, *rest in messages],
        page_size=10_000,
    )
    execute_values(
        cursor,
        "INSERT INTO orders_order (seller_id, external_id, buyer, amount, created_at, due_at,"
        " delivered_at, completed_at, cancelled_at, cancelled_by, excluded_from_metrics,"
        " ship_by, shipped_at, tracking, currency, created, modified) VALUES %s",
        [(sellers[s], *rest, "KRW", now, now) for s, *rest in orders],
        page_size=10_000,
    )
    cursor.execute("SELECT external_id, id FROM orders_order WHERE external_id LIKE 'OE-%%'")
    order_ids = dict(cursor.fetchall())
    execute_values(
        cursor,
        "INSERT INTO reviews_review (external_id, order_id, rating, comment, created_at, created,"
        " modified) VALUES %s",
        [(f"RE-{o[3:]}", order_ids[o], rating, "", at, now, now) for o, rating, at in reviews],
        page_size=10_000,
    )
    cases, surveys, conversations = program_edge_rows(bounds)
    execute_values(
        cursor,
        "INSERT INTO orders_case (external_id, order_id, kind, opened_at, closed_at, outcome,"
        " created, modified) VALUES %s",
        [(f"KE-{i}", order_ids[o], *rest, now, now) for i, (o, *rest) in enumerate(cases)],
    )
    execute_values(
        cursor,
        "INSERT INTO reviews_survey (external_id, order_id, csat, nps, answered_at, created,"
        " modified) VALUES %s",
        [(f"VE-{o[3:]}", order_ids[o], *rest, now, now) for o, *rest in surveys],
    )
    execute_values(
        cursor,
        "INSERT INTO orders_conversation (external_id, seller_id, buyer, resolved_at, created,"
        " modified) VALUES %s",
        [(conv, sellers["E-messages"], "BE-1", at, now, now) for conv, at in conversations],
    )


def program_edge_rows(
    b: Bounds,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[str, datetime | None]]]:
    """Cases, surveys and conversation rows on the boundaries of SPEC §4's program and
    customer-success metrics (on the edge orders and conversations of ``edge_rows``)."""
    ws, c, h = b.window_start, b.cutoff, b.response
    day = timedelta(days=1)
    cases = [
        ("OE-o2", "claim", ws + 2 * day, c, "seller_favour"),  # dismissed at the cutoff: open
        ("OE-o2", "dispute", ws + 2 * day, None, ""),  # o2 counted once in case_rate
        ("OE-o3", "chargeback", c, None, ""),  # opened at the cutoff: nothing
        ("OE-o6", "claim", ws + 4 * day, ws + 5 * day, "buyer_favour"),  # unresolved
        ("OE-z2", "claim", ws + 5 * day, ws + 6 * day, "withdrawn"),  # not a defect
        ("OE-o7", "chargeback", ws + 5 * day, None, ""),  # excluded order: nowhere
        ("OE-o10", "dispute", ws, None, ""),  # opened at the window start: cases_opened
    ]
    surveys = [
        ("OE-o1", 4, 9, ws),  # answered at the window start: in; CSAT 4 and NPS 9 count
        ("OE-o2", 3, 6, c - US),  # CSAT 3: not satisfied; NPS 6: a detractor
        ("OE-x1", None, 7, ws + 3 * day),  # NPS only, a passive
        ("OE-y1", 5, None, c),  # answered at the cutoff: nothing
        ("OE-o7", 1, 0, ws + 12 * day),  # excluded order: nowhere
    ]
    conversations: list[tuple[str, datetime | None]] = [
        ("E-a", ws),  # first message at ws - h: resolved at the window start, in h hours
        ("E-b", c),  # resolved at the cutoff: out
        ("E-h", ws + 20 * day),  # resolved at its first message: not counted
        ("E-i", ws + 31 * day + US),  # 1 day 1 µs after the first message
        ("E-j", None),  # open
        ("E-l", c - US),
        ("E-none", ws + 3 * day),  # no message at all: not counted
        ("E-c", c - h - US + h / 2),
    ]
    return cases, surveys, conversations


@dataclass(frozen=True)
class Marker:
    """What the last generation wrote, kept in the table ``bench_dataset``."""

    scale: str
    period: str
    version: int
    migrations: str  # fingerprint of the migrations the database was built with
    sellers: int
    orders: int
    messages: int
    reviews: int


def schema_fingerprint() -> str:
    """A hash of every migration file: an unreleased migration edited since the scratch
    database was migrated (Django would not notice) means the database must be rebuilt."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def current_counts(cursor: Any) -> tuple[int, int, int, int]:
    counts = []
    for table in ("orders_seller", "orders_order", "orders_message", "reviews_review"):
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
        counts.append(int(cursor.fetchone()[0]))
    return counts[0], counts[1], counts[2], counts[3]


def read_marker(cursor: Any) -> Marker | None:
    try:
        cursor.execute(
            "SELECT scale, period, version, migrations, sellers, orders, messages, reviews"
            " FROM bench_dataset"
        )
    except psycopg2.Error:  # no marker (or an older layout): as good as no data
        return None
    row = cursor.fetchone()
    return Marker(*row) if row else None


def dataset_ready(cursor: Any, *, scale: Scale, period: Period) -> Marker | None:
    """The marker of the data in the database if it is this generator's ``scale``/``period``
    and the tables still hold exactly what it recorded."""
    marker = read_marker(cursor)
    wanted = (scale.name, str(period), GENERATOR_VERSION, schema_fingerprint())
    if marker is None or (marker.scale, marker.period, marker.version, marker.migrations) != wanted:
        return None
    expected = (marker.sellers, marker.orders, marker.messages, marker.reviews)
    return marker if current_counts(cursor) == expected else None


def secondary_schema(cursor: Any) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Foreign keys and unique constraints (table, name, definition), and plain indexes
    (CREATE INDEX statements) of the big tables: dropped during the load, rebuilt after."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
        FROM pg_constraint
        WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')
        """,
        [list(BIG_TABLES)],
    )
    rows = sorted(cursor.fetchall(), key=lambda r: r[3] != "u")  # unique first, then keys
    constraints = [(t, n, d) for t, n, d, _ in rows]
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(BIG_TABLES)],
    )
    return constraints, [row[0] for row in cursor.fetchall()]


def generate(conn: Any, *, scale: Scale, period: Period, policy: Policy) -> float:
    """Replace the data of the scratch database by a fresh dataset; returns the seconds."""
    bounds = Bounds.of(period, policy)
    plan = seller_plan(scale=scale, bounds=bounds)
    params = {
        "now": bounds.end,
        "end": bounds.end,
        "response": f"{policy.response_window_hours} hours",
        "buyers": max(1_000, scale.orders // 2),
        "reviews": scale.reviews,
    }
    say(
        f"generating {scale.name}: {scale.sellers:,} sellers, {scale.orders:,} orders, "
        f"{scale.messages:,} messages, {scale.reviews:,} reviews, {bounds.start:%Y-%m-%d} .. "
        f"{bounds.end:%Y-%m-%d} (cutoff {bounds.cutoff:%Y-%m-%d %H:%M %Z})"
    )
    with stopwatch() as total:
        conn.autocommit = False
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    "SET LOCAL work_mem = '512MB'; SET LOCAL maintenance_work_mem = '1GB';"
                    " SET LOCAL synchronous_commit = off"
                )
                cursor.execute(
                    "TRUNCATE orders_seller, orders_order, orders_message, reviews_review,"
                    " orders_case, reviews_survey, orders_conversation,"
                    " orders_loginlink, metrics_evaluationrun, metrics_sellerevaluation"
                    " RESTART IDENTITY CASCADE"
                )
                constraints, indexes = secondary_schema(cursor)
                for table, name, _ in reversed(constraints):
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                cursor.execute(
                    "SELECT indexrelid::regclass::text FROM pg_index i WHERE indrelid ="
                    " ANY(%s::regclass[]) AND NOT indisprimary AND NOT EXISTS (SELECT 1 FROM"
                    " pg_constraint c WHERE c.conindid = i.indexrelid)",
                    [list(BIG_TABLES)],
                )
                for (index,) in cursor.fetchall():
                    cursor.execute(f"DROP INDEX {index}")

                def load_sellers() -> None:
                    copy_plan(cursor, plan)
                    cursor.execute(SELLERS_SQL, params)

                steps: list[tuple[str, Callable[[], object]]] = [
                    ("sellers", load_sellers),
                    ("orders", lambda: cursor.execute(ORDERS_SQL, params)),
                    ("messages", lambda: cursor.execute(MESSAGES_SQL, params)),
                    ("reviews", lambda: cursor.execute(REVIEWS_SQL, params)),
                    ("cases", lambda: cursor.execute(CASES_SQL, params)),
                    ("surveys", lambda: cursor.execute(SURVEYS_SQL, params)),
                    ("conversations", lambda: cursor.execute(CONVERSATIONS_SQL, params)),
                    ("edge cases", lambda: insert_edge_rows(cursor, bounds, bounds.end)),
                    ("indexes and keys", lambda: rebuild(cursor, constraints, indexes)),
                ]
                for label, step in steps:
                    with stopwatch() as elapsed:
                        step()
                    say(f"  {label:<18} {elapsed[0]:8.1f} s")
                counts = current_counts(cursor)
                cursor.execute(
                    "DROP TABLE IF EXISTS bench_dataset;"
                    " CREATE TABLE bench_dataset (scale text, period text, version int,"
                    " migrations text, sellers bigint, orders bigint, messages bigint,"
                    " reviews bigint,"
                    " generated_at timestamptz DEFAULT now());"
                    " INSERT INTO bench_dataset VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [scale.name, str(period), GENERATOR_VERSION, schema_fingerprint(), *counts],
                )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.autocommit = True
        with stopwatch() as elapsed, conn.cursor() as cursor:
            # Like a table autovacuum has seen: visibility map and statistics, no hint-bit
            # writes or autovacuum runs during the timings.
            for table in ("orders_seller", *BIG_TABLES, *PROGRAM_TABLES):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            cursor.execute("CHECKPOINT")
        say(f"  {'vacuum, analyze':<18} {elapsed[0]:8.1f} s")
    return total[0]


def rebuild(cursor: Any, constraints: list[tuple[str, str, str]], indexes: list[str]) -> None:
    cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
    for statement in indexes:
        cursor.execute(statement)
    for table, name, definition in constraints:  # unique first, then foreign keys
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def describe(cursor: Any, period: Period) -> list[str]:
    """A few facts of the dataset, to show its shape."""
    cutoff = period.cutoff
    cursor.execute(
        """
        WITH per_seller AS (
            SELECT s.id, count(o.id) AS n FROM orders_seller s
            LEFT JOIN orders_order o ON o.seller_id = s.id GROUP BY s.id
        )
        SELECT max(n), percentile_disc(0.5) WITHIN GROUP (ORDER BY n),
               count(*) FILTER (WHERE n = 0) FROM per_seller
        """
    )
    top, median, idle = cursor.fetchone()
    cursor.execute(
        """
        SELECT count(*) FILTER (WHERE completed_at IS NOT NULL),
               count(*) FILTER (WHERE cancelled_at IS NOT NULL),
               count(*) FILTER (WHERE delivered_at > due_at),
               count(*) FILTER (WHERE due_at IS NULL),
               count(*) FILTER (WHERE excluded_from_metrics),
               count(*) FILTER (WHERE created_at >= %s), count(*)
        FROM orders_order
        """,
        [cutoff],
    )
    completed, cancelled, late, no_due, excluded, after, total = cursor.fetchone()
    cursor.execute(
        "SELECT count(*), count(DISTINCT (seller_id, conversation)),"
        " count(*) FILTER (WHERE sent_at >= %s) FROM orders_message",
        [cutoff],
    )
    messages, conversations, messages_after = cursor.fetchone()
    cursor.execute(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM orders_message GROUP BY seller_id) x"
    )
    top_messages = cursor.fetchone()[0]
    cursor.execute(
        "SELECT count(*), avg(rating), count(*) FILTER (WHERE rating <= 2) FROM reviews_review"
    )
    reviews, rating, negative = cursor.fetchone()
    cursor.execute(
        "SELECT count(ship_by), count(*) FILTER (WHERE ship_by IS NOT NULL"
        " AND (shipped_at IS NULL OR shipped_at > ship_by)), count(*) FILTER (WHERE"
        " tracking = 'valid'), count(shipped_at), (SELECT count(DISTINCT order_id) FROM"
        " orders_case), (SELECT count(*) FROM reviews_survey), (SELECT count(*) FILTER (WHERE"
        " resolved_at IS NOT NULL) FROM orders_conversation) FROM orders_order"
    )
    ship_by, late_shipped, valid, shipped, cased, surveys, resolved = cursor.fetchone()

    def pct(part: int) -> str:
        return f"{100 * part / max(total, 1):.1f} %"

    return [
        f"orders per seller: top {top:,}, median {median:,}, {idle:,} sellers without orders",
        f"orders: {completed:,} completed ({pct(completed)}), {cancelled:,} cancelled "
        f"({pct(cancelled)}), {late:,} late ({pct(late)}), {no_due:,} without deadline, "
        f"{excluded:,} excluded, {after:,} created after the cutoff",
        f"messages: {messages:,} in {conversations:,} conversations, top seller "
        f"{top_messages or 0:,}, {messages_after:,} sent after the cutoff",
        f"reviews: {reviews:,}, average {float(rating or 0):.2f}, {negative:,} rated 1-2",
        f"dispatch: {ship_by:,} with ship_by, {late_shipped:,} late "
        f"({100 * late_shipped / max(ship_by, 1):.1f} %), {valid:,} of {shipped:,} shipped with "
        f"valid tracking; {cased:,} orders with a case ({pct(cased)}); {surveys:,} surveys; "
        f"{resolved:,} conversations resolved",
    ]
