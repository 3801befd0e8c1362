"""客户车辆, 维修订单, 保养订单: three declarations of the document layer (kehu.documents), none
approved — a vehicle is kept, a service order moves along :mod:`kehu.aftersales.flow`.

The layer gives each its list page (search panel, tabs — 我的工单 for the orders — modals,
batch delete), its document page, its API (``/api/v1/vehicles``, ``/repair-orders``,
``/maintenance-orders``), its 客户画像 tab, log and attachments. Here: the fields' rules, the
columns, the transition buttons and the ledger's sources (billed from 待支付, paid at 已完成).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from pydantic import Field

from kehu.basics.models import DictKind
from kehu.core.api import Id
from kehu.core.attachments import attachments_of
from kehu.core.errors import ApplicationError
from kehu.core.money import clean_money, money_display
from kehu.customers.validation import clean_dict_entry, clean_phone
from kehu.documents.fields import day as _day
from kehu.documents.fields import field as _field
from kehu.documents.fields import raise_errors as _errors
from kehu.documents.fields import text as _text
from kehu.documents.fields import visible_document as _visible
from kehu.documents.fields import when as _when
from kehu.documents.types import DocumentType, register
from kehu.ledger import services as ledger

from .filters import (
    MaintenanceOrderFilterSet,
    OnAccountOrderFilterSet,
    RepairOrderFilterSet,
    VehicleFilterSet,
)
from .forms import (
    MaintenanceOrderForm,
    OnAccountOrderForm,
    RepairOrderForm,
    VehicleForm,
    default_address,
)
from .models import (
    BILLED_STATUSES,
    MaintenanceOrder,
    MaintenanceOrderItem,
    OnAccountOrder,
    OrderKind,
    RepairOrder,
    RepairOrderItem,
    ServiceMode,
    ServiceStatus,
    Vehicle,
)
from .services import COUNTED_STATES, lock_order, order_paid, payable_order
from .tables import (
    MaintenanceOrderTable,
    OnAccountOrderTable,
    RepairOrderTable,
    VehicleTable,
    status_badge,
)

ZERO = Decimal("0.00")


def _choice(errors, name: str, value, choices, label: str, default: str) -> str:
    value = value or default
    if value not in dict(choices):
        options = " / ".join(f"{k} {v}" for k, v in choices)
        errors[name] = [f"{label}无效（{options}）"]
        return default
    return value


def _when_label(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _date_label(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "无"


def _user_label(user) -> str:
    return str(user) if user else "—"


# --- 客户车辆 -------------------------------------------------------------------------------------


@register
class VehicleType(DocumentType):
    key, model, prefix, label = "vehicle", Vehicle, "ZC", "客户车辆"
    api_path, url_name, tab_key, tab_label = "vehicles", "vehicle", "vehicles", "客户车辆"
    approval = False
    filterset_class, table_class, form_class = VehicleFilterSet, VehicleTable, VehicleForm
    tab_order = 60
    delete_hint = "已有维修或保养订单的车辆不能删除。"
    api_fields = {
        "customer_id": (Id, ...),
        "name": (str, Field(..., max_length=100)),
        "brand_id": (Id | None, Field(None, description="字典 vehicle-brands 的条目")),
        "spec": (str, Field("", max_length=50)),
        "serial_number": (str, Field("", max_length=50, description="出厂编号")),
        "contact_name": (str, Field("", max_length=50, description="默认为客户的联系人")),
        "contact_phone": (str, Field("", max_length=30)),
        "contract_id": (Id | None, Field(None, description="该客户的合同")),
        "maintenance_interval_days": (int, Field(90, ge=1, le=3650, description="保养周期（天）")),
        "next_maintenance_at": (date | None, None),
        "last_inspection_at": (date | None, None),
        "inspection_due_at": (date | None, None),
    }
    out_fields = (
        "name",
        "brand",
        "spec",
        "serial_number",
        "contact_name",
        "contact_phone",
        "contract",
        "maintenance_interval_days",
        "last_maintenance_at",
        "next_maintenance_at",
        "maintenance_count",
        "service_count",
        "last_service_at",
        "last_inspection_at",
        "inspection_due_at",
    )
    out_extra = {"maintenance_days_left": int | None, "brand_name": str, "contract_number": str}
    search_fields = ("number", "name", "serial_number", "customer__name")
    select_related = ("customer", "customer__owner", "creator", "brand", "contract")
    api_orderings = ("created_at", "number", "name", "next_maintenance_at", "inspection_due_at")

    def serialize(self, doc):
        data = super().serialize(doc)
        data["maintenance_days_left"] = doc.maintenance_days_left
        data["brand_name"] = doc.brand.name if doc.brand_id else ""
        data["contract_number"] = doc.contract.number if doc.contract_id else ""
        return data

    def clean(self, *, actor, data, instance, customer):
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        cleaned["name"] = _field(
            errors, "name", _text, data.get("name"), "车辆名称", 100, required=True
        )
        cleaned["spec"] = _field(errors, "spec", _text, data.get("spec"), "车辆规格", 50)
        cleaned["serial_number"] = _field(
            errors, "serial_number", _text, data.get("serial_number"), "出厂编号", 50
        )
        cleaned["brand"] = _field(
            errors, "brand", clean_dict_entry, data.get("brand"), DictKind.VEHICLE_BRAND, "车辆品牌"
        )
        cleaned["contact_name"] = (
            _field(errors, "contact_name", _text, data.get("contact_name"), "联系人", 50)
            or customer.contact_name
        )
        phone = data.get("contact_phone")
        cleaned["contact_phone"] = (
            _field(errors, "contact_phone", clean_phone, phone, label="联系电话")
            if phone
            else customer.contact_phone
        )
        contract = data.get("contract")
        contract_pk = getattr(contract, "pk", contract)
        if contract_pk in (None, ""):
            cleaned["contract"] = None
        elif instance is not None and str(contract_pk) == str(instance.contract_id):
            cleaned["contract"] = instance.contract  # unchanged: kept even if not listable
        else:
            from kehu.sales.models import Contract

            found = _field(
                errors, "contract", _visible, Contract, actor, contract_pk, "合同", customer
            )
            if found is not None and found.approval_status == "void":
                errors["contract"] = ["该合同已作废"]
            cleaned["contract"] = found
        interval = data.get("maintenance_interval_days")
        try:
            interval = int(interval if interval not in (None, "") else 90)
            if not 1 <= interval <= 3650:
                raise ValueError
        except (TypeError, ValueError):
            errors["maintenance_interval_days"] = ["保养周期必须是1到3650之间的整数（天）"]
            interval = 90
        cleaned["maintenance_interval_days"] = interval
        for name, label in (
            ("next_maintenance_at", "下次保养时间"),
            ("last_inspection_at", "上次年检时间"),
            ("inspection_due_at", "年检到期时间"),
        ):
            cleaned[name] = _field(errors, name, _day, data.get(name), label)
        if (
            cleaned["last_inspection_at"]
            and cleaned["inspection_due_at"]
            and cleaned["inspection_due_at"] < cleaned["last_inspection_at"]
        ):
            errors["inspection_due_at"] = ["年检到期时间不能早于上次年检时间"]
        if (
            instance is not None
            and instance.last_maintenance_at
            and interval != instance.maintenance_interval_days
        ):
            # a new interval moves the next maintenance with it (else the date given stands)
            from datetime import timedelta

            cleaned["next_maintenance_at"] = instance.last_maintenance_at + timedelta(days=interval)
        _errors(errors)
        return cleaned

    def detail_fields(self, doc):
        days = doc.maintenance_days_left
        return [
            ("车辆名称", doc.name),
            ("车辆品牌", doc.brand.name if doc.brand else "未知"),
            ("车辆规格", doc.spec or "—"),
            ("出厂编号", doc.serial_number or "—"),
            ("联系人", doc.contact_name or "—"),
            ("联系电话", doc.contact_phone or "—"),
            ("关联合同", f"{doc.contract.number} {doc.contract.name}" if doc.contract else "—"),
            ("保养周期", f"{doc.maintenance_interval_days}天"),
            ("保养剩余天数", "—" if days is None else (f"逾期{-days}天" if days < 0 else days)),
            ("保养次数", doc.maintenance_count),
            ("售后次数", doc.service_count),
            ("上次保养时间", _date_label(doc.last_maintenance_at)),
            ("下次保养时间", _date_label(doc.next_maintenance_at)),
            ("上次年检时间", _date_label(doc.last_inspection_at)),
            ("年检到期时间", _date_label(doc.inspection_due_at)),
        ]

    def delete_refusal(self, doc):
        if (
            RepairOrder.objects.filter(vehicle=doc).exists()
            or MaintenanceOrder.objects.filter(vehicle=doc).exists()
        ):
            return "该车辆已有维修或保养订单，不能删除"
        return None

    def extra_actions(self, user, doc):
        found = []
        for perm, url_name, label in (
            ("aftersales.add_repairorder", "repairorder_add", "报修"),
            ("aftersales.add_maintenanceorder", "maintenanceorder_add", "保养"),
        ):
            if user.has_perm(perm):
                found.append((label, reverse(url_name) + f"?vehicle={doc.pk}", "btn-primary"))
        return found

    def related_tables(self, request, doc):
        from kehu.documents.views import related_sections

        hidden = ("vehicle", "address", "contact_phone")
        return related_sections(
            request,
            doc,
            [
                ("repairorder", "维修记录", "vehicle", hidden),
                ("maintenanceorder", "保养记录", "vehicle", hidden),
            ],
            limit=50,
        )


# --- 维修订单, 保养订单 ---------------------------------------------------------------------------


class ServiceOrderType(DocumentType):
    """What the two service orders share; each names its model, number prefix and ledger kind."""

    approval = False
    ledger_kind = ""
    payment_field = ""  # the 回款 / 挂账订单 field naming an order of this type
    reason_label = "维修原因"
    tab_order = 70
    extra_tabs = (("assigned", "我的工单"),)
    delete_hint = "只有待派工、进行中或待验收的可以删除。"
    api_fields = {
        "customer_id": (Id, ...),
        "vehicle_id": (Id | None, Field(None, description="该客户的车辆")),
        "order_kind": (
            str,
            Field("enterprise", description="enterprise 企业订单 / personal 个人订单"),
        ),
        "contact_id": (
            Id | None,
            Field(None, description="该客户的联系人：带出联系人和电话（可再覆盖）"),
        ),
        "contact_name": (str, Field("", max_length=50, description="默认为客户的联系人")),
        "contact_phone": (str, Field("", max_length=30)),
        "address": (str, Field("", max_length=200, description="默认为客户的地址")),
        "reason": (str, Field("", max_length=500)),
        "service_mode": (str, Field("onsite", description="onsite 上门服务 / in_store 到店服务")),
        "service_at": (datetime | None, None),
        "amount": (
            Decimal | str | None,
            Field(None, description='"160.00" or a number; with items, their sum'),
        ),
    }
    create_only_fields = ("customer_id",)
    out_fields = (
        "vehicle",
        "order_kind",
        "contact_name",
        "contact_phone",
        "address",
        "reason",
        "service_mode",
        "service_at",
        "amount",
        "status",
        "assignee",
        "dispatched_at",
        "finished_at",
        "billed_at",
        "completed_at",
        "cancelled_at",
        "cancel_reason",
    )
    out_extra = {"vehicle_name": str, "assignee_name": str, "status_label": str}
    search_fields = ("number", "customer__name", "vehicle__name", "contact_name", "contact_phone")
    select_related = ("customer", "customer__owner", "creator", "vehicle", "assignee")
    api_orderings = ("created_at", "updated_at", "number", "amount", "service_at", "status")

    def current_data(self, doc):
        """The stored input (a PATCH overlays what it sends); ``contact_id`` is input only."""
        data: dict[str, Any] = {"remark": doc.remark}
        for key in self.api_fields:
            if key not in (*self.create_only_fields, "contact_id"):
                data[key[:-3] if key.endswith("_id") else key] = getattr(doc, key)
        return data

    def serialize(self, doc):
        data = super().serialize(doc)
        data["vehicle_name"] = doc.vehicle.name if doc.vehicle_id else ""
        data["assignee_name"] = str(doc.assignee) if doc.assignee_id else ""
        data["status_label"] = doc.get_status_display()
        return data

    def state_display(self, doc):
        return f"状态为「{doc.get_status_display()}」"

    def after_save(self, doc, *, created, actor):
        if created:  # an open order keeps the customer out of the pool return (hooks.py)
            from kehu.pool import rules as pool_rules

            pool_rules.refresh_return_due([doc.customer_id])

    def filter_tab(self, queryset, *, tab, user):
        if tab == "assigned":
            return queryset.filter(assignee_id=user.pk)
        return queryset

    def clean(self, *, actor, data, instance, customer):
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        cleaned["order_kind"] = _choice(
            errors,
            "order_kind",
            data.get("order_kind"),
            OrderKind.choices,
            "订单类型",
            "enterprise",
        )
        meta = self.model._meta
        cleaned["service_mode"] = _choice(
            errors,
            "service_mode",
            data.get("service_mode"),
            ServiceMode.choices,
            str(meta.get_field("service_mode").verbose_name),
            "onsite",
        )
        vehicle = data.get("vehicle")
        if vehicle in (None, ""):
            cleaned["vehicle"] = None
        else:
            cleaned["vehicle"] = _field(
                errors, "vehicle", _visible, Vehicle, actor, vehicle, "车辆", customer
            )
        contact = self._contact(errors, data.get("contact"), customer)
        vehicle_obj = cleaned.get("vehicle")
        fallback = contact or (
            vehicle_obj if vehicle_obj and vehicle_obj.contact_name else customer
        )
        name = _field(errors, "contact_name", _text, data.get("contact_name"), "客户联系人", 50)
        cleaned["contact_name"] = name or (contact.name if contact else fallback.contact_name)
        phone = data.get("contact_phone")
        if phone:
            cleaned["contact_phone"] = _field(
                errors, "contact_phone", clean_phone, phone, label="联系电话"
            )
        else:
            cleaned["contact_phone"] = (
                (contact.mobile or contact.phone) if contact else fallback.contact_phone
            )
        if not cleaned["contact_phone"] and "contact_phone" not in errors:
            errors["contact_phone"] = ["请填写联系电话"]
        address = _field(errors, "address", _text, data.get("address"), "地址", 200)
        cleaned["address"] = address or default_address(customer)
        cleaned["reason"] = _field(
            errors, "reason", _text, data.get("reason"), self.reason_label, 500
        )
        cleaned["service_at"] = _field(
            errors,
            "service_at",
            _when,
            data.get("service_at"),
            meta.get_field("service_at").verbose_name,
        ) or (instance.service_at if instance else timezone.now())
        cleaned["amount"] = _field(errors, "amount", clean_money, data.get("amount"), "订单金额")
        _errors(errors)
        return cleaned

    @staticmethod
    def _contact(errors, value, customer):
        """``contact_id``: one of the customer's contacts (it fills name and phone)."""
        from kehu.customers.models import Contact

        if value in (None, ""):
            return None
        pk = getattr(value, "pk", value)
        found = (
            Contact.objects.filter(pk=pk, customer=customer).first()
            if str(pk).isdigit() and len(str(pk)) < 19
            else None
        )
        if found is None:
            errors["contact"] = ["联系人不存在或不属于该客户"]
        return found

    def detail_fields(self, doc):
        fields = [
            ("状态", status_badge(doc)),
            ("订单类型", doc.get_order_kind_display()),
            (
                "车辆",
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("vehicle_detail", args=[doc.vehicle_id]),
                    doc.vehicle,
                )
                if doc.vehicle_id
                else "—",
            ),
            ("客户联系人", doc.contact_name),
            ("联系电话", doc.contact_phone),
            (doc._meta.get_field("address").verbose_name, doc.address or "—"),
            (self.reason_label, doc.reason or "—"),
            (doc._meta.get_field("service_mode").verbose_name, doc.get_service_mode_display()),
            (doc._meta.get_field("service_at").verbose_name, _when_label(doc.service_at)),
            ("订单金额", money_display(doc.amount)),
            ("技术员", _user_label(doc.assignee)),
            ("派工时间", _when_label(doc.dispatched_at)),
            ("完工时间", _when_label(doc.finished_at)),
            ("验收时间", _when_label(doc.billed_at)),
            ("完成时间", _when_label(doc.completed_at)),
        ]
        if doc.status == ServiceStatus.CANCELLED:
            fields += [("取消时间", _when_label(doc.cancelled_at)), ("取消原因", doc.cancel_reason)]
        return fields

    def extra_actions(self, user, doc):
        from kehu.org.authz import can
        from kehu.sales.models import Payment

        from . import flow

        paying = []
        if doc.status == ServiceStatus.AWAITING_PAYMENT and order_paid(doc) < doc.amount:
            query = f"?{self.payment_field}={doc.pk}"
            if can(user, "add", Payment(customer=doc.customer)):
                paying.append(("登记回款", reverse("payment_add") + query, "btn-primary"))
            if can(user, "add", OnAccountOrder(customer=doc.customer)):
                paying.append(("挂账", reverse("onaccountorder_add") + query, ""))
        return paying + [
            (
                step.label,
                reverse(f"{self.url_name}_transition", args=[doc.pk, step.target]),
                step.style,
            )
            for step in flow.available_steps(user, self, doc)
        ]

    def related_tables(self, request, doc):
        """处理记录: every state change and edit of the order, who and when (the change log)."""
        from django.template.loader import render_to_string

        from kehu.audit.selectors import changelog_list
        from kehu.documents.views import related_sections

        entries = changelog_list(
            user=request.user, object_type=self.model._meta.label_lower, object_id=doc.pk
        ).order_by("-id")[:50]
        html = render_to_string(
            "aftersales/htmx/history.html",
            {"entries": [(e, self._history_text(e)) for e in entries]},
            request=request,
        )
        paid = []
        if doc.billed_at is not None:  # 回款 and 挂账订单 against it (from 待支付 on)
            paid = related_sections(
                request,
                doc,
                [
                    ("payment", "回款", self.payment_field, ("contract", "contract_name")),
                    ("onaccount", "挂账订单", self.payment_field, ("contact_name", "address")),
                ],
                limit=50,
            )
        return [*paid, ("处理记录", html)]

    def _history_text(self, entry) -> str:
        """A step's own sentence ("维修订单「WX…」派工给「陈售后」"), else 创建 / 修改：字段…"""
        if entry.message.startswith(f"{self.label}「"):
            return entry.message
        text = entry.get_action_display()
        names = []
        for name in entry.changes or {}:
            try:
                names.append(str(self.model._meta.get_field(name).verbose_name))
            except Exception:  # noqa: BLE001 - items and other non-field keys
                names.append("明细" if name == "items" else name)
        return f"{text}：{'、'.join(names)}" if names else text


