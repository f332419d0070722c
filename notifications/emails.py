"""Seller emails: written in the seller's language from templates (``{% translate %}``, so the
project's catalogues translate them) and sent through Django's email framework, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from metrics.engine.registry import METRICS, Kind
from notifications import sending
from notifications.metric_names import METRIC_NAMES
from notifications.models import EmailKind, EmailNotification, Language, SellerPreference
from orders.models import Seller

TEMPLATES = {
    EmailKind.LEVEL_CHANGED: "notifications/email/level_changed",
    EmailKind.AT_RISK: "notifications/email/at_risk",
    EmailKind.APPEAL_DECIDED: "notifications/email/appeal_decided",
    EmailKind.GRADE_CORRECTED: "notifications/email/grade_corrected",
}


def default_language() -> str:
    return settings.NOTIFICATIONS_DEFAULT_LANGUAGE


def address_and_language(seller: Seller) -> tuple[str, str]:
    """Where and in which language the seller is written to (its preference, else its login's
    address and ``NOTIFICATIONS_DEFAULT_LANGUAGE``)."""
    try:
        preference: SellerPreference | None = seller.notification_preference
    except SellerPreference.DoesNotExist:
        preference = None
    address = (preference.email if preference else "") or (seller.user.email if seller.user else "")
    language = (preference.language if preference else "") or default_language()
    if language not in Language.values:
        language = Language.ENGLISH
    return address, language


def _number(metric: str, value: Any) -> str:
    if value is None:
        return gettext("not enough data yet")
    info = METRICS.get(metric)
    if info is not None and info.kind == Kind.MONEY:
        return f"{value:,.0f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def _reason_lines(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = []
    for item in reasons:
        metric = item["metric"]
        lines.append(
            {
                "label": gettext(METRIC_NAMES[metric]) if metric in METRIC_NAMES else metric,
                "op": "≥" if item["op"] == ">=" else "≤",
                "value": _number(metric, item["value"]),
                "actual": _number(metric, item["actual"]),
                "passed": item["passed"],
                "any_of": item.get("any_of", ""),
            }
        )
    return lines


def _level(name: str | None) -> str:
    return name if name else gettext("no level")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(notification: EmailNotification, *, language: str) -> Rendered:
    """The email's subject and text in ``language``."""
    seller = notification.seller
    context = notification.context
    with translation.override(language):
        values = {
            "seller_name": seller.display_name or seller.username,
            "period": notification.period,
            "from_level": _level(context.get("from")),
            "to_level": _level(context.get("to")),
            "up": context.get("direction") == "up",
            "kept_by_grace": bool(context.get("kept_by_grace")),
            "effective_from": (
                timezone.localtime(datetime.fromisoformat(context["effective_from"])).date()
                if context.get("effective_from")
                else None
            ),
            "accepted": context.get("status") == "accepted",
            "order": context.get("order", ""),
            "note": context.get("note", ""),
            "reasons": _reason_lines(context.get("reasons", [])),
        }
        template = TEMPLATES[EmailKind(notification.kind)]
        subject = render_to_string(f"{template}_subject.txt", values).strip()
        body = render_to_string(f"{template}.txt", values)
    return Rendered(subject=" ".join(subject.split()), body=body)


@dataclass(frozen=True)
class Sent:
    sent: bool
    retry_in: int | None = None  # seconds, when the attempt failed and may be retried


def send_notification(*, notification_id: int) -> Sent:
    """Send one recorded email unless it was sent already (or another sender holds it).

    The row is claimed by a lease (one UPDATE) rather than locked across the SMTP call; it is
    marked sent once the backend accepted the message. A failure is recorded and retried after
    a backoff by the minute sweep (``notifications.sending``, the webhooks' too) up to
    ``NOTIFICATIONS_EMAIL_MAX_ATTEMPTS`` attempts.
    """
    channel = sending.EMAILS
    if not channel.claim(notification_id):
        return Sent(sent=False)
    notification = EmailNotification.objects.select_related(
        "seller__user", "seller__notification_preference"
    ).get(pk=notification_id)
    address, language = address_and_language(notification.seller)
    if not address:
        # Nothing to retry until the seller has an address: a later publication of the run
        # records it again (the row is still unsent), the sweep does not.
        EmailNotification.objects.filter(pk=notification_id).update(
            claimed_until=None, last_error="The seller has no email address.", language=language
        )
        return Sent(sent=False)
    rendered = render(notification, language=language)
    message = EmailMessage(
        subject=rendered.subject,
        body=rendered.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"Content-Language": language},
    )
    try:
        message.send()
    except Exception as exc:  # an SMTP or connection error of any kind: recorded, retried
        outcome = channel.failed(
            notification_id,
            attempts=notification.attempts,
            error=f"{type(exc).__name__}: {exc}",
            language=language,
        )
        return Sent(sent=False, retry_in=outcome.retry_in)
    channel.succeeded(notification_id, recipient=address, language=language)
    return Sent(sent=True)
