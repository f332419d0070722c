from django.contrib import admin

from .models import Message, Order, Seller


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "username", "display_name", "joined_at", "user"]
    search_fields = ["external_id", "username", "display_name"]
    list_filter = [("joined_at", admin.DateFieldListFilter)]
    date_hierarchy = "joined_at"
    raw_id_fields = ["user"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
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
        ("created_at", admin.DateFieldListFilter),
    ]
    date_hierarchy = "created_at"
    raw_id_fields = ["seller"]
    list_editable = ["excluded_from_metrics"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["external_id", "conversation", "seller", "buyer", "sender", "sent_at"]
    list_select_related = ["seller"]
    search_fields = ["external_id", "conversation", "buyer", "seller__external_id"]
    list_filter = ["sender", ("sent_at", admin.DateFieldListFilter)]
    date_hierarchy = "sent_at"
    raw_id_fields = ["seller"]
