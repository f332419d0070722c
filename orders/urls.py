"""``/api/v1/sellers``, ``/orders``, ``/cases``, ``/messages``, ``/conversations``, with or
without a trailing slash.

An external id is one path segment (the ``str`` converter stops at ``/``), so
``sellers/<id>/grade`` and the other per-seller routes of ``metrics.web.urls`` are never swallowed
here. ``bulk`` comes first, so it is not a usable external id. The slash variants are left out
of the OpenAPI schema (``schema=None``) so each operation is documented once.
"""

from django.urls import URLPattern, path

from orders import api


def ingest_routes(
    prefix: str,
    *,
    list_view: type[api.ScopedListView] | None,
    bulk_view: type[api.BulkUpsertView],
    detail_view: type[api.ScopedDetailView],
) -> list[URLPattern]:
    """The list (unless another app serves it), bulk and detail routes of an entity."""
    routes: list[tuple[str, type[api.APIView], str]] = [
        (f"{prefix}/bulk", bulk_view, f"{prefix}-bulk"),
        (f"{prefix}/<str:external_id>", detail_view, f"{prefix}-detail"),
    ]
    if list_view is not None:
        routes.insert(0, (prefix, list_view, f"{prefix}-list"))
    patterns = []
    for route, view, name in routes:
        patterns.append(path(route, view.as_view(), name=name))
        patterns.append(path(f"{route}/", view.as_view(schema=None)))
    return patterns


urlpatterns = [
    path(
        "sellers/<str:external_id>/login-link",
        api.SellerLoginLinkView.as_view(),
        name="seller-login-link",
    ),
    path("sellers/<str:external_id>/login-link/", api.SellerLoginLinkView.as_view(schema=None)),
    *ingest_routes(
        "sellers",
        # GET /api/v1/sellers lists each seller with its current grade: metrics.web.urls.
        list_view=None,
        bulk_view=api.SellerBulkView,
        detail_view=api.SellerDetailView,
    ),
    *ingest_routes(
        "orders",
        list_view=api.OrderListView,
        bulk_view=api.OrderBulkView,
        detail_view=api.OrderDetailView,
    ),
    *ingest_routes(
        "cases",
        list_view=api.CaseListView,
        bulk_view=api.CaseBulkView,
        detail_view=api.CaseDetailView,
    ),
    *ingest_routes(
        "conversations",
        list_view=api.ConversationListView,
        bulk_view=api.ConversationBulkView,
        detail_view=api.ConversationDetailView,
    ),
    *ingest_routes(
        "messages",
        list_view=api.MessageListView,
        bulk_view=api.MessageBulkView,
        detail_view=api.MessageDetailView,
    ),
]