@register
class RepairOrderType(ServiceOrderType):
    key, model, prefix, label = "repairorder", RepairOrder, "WX", "维修订单"
    api_path, url_name, tab_key, tab_label = "repair-orders", "repairorder", "repairs", "维修记录"
    item_model = RepairOrderItem
    filterset_class, table_class, form_class = (
        RepairOrderFilterSet,
        RepairOrderTable,
        RepairOrderForm,
    )
    ledger_kind = "repair"
    payment_field = "repair_order"
    reason_label = "维修原因"
    tab_order = 70


@register
class MaintenanceOrderType(ServiceOrderType):
    key, model, prefix, label = "maintenanceorder", MaintenanceOrder, "BY", "保养订单"
    api_path, url_name, tab_key, tab_label = (
        "maintenance-orders",
        "maintenanceorder",
        "maintenances",
        "保养记录",
    )
    item_model = MaintenanceOrderItem
    filterset_class, table_class, form_class = (
        MaintenanceOrderFilterSet,
        MaintenanceOrderTable,
        MaintenanceOrderForm,
    )
    ledger_kind = "maintenance"
    payment_field = "maintenance_order"
    reason_label = "保养内容"
    tab_order = 80


# --- 挂账订单 ------------------------------------------------------------------------------------


@register
class OnAccountOrderType(DocumentType):
    """挂账订单 (SPEC §6.2): a repair or maintenance order awaiting payment charged to the
    customer's account. 挂账中 → (凭证 uploaded, 提交审批) 支付审批 → (财务 approves) 已付款,
    paid in the ledger and the service order 已完成 once paid in full; 取消 while 挂账中, or
    作废 of a paid one (reversed exactly, the order back to 待支付)."""

    key, model, prefix, label = "onaccount", OnAccountOrder, "GZ", "挂账订单"
    api_path, url_name, tab_key, tab_label = (
        "on-account-orders",
        "onaccountorder",
        "onaccounts",
        "挂账订单列表",
    )
    filterset_class, table_class, form_class = (
        OnAccountOrderFilterSet,
        OnAccountOrderTable,
        OnAccountOrderForm,
    )
    tab_order = 90
    addable_from_portrait = False  # charged from a service order awaiting payment
    delete_hint = "只有挂账中（未提交）的可以删除。"
    api_fields = {
        "repair_order_id": (Id | None, Field(None, description="待支付的维修订单")),
        "maintenance_order_id": (Id | None, Field(None, description="待支付的保养订单")),
        "store_id": (Id | None, Field(None, description="字典 stores（门店）的条目")),
        "amount": (
            Decimal | str | None,
            Field(None, description='"110.00" or a number; 默认为订单未付金额'),
        ),
    }
    create_only_fields = ("repair_order_id", "maintenance_order_id")
    out_fields = ("repair_order", "maintenance_order", "kind", "store", "amount")
    out_extra = {"status": str, "status_label": str, "store_name": str}
    search_fields = ("number", "customer__name")
    select_related = (
        "customer",
        "customer__owner",
        "creator",
        "repair_order",
        "maintenance_order",
        "store",
    )
    api_orderings = ("created_at", "number", "amount")

    def serialize(self, doc):
        data = super().serialize(doc)
        data["status"] = doc.status
        data["status_label"] = doc.get_status_display()
        data["store_name"] = doc.store.name if doc.store_id else ""
        return data

    def state_display(self, doc):
        return f"状态为「{doc.get_status_display()}」"

    def list_queryset(self, queryset):
        """上传凭证 / 上传时间: the vouchers (attachments) counted and dated in the same query."""
        from django.contrib.contenttypes.models import ContentType
        from django.db.models import Count, IntegerField, Max, OuterRef, Subquery

        from kehu.core.models import Attachment

        vouchers = Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(OnAccountOrder),
            object_id=OuterRef("pk"),
        ).order_by()
        return queryset.annotate(
            voucher_count=Subquery(
                vouchers.values("object_id").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            voucher_at=Subquery(
                vouchers.values("object_id").annotate(t=Max("created_at")).values("t")
            ),
        )

    @staticmethod
    def _order_for(actor, data):
        """The service order named (exactly one), visible, awaiting payment, locked."""
        named = [k for k in ("repair_order", "maintenance_order") if data.get(k) not in (None, "")]
        if len(named) != 1:
            message = "请选择待支付的维修订单或保养订单（只选一个）"
            raise ApplicationError(message, errors={"repair_order": [message]})
        key = named[0]
        order = payable_order(actor, key, data.get(key), doing="挂账")
        return key, order

    def customer_for(self, *, actor, data):
        return self._order_for(actor, data)[1].customer

    def new_number(self, doc) -> str:
        """挂账订单号 = the service order's number (the seed's); -2, -3 … after a cancelled one."""
        base = doc.service_order.number
        taken = set(
            OnAccountOrder.objects.filter(number__startswith=base).values_list("number", flat=True)
        )
        if base not in taken:
            return base
        return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)

    def clean(self, *, actor, data, instance, customer):
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        if instance is None:
            key, order = self._order_for(actor, data)
            cleaned[key] = order
            cleaned["kind"] = "repair" if key == "repair_order" else "maintenance"
        else:
            order = instance.service_order
            order = lock_order(type(order), order.pk)
        cleaned["store"] = _field(
            errors, "store", clean_dict_entry, data.get("store"), DictKind.STORE, "维修门店"
        )
        left = order.amount - order_paid(order)
        if instance is not None and instance.approval_status in COUNTED_STATES:
            left += instance.amount
        if data.get("amount") in (None, ""):  # empty: what is left to pay
            amount = max(left, ZERO)
        else:
            amount = _field(errors, "amount", clean_money, data.get("amount"), "挂账金额")
        if amount is not None and amount <= 0:
            errors["amount"] = [
                "挂账金额必须大于0" if left > 0 else f"订单「{order.number}」已无未付金额"
            ]
        elif amount is not None and amount > left:
            errors["amount"] = [
                f"挂账金额超出订单未付金额：订单金额 {money_display(order.amount)}，"
                f"最多还能挂账 {money_display(max(left, ZERO))}"
            ]
        cleaned["amount"] = amount
        _errors(errors)
        return cleaned

    def detail_fields(self, doc):
        from .tables import on_account_badge

        order = doc.service_order
        url = reverse(f"{order._meta.model_name}_detail", args=[order.pk])
        vouchers = list(attachments_of(doc)[:1])
        return [
            ("状态", on_account_badge(doc)),
            ("挂账类型", "维修订单" if doc.kind == "repair" else "保养订单"),
            (
                str(order._meta.verbose_name),
                format_html(
                    '<a href="{}">{}</a>（{}）', url, order.number, order.get_status_display()
                ),
            ),
            ("维修门店", doc.store or "—"),
            ("联系人", order.contact_name),
            ("联系电话", order.contact_phone),
            ("客户地址", order.address or "—"),
            ("挂账金额", money_display(doc.amount)),
            ("订单金额", money_display(order.amount)),
            (
                "上传时间",
                _when_label(vouchers[0].created_at) if vouchers else "无（请在下方上传凭证）",
            ),
        ]

    def submit_refusal(self, doc):
        if not attachments_of(doc).exists():
            return "请先上传付款凭证（附件）再提交支付审批"
        order = lock_order(type(doc.service_order), doc.service_order.pk)
        if order.status != ServiceStatus.AWAITING_PAYMENT:
            return f"订单「{order.number}」状态为「{order.get_status_display()}」，不能提交支付审批"
        if order_paid(order) > order.amount:
            return "挂账金额超出订单未付金额，请修改挂账金额"
        return None

    def on_approved(self, doc):
        ledger.post(customer_id=doc.customer_id, kind=doc.kind, paid=doc.amount)
        self._settle(doc)

    def on_voided(self, doc):
        ledger.post(customer_id=doc.customer_id, kind=doc.kind, paid=-doc.amount)
        self._settle(doc)

    @staticmethod
    def _settle(doc):
        from . import flow

        order = doc.service_order
        flow.settle(type(order), order.pk, actor=getattr(doc, "acting_user", None))

    def extra_actions(self, user, doc):
        from kehu.org.authz import can

        if doc.editable and can(user, "change", doc):
            return [
                ("取消挂账", reverse("onaccountorder_cancel", args=[doc.pk]), "btn-outline-danger")
            ]
        return []


