"""Who may call which API operation (SPEC §7): the one table of scopes and model permissions.

Every operation under ``/api/v1/`` has one row here, keyed by its URL route (``route_of``: as
the apps' ``urls.py`` write it, parameters by name, no ``api/v1/`` or trailing slash) and method:

- the **scope** an API key needs (``ingest``, ``read`` or ``admin``): a key without it gets a
  403 naming the scope (``common.api.ScopedPermission``); an operation missing from the table
  takes no API key at all (fail closed, and ``tests/test_api_scopes.py`` fails on it);
- the **Django model permissions** a staff user needs, as in admin (a staff login without
  ``orders.change_order`` cannot PUT an order through the API either). Superusers have every
  permission; a seller's login is held to its own data by the selectors instead.

A new endpoint declares itself by adding its row; a new ingested entity needs only its name in
``INGEST_ENTITIES`` (its list, bulk and detail routes follow ``orders.urls.ingest_routes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INGEST, READ, ADMIN = "ingest", "read", "admin"
SCOPES = (INGEST, READ, ADMIN)
SCOPE_HELP = {
    INGEST: "writes and reads of sellers, orders, messages, reviews, cases, surveys, conversations",
    READ: "grades, evaluations, evidence, policy, presets",
    ADMIN: "policy writes and previews, evaluations (POST), webhooks, notification settings, "
    "login links, appeal decisions",
}


@dataclass(frozen=True)
class Rule:
    scope: str
    permissions: tuple[str, ...] = ()


# The ingested entities: route prefix → the model (app_label.model) behind it.
INGEST_ENTITIES = {
    "sellers": "orders.seller",
    "orders": "orders.order",
    "messages": "orders.message",
    "reviews": "reviews.review",
    "cases": "orders.case",
    "surveys": "reviews.survey",
    "conversations": "orders.conversation",
}


def _perm(model: str, action: str) -> str:
    app, name = model.split(".")
    return f"{app}.{action}_{name}"


def _ingest_rules() -> dict[tuple[str, str], Rule]:
    rules: dict[tuple[str, str], Rule] = {}
    for prefix, model in INGEST_ENTITIES.items():
        read = Rule(INGEST, (_perm(model, "view"),))
        write = Rule(INGEST, (_perm(model, "add"), _perm(model, "change")))
        rules[(prefix, "GET")] = read
        rules[(f"{prefix}/<external_id>", "GET")] = read
        rules[(f"{prefix}/<external_id>", "PUT")] = write
        rules[(f"{prefix}/bulk", "POST")] = write
    return rules


SELLER = "sellers/<external_id>"
VIEW_GRADES = ("metrics.view_sellerevaluation",)

RULES: dict[tuple[str, str], Rule] = {
    **_ingest_rules(),
    # read: grades, evaluations, evidence, policy, presets
    ("grades", "GET"): Rule(READ, VIEW_GRADES),
    (f"{SELLER}/grade", "GET"): Rule(READ, VIEW_GRADES),
    (f"{SELLER}/grade/preview", "GET"): Rule(READ, VIEW_GRADES),
    (f"{SELLER}/evidence", "GET"): Rule(READ, VIEW_GRADES),
    (f"{SELLER}/evaluations", "GET"): Rule(READ, VIEW_GRADES),
    ("evaluations", "GET"): Rule(READ, ("metrics.view_evaluationrun",)),
    ("evaluations/<run_id>", "GET"): Rule(READ, ("metrics.view_evaluationrun",)),
    ("policy", "GET"): Rule(READ, ("metrics.view_gradepolicy",)),
    ("policy/presets", "GET"): Rule(READ, ("metrics.view_gradepolicy",)),
    ("policy/presets/<name>", "GET"): Rule(READ, ("metrics.view_gradepolicy",)),
    # admin: policy writes and previews, evaluations, webhooks, login links, appeal decisions
    ("policy", "PUT"): Rule(ADMIN, ("metrics.add_gradepolicy",)),
    ("policy/preview", "POST"): Rule(ADMIN, ("metrics.view_gradepolicy",)),
    ("policy/preview/<preview_id>", "GET"): Rule(ADMIN, ("metrics.view_gradepolicy",)),
    ("evaluations", "POST"): Rule(ADMIN, ("metrics.add_evaluationrun",)),
    ("webhooks", "GET"): Rule(ADMIN, ("notifications.view_webhookendpoint",)),
    ("webhooks", "POST"): Rule(ADMIN, ("notifications.add_webhookendpoint",)),
    ("webhooks/<webhook_id>", "DELETE"): Rule(ADMIN, ("notifications.delete_webhookendpoint",)),
    (f"{SELLER}/login-link", "POST"): Rule(ADMIN, ("orders.add_loginlink",)),
    (f"{SELLER}/notification-settings", "GET"): Rule(
        ADMIN, ("notifications.view_sellerpreference",)
    ),
    (f"{SELLER}/notification-settings", "PUT"): Rule(
        ADMIN, ("notifications.change_sellerpreference",)
    ),
    # appeals (SPEC §7): a seller files its own; the admin scope files on its behalf and decides
    (f"{SELLER}/appeals", "GET"): Rule(READ, ("metrics.view_appeal",)),
    (f"{SELLER}/appeals", "POST"): Rule(ADMIN, ("metrics.add_appeal",)),
    ("appeals/<appeal_id>/decision", "POST"): Rule(ADMIN, ("metrics.change_appeal",)),
}


_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def route_of(resolver_route: str) -> str:
    """A resolved route (``ResolverMatch.route``) as the table writes it, its parameters by name
    alone: ``api/v1/sellers/<str:external_id>/grade/`` and the regex
    ``api/v1/webhooks/(?P<webhook_id>[0-9]{1,18})$`` → ``sellers/<external_id>/grade``,
    ``webhooks/<webhook_id>``."""
    route = resolver_route.removeprefix("api/v1/").replace("^", "").replace("$", "")
    route = _CONVERTER.sub(r"<\1>", _REGEX_GROUP.sub(r"<\1>", route))
    return route.rstrip("/")


def rule_for(*, route: str, method: str) -> Rule | None:
    """The operation's rule; HEAD and OPTIONS follow GET; None when the table has no row."""
    if method in ("HEAD", "OPTIONS"):
        method = "GET"
    return RULES.get((route_of(route), method))


def all_permissions() -> set[str]:
    """Every model permission the table names (``app_label.codename``)."""
    return {perm for rule in RULES.values() for perm in rule.permissions}
