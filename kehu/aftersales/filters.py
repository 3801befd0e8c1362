"""The search panels of 客户车辆, 维修订单 and 保养订单 (the page, the API list and the export)."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.utils import timezone

from kehu.basics.models import DictEntry, DictKind
from kehu.documents.filters import DocumentFilterSet
from kehu.ledger import ageing

from .models import (
    MAINTENANCE_STATUS_CHOICES,
    ON_ACCOUNT_STATES,
    MaintenanceOrder,
    OnAccountOrder,
    OnAccountStatus,
    OrderKind,
    RepairOrder,
    ServiceMode,
    ServiceStatus,
    Vehicle,
)

MAINTENANCE_DUE_DAYS = 30


class VehicleFilterSet(DocumentFilterSet):
    q = django_filters.CharFilter(label="车辆编号/名称/客户", method="search")
    approval_status = None  # vehicles are not approved
    awaiting_me = None
    brand = django_filters.ModelChoiceFilter(
        label="车辆品牌",
        queryset=DictEntry.objects.filter(kind=DictKind.VEHICLE_BRAND),
        error_messages={"invalid_choice": "车辆品牌不存在"},
    )
    maintenance = django_filters.ChoiceFilter(
        label="保养",
        choices=[
            ("due", f"{MAINTENANCE_DUE_DAYS}天内需保养"),
            ("overdue", "保养已逾期"),
            ("none", "未设下次保养"),
        ],
        method="filter_maintenance",
    )
    search_fields = ("number", "name", "serial_number", "customer__name")

    class Meta(DocumentFilterSet.Meta):
        model = Vehicle

    def filter_maintenance(self, queryset, name, value):
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(next_maintenance_at__lt=today)
        if value == "none":
            return queryset.filter(next_maintenance_at__isnull=True)
        return queryset.filter(
            next_maintenance_at__gte=today,
            next_maintenance_at__lte=today + timedelta(days=MAINTENANCE_DUE_DAYS),
        )


class ServiceOrderFilterSet(DocumentFilterSet):
    q = django_filters.CharFilter(label="单号/客户/车辆/联系人", method="search")
    approval_status = None  # service orders follow their own flow (status)
    awaiting_me = None
    status = django_filters.ChoiceFilter(label="状态", choices=ServiceStatus.choices)
    order_kind = django_filters.ChoiceFilter(label="订单类型", choices=OrderKind.choices)
    service_mode = django_filters.ChoiceFilter(label="售后方式", choices=ServiceMode.choices)
    assignee_id = django_filters.NumberFilter(
        label="技术员ID", field_name="assignee_id", widget=forms.HiddenInput
    )
    vehicle_id = django_filters.NumberFilter(
        label="车辆ID", field_name="vehicle_id", widget=forms.HiddenInput
    )
    search_fields = (
        "number",
        "customer__name",
        "vehicle__name",
        "contact_name",
        "contact_phone",
    )
    ageing = django_filters.ChoiceFilter(
        label="账龄（待支付）", choices=ageing.CHOICES, method="filter_ageing"
    )

    class Meta(DocumentFilterSet.Meta):
        model = RepairOrder

    def filter_ageing(self, queryset, name, value):
        """首页's 应收账龄 buckets: orders at 待支付 of that age (kehu/ledger/ageing.py)."""
        return ageing.in_bucket(ageing.open_service_orders(queryset), value, timezone.localdate())


class RepairOrderFilterSet(ServiceOrderFilterSet):
    class Meta(DocumentFilterSet.Meta):
        model = RepairOrder


class MaintenanceOrderFilterSet(ServiceOrderFilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=MAINTENANCE_STATUS_CHOICES)
    service_mode = django_filters.ChoiceFilter(label="保养方式", choices=ServiceMode.choices)

    class Meta(DocumentFilterSet.Meta):
        model = MaintenanceOrder


class OnAccountOrderFilterSet(DocumentFilterSet):
    """挂账订单: 挂账中 / 支付审批 / 已付款 / 取消 are approval states by another name."""

    q = django_filters.CharFilter(label="挂账订单号/客户", method="search")
    approval_status = None
    status = django_filters.ChoiceFilter(
        label="审批状态", choices=OnAccountStatus.choices, method="filter_status"
    )
    kind = django_filters.ChoiceFilter(
        label="挂账类型", choices=[("repair", "维修订单"), ("maintenance", "保养订单")]
    )
    store = django_filters.ModelChoiceFilter(
        label="维修门店",
        queryset=DictEntry.objects.filter(kind=DictKind.STORE),
        error_messages={"invalid_choice": "门店不存在"},
    )
    search_fields = ("number", "customer__name")

    class Meta(DocumentFilterSet.Meta):
        model = OnAccountOrder

    def filter_status(self, queryset, name, value):
        states = [a for a, s in ON_ACCOUNT_STATES.items() if s == value]
        return queryset.filter(approval_status__in=states)
