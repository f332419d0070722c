"""The SQL floor: every metric of SPEC §4 for every seller, hand-written from the SPEC.

Independent of ``metrics/engine/compute.py`` by design (it was not read): a second reading of
the SPEC that the engine's stored results are checked against, and the fastest plain SQL we
could write for the same job, the yardstick of the engine's timings.

Three set-based parts in one statement:

* orders (with their reviews) in one scan, grouped by (seller, buyer) first, so that unique
  buyers and repeat buyers fall out of the same pass as the counts;
* messages read only where an inquiry of the window or its reply can be: [window start −
  response window, cutoff) (by one scan or the (seller_id, sent_at) index, as the planner
  finds cheaper; at scale S the scan), walked once per conversation in (sent_at, id) order;
  for a conversation whose first message in that slice is a buyer's, the one message just
  before the slice (by the (seller_id, conversation, sent_at, id) index) decides whether it
  is an inquiry;
* a rank over the per-seller revenues.

Exact values come back (counts, numeric sums, the two middle response times) and are turned
into ``int`` / ``Decimal`` / ``Fraction`` in Python, never through a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .common import Period, Policy

WORK_MEM = "256MB"  # the app's default EVALUATION_WORK_MEM

ExactValue = int | Decimal | Fraction | None
Metrics = dict[str, ExactValue]

METRIC_KEYS = (
    "completed_orders",
    "revenue",
    "review_count",
    "revenue_rank",
    "ranked_sellers",
    "revenue_top_percent",
    "unique_buyers",
    "tenure_days",
    "inquiries",
    "answered_in_time",
    "response_rate",
    "window_completed_orders",
    "window_revenue",
    "finished_orders",
    "success_rate",
    "cancellation_rate",
    "seller_cancellation_rate",
    "delivered_orders",
    "on_time_rate",
    "window_review_count",
    "average_rating",
    "negative_review_rate",
    "median_first_response_minutes",
    "repeat_buyer_rate",
    "window_orders",
    "order_defect_rate",
    "dispatch_orders",
    "late_shipment_rate",
    "shipped_orders",
    "valid_tracking_rate",
    "cases_opened",
    "case_rate",
    "unresolved_case_rate",
    "csat_responses",
    "csat_percent",
    "nps_responses",
    "nps",
    "resolved_conversations",
    "median_resolution_hours",
    "buyer_retention_rate",
    "buyer_churn_rate",
)
INT_KEYS = frozenset(
    {
        "window_orders",
        "dispatch_orders",
        "shipped_orders",
        "cases_opened",
        "csat_responses",
        "nps_responses",
        "resolved_conversations",
        "completed_orders",
        "review_count",
        "revenue_rank",
        "ranked_sellers",
        "unique_buyers",
        "tenure_days",
        "inquiries",
        "answered_in_time",
        "window_completed_orders",
        "finished_orders",
        "delivered_orders",
        "window_review_count",
    }
)
MONEY_KEYS = frozenset({"revenue", "window_revenue"})
FRACTION_KEYS = frozenset(METRIC_KEYS) - INT_KEYS - MONEY_KEYS

# %(cutoff)s, %(ws)s (window start; '-infinity' for all time), %(lo)s = ws − response window,
# %(response)s (an interval), %(pws)s (start of the previous window of equal length, for buyer
# retention; '-infinity' for all time). Every "in the window" is [ws, cutoff).
FLOOR_SQL = """
WITH case_agg AS (
    -- one pass over the cases: per order, as of the cutoff
    SELECT c.order_id,
        bool_or(c.kind IN ('claim', 'chargeback')
                AND NOT coalesce(c.closed_at < %(cutoff)s
                                 AND c.outcome IN ('seller_favour', 'withdrawn'), false))
            AS defect,
        coalesce(bool_or(c.closed_at < %(cutoff)s AND c.outcome = 'buyer_favour'), false)
            AS unresolved,
        count(*) FILTER (WHERE c.opened_at >= %(ws)s) AS opened_in_window
    FROM orders_case c
    WHERE c.opened_at < %(cutoff)s
    GROUP BY c.order_id
), order_agg AS (
    SELECT o.seller_id,
        count(*) FILTER (WHERE o.completed_at < %(cutoff)s) AS completed_orders,
        sum(o.amount) FILTER (WHERE o.completed_at < %(cutoff)s) AS revenue,
        count(*) FILTER (WHERE o.completed_at >= %(ws)s AND o.completed_at < %(cutoff)s)
            AS window_completed_orders,
        sum(o.amount) FILTER (WHERE o.completed_at >= %(ws)s AND o.completed_at < %(cutoff)s)
            AS window_revenue,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.completed_at >= %(ws)s AND o.completed_at < %(cutoff)s)
            AS f_completed,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.cancelled_at >= %(ws)s AND o.cancelled_at < %(cutoff)s)
            AS f_cancelled,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics AND o.cancelled_by = 'seller'
                         AND o.cancelled_at >= %(ws)s AND o.cancelled_at < %(cutoff)s)
            AS f_seller_cancelled,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.delivered_at >= %(ws)s AND o.delivered_at < %(cutoff)s)
            AS delivered,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.delivered_at >= %(ws)s AND o.delivered_at < %(cutoff)s
                         AND (o.due_at IS NULL OR o.delivered_at <= o.due_at))
            AS on_time,
        count(r.id) AS reviews,
        count(r.id) FILTER (WHERE NOT o.excluded_from_metrics AND r.created_at >= %(ws)s)
            AS w_reviews,
        sum(r.rating) FILTER (WHERE NOT o.excluded_from_metrics AND r.created_at >= %(ws)s)
            AS w_rating_sum,
        count(r.id) FILTER (WHERE NOT o.excluded_from_metrics AND r.created_at >= %(ws)s
                            AND r.rating <= 2)
            AS w_negative,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.created_at >= %(ws)s AND o.created_at < %(cutoff)s)
            AS w_orders,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.created_at >= %(ws)s AND o.created_at < %(cutoff)s
                         AND (r.rating <= 2 OR ca.defect))
            AS defective,
        count(ca.order_id) FILTER (WHERE NOT o.excluded_from_metrics
                                   AND o.created_at >= %(ws)s AND o.created_at < %(cutoff)s)
            AS case_orders,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.created_at >= %(ws)s AND o.created_at < %(cutoff)s
                         AND ca.unresolved)
            AS unresolved_orders,
        sum(ca.opened_in_window) FILTER (WHERE NOT o.excluded_from_metrics) AS cases_opened,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.ship_by >= %(ws)s AND o.ship_by < %(cutoff)s
                         AND NOT coalesce(o.cancelled_at < o.ship_by, false))
            AS dispatch,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.ship_by >= %(ws)s AND o.ship_by < %(cutoff)s
                         AND NOT coalesce(o.cancelled_at < o.ship_by, false)
                         AND coalesce(o.shipped_at > o.ship_by, true))
            AS late_shipped,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.shipped_at >= %(ws)s AND o.shipped_at < %(cutoff)s)
            AS shipped,
        count(*) FILTER (WHERE NOT o.excluded_from_metrics
                         AND o.shipped_at >= %(ws)s AND o.shipped_at < %(cutoff)s
                         AND o.tracking = 'valid')
            AS valid_tracking
            /*ORDER_EXTRA*/
    FROM orders_order o
    LEFT JOIN reviews_review r ON r.order_id = o.id AND r.created_at < %(cutoff)s
    LEFT JOIN case_agg ca ON ca.order_id = o.id
    GROUP BY o.seller_id
), per_buyer AS (
    -- Only orders that make a buyer: completed before the cutoff, or created in the window.
    SELECT o.seller_id,
        bool_or(o.completed_at < %(cutoff)s) AS bought,
        max(o.created_at) FILTER (WHERE NOT o.excluded_from_metrics AND o.created_at >= %(ws)s)
            AS last_window_order,
        min(o.completed_at) FILTER (WHERE NOT o.excluded_from_metrics) AS first_completed,
        bool_or(NOT o.excluded_from_metrics AND o.completed_at >= %(pws)s
                AND o.completed_at < %(ws)s) AS previous_buyer
    FROM orders_order o
    WHERE o.completed_at < %(cutoff)s OR (o.created_at >= %(ws)s AND o.created_at < %(cutoff)s)
    GROUP BY o.seller_id, o.buyer
), buyer_agg AS (
    SELECT seller_id,
        count(*) FILTER (WHERE bought) AS unique_buyers,
        count(last_window_order) AS window_buyers,
        -- "completed before" is strict; a first completion at or after the cutoff is after
        -- every window order, so never counts
        count(*) FILTER (WHERE first_completed < last_window_order) AS repeat_buyers,
        count(*) FILTER (WHERE previous_buyer) AS previous_buyers,
        count(*) FILTER (WHERE previous_buyer AND last_window_order IS NOT NULL) AS retained
    FROM per_buyer
    GROUP BY seller_id
), survey_agg AS (
    -- one pass over the surveys answered in the window
    SELECT o.seller_id,
        count(v.csat) AS csat_n, count(*) FILTER (WHERE v.csat >= 4) AS csat_ok,
        count(v.nps) AS nps_n, count(*) FILTER (WHERE v.nps >= 9) AS promoters,
        count(*) FILTER (WHERE v.nps <= 6) AS detractors
    FROM reviews_survey v
    JOIN orders_order o ON o.id = v.order_id AND NOT o.excluded_from_metrics
    WHERE v.answered_at >= %(ws)s AND v.answered_at < %(cutoff)s
    GROUP BY o.seller_id
), resolutions AS (
    -- one pass over the conversations resolved in the window; the first message of each by
    -- the (seller_id, conversation, sent_at, id) index
    SELECT cv.seller_id, EXTRACT(EPOCH FROM cv.resolved_at - f.first_at) AS seconds
    FROM orders_conversation cv
    CROSS JOIN LATERAL (
        SELECT min(m.sent_at) AS first_at FROM orders_message m
        WHERE m.seller_id = cv.seller_id AND m.conversation = cv.external_id
    ) f
    WHERE cv.resolved_at >= %(ws)s AND cv.resolved_at < %(cutoff)s
      AND f.first_at < cv.resolved_at
), resolution_agg AS (
    SELECT seller_id, max(n) AS resolved,
        sum(seconds) FILTER (WHERE k IN ((n + 1) / 2, (n + 2) / 2)) AS middle_sum,
        count(*) FILTER (WHERE k IN ((n + 1) / 2, (n + 2) / 2)) AS middle_count
    FROM (
        SELECT seller_id, seconds,
            row_number() OVER (PARTITION BY seller_id ORDER BY seconds) AS k,
            count(*) OVER (PARTITION BY seller_id) AS n
        FROM resolutions
    ) x
    GROUP BY seller_id
), slice AS (
    -- Every inquiry of the window has its deadline in [ws, cutoff), so was sent in
    -- [ws - response window, cutoff); its reply counts only before the cutoff.
    SELECT m.id, m.seller_id, m.conversation, m.sender, m.sent_at
    FROM orders_seller s
    JOIN orders_message m
      ON m.seller_id = s.id AND m.sent_at >= %(lo)s AND m.sent_at < %(cutoff)s
), walked AS (
    SELECT q.*,
        -- walked newest first, the order of the (seller_id, conversation, sent_at DESC,
        -- id DESC) index (no sort): the message before this one is the next row, and the
        -- first seller message after it the running min of the rows before (issue 23)
        lead(q.sender) OVER backward AS prev_sender,
        lead(q.id) OVER backward AS prev_id,
        min(q.sent_at) FILTER (WHERE q.sender = 'seller') OVER (
            backward ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reply_at
    FROM slice q
    WINDOW backward AS (PARTITION BY q.seller_id, q.conversation
                        ORDER BY q.sent_at DESC, q.id DESC)
), inquiries AS (
    SELECT w.seller_id, w.sent_at, w.reply_at
    FROM walked w
    WHERE w.sender = 'buyer'
      AND w.sent_at + %(response)s::interval >= %(ws)s
      AND w.sent_at + %(response)s::interval < %(cutoff)s
      AND CASE WHEN w.prev_id IS NOT NULL THEN w.prev_sender = 'seller'
               -- first in the slice: look at the one message just before it, if any
               ELSE (SELECT p.sender FROM orders_message p
                     WHERE p.seller_id = w.seller_id AND p.conversation = w.conversation
                       AND p.sent_at < %(lo)s
                     ORDER BY p.sent_at DESC, p.id DESC LIMIT 1) IS DISTINCT FROM 'buyer'
          END
), inquiry_agg AS (
    SELECT seller_id, count(*) AS inquiries,
        count(*) FILTER (WHERE reply_at <= sent_at + %(response)s::interval) AS answered
        /*INQUIRY_EXTRA*/
    FROM inquiries
    GROUP BY seller_id
), middle AS (
    SELECT seller_id, sum(seconds) AS middle_sum, count(*) AS middle_count
    FROM (
        SELECT seller_id, EXTRACT(EPOCH FROM reply_at - sent_at) AS seconds,
            row_number() OVER (PARTITION BY seller_id ORDER BY reply_at - sent_at) AS k,
            count(*) OVER (PARTITION BY seller_id) AS n
        FROM inquiries
        WHERE reply_at IS NOT NULL
    ) x
    WHERE k IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY seller_id
)
SELECT s.id, s.joined_at,
    coalesce(o.completed_orders, 0), coalesce(o.revenue, 0), coalesce(o.reviews, 0),
    CASE WHEN coalesce(o.completed_orders, 0) > 0
         THEN rank() OVER (PARTITION BY coalesce(o.completed_orders, 0) > 0
                           ORDER BY coalesce(o.revenue, 0) DESC) END,
    count(*) FILTER (WHERE coalesce(o.completed_orders, 0) > 0) OVER (),
    coalesce(b.unique_buyers, 0),
    coalesce(i.inquiries, 0), coalesce(i.answered, 0),
    coalesce(o.window_completed_orders, 0), coalesce(o.window_revenue, 0),
    coalesce(o.f_completed, 0), coalesce(o.f_cancelled, 0), coalesce(o.f_seller_cancelled, 0),
    coalesce(o.delivered, 0), coalesce(o.on_time, 0),
    coalesce(o.w_reviews, 0), coalesce(o.w_rating_sum, 0), coalesce(o.w_negative, 0),
    md.middle_sum, md.middle_count,
    coalesce(b.window_buyers, 0), coalesce(b.repeat_buyers, 0),
    coalesce(o.w_orders, 0), coalesce(o.defective, 0), coalesce(o.case_orders, 0),
    coalesce(o.unresolved_orders, 0), coalesce(o.cases_opened, 0), coalesce(o.dispatch, 0),
    coalesce(o.late_shipped, 0), coalesce(o.shipped, 0), coalesce(o.valid_tracking, 0),
    coalesce(sv.csat_n, 0), coalesce(sv.csat_ok, 0), coalesce(sv.nps_n, 0),
    coalesce(sv.promoters, 0), coalesce(sv.detractors, 0),
    coalesce(ra.resolved, 0), ra.middle_sum, ra.middle_count,
    coalesce(b.previous_buyers, 0), coalesce(b.retained, 0),
    %(ws)s::timestamptz = '-infinity' AS all_time
    /*SELECT_EXTRA*/
FROM orders_seller s
LEFT JOIN order_agg o ON o.seller_id = s.id
LEFT JOIN buyer_agg b ON b.seller_id = s.id
LEFT JOIN survey_agg sv ON sv.seller_id = s.id
LEFT JOIN resolution_agg ra ON ra.seller_id = s.id
LEFT JOIN inquiry_agg i ON i.seller_id = s.id
LEFT JOIN middle md ON md.seller_id = s.id
"""


@dataclass(frozen=True)
class FloorParams:
    cutoff: str
    ws: str
    lo: str
    response: str
    pws: str

    @classmethod
    def of(cls, period: Period, policy: Policy) -> FloorParams:
        start = policy.window_start(period)
        hours = timedelta(hours=policy.response_window_hours)
        # The previous window: as many days, or calendar months, just before the window.
        if start is None:
            previous = None
        elif policy.window_days:
            previous = start - timedelta(days=policy.window_days)
        else:
            previous = period.shifted(1 - 2 * (policy.window_months or 0)).start
        return cls(
            cutoff=period.cutoff.isoformat(),
            ws=start.isoformat() if start else "-infinity",
            lo=(start - hours).isoformat() if start else "-infinity",
            response=f"{policy.response_window_hours} hours",
            pws=previous.isoformat() if previous else "-infinity",
        )


# A criterion with a window of its own (SPEC §5: the metric over the N days before the cutoff)
# adds only the counts its metric needs to the same passes: (the columns each metric adds to
# the orders' aggregate, to the inquiries' aggregate), with {d} the days and %(ws_{d})s the
# window's start. The floor knows the metrics the benchmark's policy gives own windows.
OWN_WINDOW_COLUMNS = {
    "success_rate": (
        [
            "count(*) FILTER (WHERE NOT o.excluded_from_metrics AND o.completed_at >= %(ws_{d})s"
            " AND o.completed_at < %(cutoff)s) AS f_completed_{d}",
            "count(*) FILTER (WHERE NOT o.excluded_from_metrics AND o.cancelled_at >= %(ws_{d})s"
            " AND o.cancelled_at < %(cutoff)s) AS f_cancelled_{d}",
        ],
        [],
    ),
    "response_rate": (
        [],
        [
            "count(*) FILTER (WHERE sent_at + %(response)s::interval >= %(ws_{d})s)"
            " AS inquiries_{d}",
            "count(*) FILTER (WHERE sent_at + %(response)s::interval >= %(ws_{d})s"
            " AND reply_at <= sent_at + %(response)s::interval) AS answered_{d}",
        ],
    ),
}
OWN_WINDOW_SELECT = {
    "success_rate": ["coalesce(o.f_completed_{d}, 0)", "coalesce(o.f_cancelled_{d}, 0)"],
    "response_rate": ["coalesce(i.answered_{d}, 0)", "coalesce(i.inquiries_{d}, 0)"],
}


def floor_sql(policy: Policy, period: Period) -> str:
    """FLOOR_SQL with the counts of each criterion window of ``policy`` added."""
    order, inquiry, select = [], [], []
    start = policy.window_start(period)
    for metric, days in policy.own:
        if metric not in OWN_WINDOW_COLUMNS:
            raise RuntimeError(f"the floor does not compute {metric} over a window of its own")
        if start is not None and policy.own_start(period, days) < start:
            # The floor's inquiries are read over the policy window only.
            raise RuntimeError(f"the floor needs {metric}'s {days} days inside the policy window")
        order += [c.format(d=days) for c in OWN_WINDOW_COLUMNS[metric][0]]
        inquiry += [c.format(d=days) for c in OWN_WINDOW_COLUMNS[metric][1]]
        select += [c.format(d=days) for c in OWN_WINDOW_SELECT[metric]]
    return (
        FLOOR_SQL.replace("/*ORDER_EXTRA*/", "".join(f", {c}" for c in order))
        .replace("/*INQUIRY_EXTRA*/", "".join(f", {c}" for c in inquiry))
        .replace("/*SELECT_EXTRA*/", "".join(f", {c}" for c in select))
    )


def fetch(cursor: Any, *, period: Period, policy: Policy) -> list[tuple[Any, ...]]:
    """Run the floor statement; the raw rows (this is what the benchmark times)."""
    params = FloorParams.of(period, policy).__dict__ | {
        f"ws_{days}": policy.own_start(period, days).isoformat() for _, days in policy.own
    }
    # The engine's run sets this work_mem for its pass (EVALUATION_WORK_MEM); the floor's sorts
    # (the medians) spilled to disk at the 4 MB default (issue 23).
    cursor.execute("SET work_mem = %s", [WORK_MEM])
    cursor.execute(floor_sql(policy, period), params)
    return list(cursor.fetchall())


def own_metrics(rows: list[tuple[Any, ...]], *, policy: Policy) -> dict[int, dict[str, Any]]:
    """{seller id: {"metric@days": exact value}} of each criterion window, from the raw rows
    (their last columns, in ``policy.own`` order: the part, then the whole or the rest)."""
    width = sum(len(OWN_WINDOW_SELECT[metric]) for metric, _ in policy.own)
    result: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = list(row[len(row) - width :]) if width else []
        own: dict[str, Any] = {}
        for metric, days in policy.own:
            part, whole = int(values.pop(0)), int(values.pop(0))
            if metric == "success_rate":
                whole += part  # completed + cancelled
            own[f"{metric}@{days}"] = rate(part, whole)
        result[int(row[0])] = own
    return result


def rate(part: int, whole: int) -> Fraction | None:
    return Fraction(100 * part, whole) if whole else None


def to_metrics(rows: list[tuple[Any, ...]], *, period: Period) -> dict[int, Metrics]:
    """Raw floor rows → exact metrics per seller id (SPEC §4 keys and kinds)."""
    cutoff = period.cutoff
    result: dict[int, Metrics] = {}
    for row in rows:
        (seller_id, joined_at, completed, revenue, reviews, rank, ranked, buyers, inquiries,
         answered, w_completed, w_revenue, f_completed, f_cancelled, f_seller_cancelled,
         delivered, on_time, w_reviews, w_rating_sum, w_negative, middle_sum, middle_count,
         window_buyers, repeat_buyers, w_orders, defective, case_orders, unresolved_orders,
         cases_opened, dispatch, late_shipped, shipped, valid_tracking, csat_n, csat_ok, nps_n,
         promoters, detractors, resolved, r_middle_sum, r_middle_count, previous_buyers,
         retained, all_time) = row[:44]  # fmt: skip
        retention = None if all_time else rate(int(retained), int(previous_buyers))
        resolution = (
            Fraction(Decimal(r_middle_sum)) / (int(r_middle_count) * 3600)
            if r_middle_count
            else None
        )
        finished = int(f_completed) + int(f_cancelled)
        median = Fraction(Decimal(middle_sum)) / (int(middle_count) * 60) if middle_count else None
        tenure = max(0, (cutoff - joined_at) // timedelta(days=1))
        result[int(seller_id)] = {
            "completed_orders": int(completed),
            "revenue": Decimal(revenue),
            "review_count": int(reviews),
            "revenue_rank": int(rank) if rank is not None else None,
            "ranked_sellers": int(ranked),
            "revenue_top_percent": Fraction(100 * int(rank), int(ranked))
            if rank is not None
            else None,
            "unique_buyers": int(buyers),
            "tenure_days": int(tenure),
            "inquiries": int(inquiries),
            "answered_in_time": int(answered),
            "response_rate": rate(int(answered), int(inquiries)),
            "window_completed_orders": int(w_completed),
            "window_revenue": Decimal(w_revenue),
            "finished_orders": finished,
            "success_rate": rate(int(f_completed), finished),
            "cancellation_rate": rate(int(f_cancelled), finished),
            "seller_cancellation_rate": rate(int(f_seller_cancelled), finished),
            "delivered_orders": int(delivered),
            "on_time_rate": rate(int(on_time), int(delivered)),
            "window_review_count": int(w_reviews),
            "average_rating": Fraction(int(w_rating_sum), int(w_reviews)) if w_reviews else None,
            "negative_review_rate": rate(int(w_negative), int(w_reviews)),
            "median_first_response_minutes": median,
            "repeat_buyer_rate": rate(int(repeat_buyers), int(window_buyers)),
            "window_orders": int(w_orders),
            "order_defect_rate": rate(int(defective), int(w_orders)),
            "dispatch_orders": int(dispatch),
            "late_shipment_rate": rate(int(late_shipped), int(dispatch)),
            "shipped_orders": int(shipped),
            "valid_tracking_rate": rate(int(valid_tracking), int(shipped)),
            "cases_opened": int(cases_opened),
            "case_rate": rate(int(case_orders), int(w_orders)),
            "unresolved_case_rate": rate(int(unresolved_orders), int(w_orders)),
            "csat_responses": int(csat_n),
            "csat_percent": rate(int(csat_ok), int(csat_n)),
            "nps_responses": int(nps_n),
            "nps": rate(int(promoters) - int(detractors), int(nps_n)),
            "resolved_conversations": int(resolved),
            "median_resolution_hours": resolution,
            "buyer_retention_rate": retention,
            "buyer_churn_rate": None if retention is None else 100 - retention,
        }
    return result
