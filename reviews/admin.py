from django.contrib import admin

from common.contracts import contract_form

from .models import Review, Survey
from .services import REVIEW, SURVEY


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    form = contract_form(Review, REVIEW)
    list_display = ["external_id", "order", "seller", "rating", "created_at"]
    list_select_related = ["order__seller"]
    search_fields = ["external_id", "order__external_id", "order__seller__external_id", "comment"]
    list_filter = ["rating", ("created_at", admin.DateFieldListFilter)]
    date_hierarchy = "created_at"
    raw_id_fields = ["order"]

    @admin.display(ordering="order__seller__external_id")
    def seller(self, obj: Review) -> str:
        return str(obj.order.seller)


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    form = contract_form(Survey, SURVEY)  # the API's rules (common.contracts)
    list_display = ["external_id", "order", "seller", "csat", "nps", "answered_at"]
    list_select_related = ["order__seller"]
    search_fields = ["external_id", "order__external_id", "order__seller__external_id"]
    list_filter = ["csat", "nps", ("answered_at", admin.DateFieldListFilter)]
    date_hierarchy = "answered_at"
    raw_id_fields = ["order"]

    @admin.display(ordering="order__seller__external_id")
    def seller(self, obj: Survey) -> str:
        return str(obj.order.seller)