def cancel_on_account(*, actor, doc, reason: str):
    """取消 a 挂账订单 still 挂账中 (未提交 or 驳回): kept in the list as 取消, nothing posted."""
    from django.db import transaction

    from kehu.audit.models import Action
    from kehu.audit.services import record_change
    from kehu.core.errors import Conflict
    from kehu.documents.approval import clean_comment
    from kehu.org.authz import authorize

    with transaction.atomic():
        doc = OnAccountOrder.objects.select_for_update(of=("self",)).get(pk=doc.pk)
        authorize(actor, "change", doc, message="没有处理挂账订单的权限")
        if not doc.editable:
            raise Conflict(
                f"挂账订单「{doc.number}」{doc.get_status_display()}，不能取消", code="wrong_state"
            )
        reason = clean_comment(reason, required=True, what="取消原因")
        before = doc.approval_status
        doc.approval_status, doc.voided_at, doc.void_reason = "void", timezone.now(), reason
        doc.save(update_fields=["approval_status", "voided_at", "void_reason", "updated_at"])
        record_change(
            actor=actor,
            action=Action.UPDATE,
            obj=doc,
            before={"approval_status": before},
            after={"approval_status": doc.approval_status},
            message=f"挂账订单「{doc.number}」取消：{reason}",
        )
    return doc


