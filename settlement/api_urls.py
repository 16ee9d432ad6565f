from django.urls import path

from settlement.api import SettlementCreate, SettlementDetail

urlpatterns = [
    path("settlements", SettlementCreate.as_view(), name="api-settlements"),
    path("settlements/<str:number>", SettlementDetail.as_view(), name="api-settlement"),
]
