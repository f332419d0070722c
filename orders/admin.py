from django.contrib import admin

from common.contracts import contract_form

from .models import Case, Conversation, Message, Order, Seller
from .services import CASE, CONVERSATION, MESSAGE, ORDER


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "username", "display_name", "joined_at", "user"]
    search_fields = ["external_id", "username", "display_name"]
    list_filter = [("joined_at", admin.DateFieldListFilter)]
    date_hierarchy = "joined_at"
    raw_id_fields = ["user"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = contract_form(Order, ORDER)  # the API's rules (common.contracts)
    list_display = [
        "external_id",
        "seller",
        "buyer",
        "amount",
        "currency",
        "status",
        "created_at",
        "due_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "ship_by",
        "shipped_at",
        "tracking",
        "excluded_from_metrics",
    ]
    list_select_related = ["seller"]
    search_fields = ["external_id", "buyer", "seller__external_id", "seller__username"]
    list_filter = [
        "excluded_from_metrics",
        "cancelled_by",
        "currency",
        ("completed_at", admin.EmptyFieldListFilter),
        ("cancelled_at", admin.EmptyFieldListFilter),
        ("shipped_at", admin.EmptyFieldListFilter),
        "tracking",
        ("created_at", admin.DateFieldListFilter),
    ]
    date_hierarchy = "created_at"
    raw_id_fields = ["seller"]
    list_editable = ["excluded_from_metrics"]
    fieldsets = [
        (None, {"fields": ["external_id", "seller", "buyer", ("amount", "currency")]}),
        (
            "Lifecycle",
            {
                "fields": [
                    "created_at",
                    "due_at",
                    "delivered_at",
                    "completed_at",
                    ("cancelled_at", "cancelled_by"),
                ]
            },
        ),
        (
            "Dispatch (marketplaces that ship goods)",
            {"fields": ["ship_by", "shipped_at", "tracking"]},
        ),
        ("Metrics", {"fields": ["excluded_from_metrics"]}),
    ]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    form = contract_form(Case, CASE)  # the API's rules (common.contracts)
    list_display = ["external_id", "order", "seller", "kind", "opened_at", "closed_at", "outcome"]
    list_select_related = ["order__seller"]
    search_fields = ["external_id", "order__external_id", "order__seller__external_id"]
    list_filter = [
        "kind",
        "outcome",
        ("closed_at", admin.EmptyFieldListFilter),
        ("opened_at", admin.DateFieldListFilter),
    ]
    date_hierarchy = "opened_at"
    raw_id_fields = ["order"]

    @admin.display(ordering="order__seller__external_id")
    def seller(self, obj: Case) -> str:
        return str(obj.order.seller)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    form = contract_form(Conversation, CONVERSATION)
    list_display = ["external_id", "seller", "buyer", "resolved_at"]
    list_select_related = ["seller"]
    search_fields = ["external_id", "buyer", "seller__external_id"]
    list_filter = [
        ("resolved_at", admin.EmptyFieldListFilter),
        ("resolved_at", admin.DateFieldListFilter),
    ]
    raw_id_fields = ["seller"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    form = contract_form(Message, MESSAGE)
    list_display = ["external_id", "conversation", "seller", "buyer", "sender", "sent_at"]
    list_select_related = ["seller"]
    search_fields = ["external_id", "conversation", "buyer", "seller__external_id"]
    list_filter = ["sender", ("sent_at", admin.DateFieldListFilter)]
    date_hierarchy = "sent_at"
    raw_id_fields = ["seller"]
