"""Metric names as the emails say them, marked for translation (``makemessages`` reads
literals only); tests/notifications check the table matches ``metrics.engine.registry``."""

from django.utils.translation import gettext_noop

METRIC_NAMES: dict[str, str] = {
    "completed_orders": gettext_noop("Completed orders"),
    "revenue": gettext_noop("Revenue"),
    "review_count": gettext_noop("Reviews"),
    "revenue_rank": gettext_noop("Revenue rank"),
    "ranked_sellers": gettext_noop("Ranked sellers"),
    "revenue_top_percent": gettext_noop("Revenue top %"),
    "unique_buyers": gettext_noop("Unique buyers"),
    "tenure_days": gettext_noop("Tenure (days)"),
    "inquiries": gettext_noop("Inquiries"),
    "answered_in_time": gettext_noop("Answered in time"),
    "response_rate": gettext_noop("Response rate"),
    "window_completed_orders": gettext_noop("Completed orders (window)"),
    "window_revenue": gettext_noop("Revenue (window)"),
    "finished_orders": gettext_noop("Finished orders"),
    "success_rate": gettext_noop("Order success rate"),
    "cancellation_rate": gettext_noop("Cancellation rate"),
    "seller_cancellation_rate": gettext_noop("Seller cancellation rate"),
    "delivered_orders": gettext_noop("Delivered orders"),
    "on_time_rate": gettext_noop("On-time rate"),
    "window_review_count": gettext_noop("Reviews (window)"),
    "average_rating": gettext_noop("Average rating"),
    "negative_review_rate": gettext_noop("Negative review rate"),
    "median_first_response_minutes": gettext_noop("Median first response (min)"),
    "repeat_buyer_rate": gettext_noop("Repeat buyer rate"),
}
