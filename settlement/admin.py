from django.contrib import admin

from portal.admin import RegionScopedAdmin
from settlement.models import BenefitPolicy, CategoryPolicy, Settlement


@admin.register(BenefitPolicy)
class BenefitPolicyAdmin(RegionScopedAdmin):
    list_display = [
        "region",
        "year",
        "scheme",
        "level",
        "deductible",
        "ratio",
        "annual_cap",
        "class_b_rate",
    ]
    list_filter = ["year", "scheme", "level", "region"]
    list_select_related = ["region"]


@admin.register(CategoryPolicy)
class CategoryPolicyAdmin(RegionScopedAdmin):
    list_display = [
        "region",
        "year",
        "category",
        "ratio_reduction_points",
        "deductible_multiplier",
        "fund_share",
    ]
    list_filter = ["year", "category", "region"]
    list_select_related = ["region"]


@admin.register(Settlement)
class SettlementAdmin(RegionScopedAdmin):
    region_field = "insured_region"
    list_display = [
        "number",
        "hospital",
        "category",
        "policy_year",
        "total",
        "fund_pay",
        "person_pay",
        "status",
        "created_at",
    ]
    list_filter = ["status", "category", "policy_year", "care_type", "created_at"]
    search_fields = ["number"]
    list_select_related = ["hospital"]
    readonly_fields = [
        f.name for f in Settlement._meta.fields if f.name not in {"id", "person", "request_hash"}
    ]
    exclude = ["person", "request_hash"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from settlement import admin_clearing  # noqa: E402,F401  (clearing statements)