# --- the ledger's sources: what reconcile_receivables recomputes from -------------------------


def _service_source(model, kind: str):
    """One row per order ever billed: billed while 待支付/已完成, ever billed (状态 已成交)
    when its amount was above zero. What is paid comes from the 回款 (kehu.sales) and 挂账订单
    (below) against it."""
    from django.db.models import Case, IntegerField, Q, Value, When

    return (
        model.objects.filter(billed_at__isnull=False)
        .annotate(
            kind=Value(kind),
            billed=ledger.amount_when(Q(status__in=BILLED_STATUSES)),
            paid=ledger.no_amount(),
            ever_billed=Case(
                When(amount__gt=0, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .values("customer_id", "kind", "billed", "paid", "ever_billed")
        .order_by()
    )


@ledger.register_source(billed_on="billed_at")
def billed_repair_orders():
    return _service_source(RepairOrder, "repair")


@ledger.register_source(billed_on="billed_at")
def billed_maintenance_orders():
    return _service_source(MaintenanceOrder, "maintenance")


@ledger.register_source
def paid_on_account_orders():
    """挂账订单 审批通过 (已付款): paid for their kind."""
    from django.db.models import IntegerField, Q, Value

    return (
        OnAccountOrder.objects.filter(approval_status="approved")
        .annotate(
            billed=ledger.no_amount(),
            paid=ledger.amount_when(Q(pk__isnull=False)),
            ever_billed=Value(0, output_field=IntegerField()),
        )
        .values("customer_id", "kind", "billed", "paid", "ever_billed")
        .order_by()
    )
