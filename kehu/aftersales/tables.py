"""The seed's 客户车辆, 维修记录 and 保养记录 tables (SPEC §6.2), with status badges and the
row buttons of the next step (派工 / 完工 / 验收 / 登记回款)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from kehu.core.tables import MoneyColumn
from kehu.documents.tables import DocumentTable

from .models import MaintenanceOrder, OnAccountOrder, RepairOrder, ServiceStatus, Vehicle

STATUS_CSS = {
    ServiceStatus.AWAITING_DISPATCH: "bg-yellow-lt",
    ServiceStatus.IN_PROGRESS: "bg-blue-lt",
    ServiceStatus.AWAITING_ACCEPTANCE: "bg-azure-lt",
    ServiceStatus.AWAITING_PAYMENT: "bg-orange-lt",
    ServiceStatus.COMPLETED: "bg-green-lt",
    ServiceStatus.CANCELLED: "bg-secondary-lt",
}
ROW_STEPS = ("dispatch", "finish", "accept")  # the rest on the order's page


def status_badge(order) -> str:
    return format_html(
        '<span class="badge {}" data-testid="service-status">{}</span>',
        STATUS_CSS.get(order.status, ""),
        order.get_status_display(),
    )


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "无"


def _short(text: str, limit: int) -> str:
    """Long text cut like the seed's "福建省厦门市思明区XXX路XX小区 11...", whole on hover."""
    if len(text) <= limit:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[:limit])


def _modal_button(label: str, url: str, css: str, testid: str = "") -> str:
    return format_html(
        '<a class="btn btn-sm {}" href="{}" hx-get="{}" hx-target="#modal-content"{}>{}</a>',
        css,
        url,
        url,
        format_html(' data-testid="{}"', testid) if testid else "",
        label,
    )


def _buttons(buttons: list[str]) -> str:
    return format_html(
        '<div class="btn-list flex-nowrap">{}</div>',
        mark_safe("".join(buttons)),  # noqa: S308 - each built by format_html
    )


class VehicleTable(DocumentTable):
    """The seed's 客户车辆: 车辆编号 车辆名称 车辆品牌 车辆规格 联系人 联系电话 关联合同 保养剩余天数
    保养次数 售后次数 上次保养时间 下次保养时间 上次年检时间 年检到期时间 创建时间 (操作 first)."""

    url_name = "vehicle"
    number = tables.Column(verbose_name="车辆编号", order_by=("number",))
    name = tables.Column(verbose_name="车辆名称", order_by=("name", "id"))
    brand = tables.Column(verbose_name="车辆品牌", orderable=False, default="未知")
    spec = tables.Column(verbose_name="车辆规格", orderable=False)
    contact_name = tables.Column(verbose_name="联系人", orderable=False)
    contact_phone = tables.Column(verbose_name="联系电话", orderable=False)
    contract = tables.Column(
        verbose_name="关联合同", accessor="contract__number", orderable=False, default="—"
    )
    days_left = tables.Column(
        verbose_name="保养剩余天数",
        empty_values=(),
        order_by=("next_maintenance_at", "id"),
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    maintenance_count = tables.Column(
        verbose_name="保养次数", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    service_count = tables.Column(
        verbose_name="售后次数", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    last_maintenance_at = tables.Column(
        verbose_name="上次保养时间", empty_values=(), order_by=("last_maintenance_at", "id")
    )
    next_maintenance_at = tables.Column(
        verbose_name="下次保养时间", empty_values=(), order_by=("next_maintenance_at", "id")
    )
    last_inspection_at = tables.Column(
        verbose_name="上次年检时间", empty_values=(), orderable=False
    )
    inspection_due_at = tables.Column(
        verbose_name="年检到期时间", empty_values=(), order_by=("inspection_due_at", "id")
    )

    class Meta(DocumentTable.Meta):
        model = Vehicle
        fields = [
            "select",
            "actions",
            "number",
            "name",
            "brand",
            "spec",
            "customer",
            "contact_name",
            "contact_phone",
            "contract",
            "days_left",
            "maintenance_count",
            "service_count",
            "last_maintenance_at",
            "next_maintenance_at",
            "last_inspection_at",
            "inspection_due_at",
            "created_at",
        ]
        exclude = ("approval_status", "remark")
        sequence = fields
        order_by = ("-created_at",)

    def render_days_left(self, record):
        days = record.maintenance_days_left
        if days is None:
            return "—"
        if days < 0:
            return format_html('<span class="text-danger">逾期{}天</span>', -days)
        return days

    def render_last_maintenance_at(self, record):
        return _day(record.last_maintenance_at)

    def render_next_maintenance_at(self, record):
        return _day(record.next_maintenance_at)

    def render_last_inspection_at(self, record):
        return _day(record.last_inspection_at)

    def render_inspection_due_at(self, record):
        return _day(record.inspection_due_at)

    def render_actions(self, record):
        user = getattr(getattr(self, "request", None), "user", None)
        buttons = [
            format_html(
                '<a class="btn btn-sm btn-ghost-primary" href="{}">查看详情</a>',
                reverse("vehicle_detail", args=[record.pk]),
            )
        ]
        if user is not None:
            for perm, url_name, label in (
                ("aftersales.add_repairorder", "repairorder_add", "报修"),
                ("aftersales.add_maintenanceorder", "maintenanceorder_add", "保养"),
            ):
                if user.has_perm(perm):
                    url = reverse(url_name) + f"?vehicle={record.pk}"
                    buttons.append(_modal_button(label, url, "btn-ghost-secondary"))
            if user.has_perm("aftersales.change_vehicle"):
                url = reverse("vehicle_edit", args=[record.pk])
                buttons.append(_modal_button("编辑", url, "btn-ghost-secondary"))
            if user.has_perm("aftersales.delete_vehicle"):
                url = reverse("vehicle_delete", args=[record.pk])
                buttons.append(_modal_button("删除", url, "btn-ghost-danger"))
        return _buttons(buttons)


class ServiceOrderTable(DocumentTable):
    """The seed's 维修记录 / 保养记录 (订单类型 客户名称 单号 车辆名称 客户联系人 联系电话 客户地址
    原因 售后方式 时间 更新时间 创建时间 操作) with 状态, 金额 and 技术员; 操作 and 状态 come
    first, so a technician on a phone sees the next step without scrolling."""

    decl_key = ""
    order_kind = tables.Column(verbose_name="订单类型", orderable=False)
    vehicle = tables.Column(
        verbose_name="车辆名称", accessor="vehicle__name", orderable=False, default="—"
    )
    contact_name = tables.Column(verbose_name="客户联系人", orderable=False)
    contact_phone = tables.Column(verbose_name="联系电话", orderable=False)
    address = tables.Column(verbose_name="客户地址", orderable=False)
    reason = tables.Column(verbose_name="维修原因", orderable=False)
    service_mode = tables.Column(verbose_name="售后方式", orderable=False)
    service_at = tables.DateTimeColumn(
        verbose_name="维修时间", format="Y-m-d H:i", order_by=("service_at", "id")
    )
    amount = MoneyColumn(verbose_name="订单金额", order_by=("amount", "id"))
    status = tables.Column(verbose_name="状态", order_by=("status", "id"))
    assignee = tables.Column(verbose_name="技术员", orderable=False, default="—")
    updated_at = tables.DateTimeColumn(
        verbose_name="更新时间", format="Y-m-d H:i", order_by=("updated_at", "id")
    )

    class Meta(DocumentTable.Meta):
        model = RepairOrder
        fields = [
            "select",
            "actions",
            "status",
            "number",
            "customer",
            "vehicle",
            "amount",
            "assignee",
            "order_kind",
            "contact_name",
            "contact_phone",
            "address",
            "reason",
            "service_mode",
            "service_at",
            "updated_at",
            "created_at",
        ]
        exclude = ("approval_status", "remark")
        sequence = fields
        order_by = ("-created_at",)

    def render_status(self, record):
        return status_badge(record)

    def render_address(self, value):
        return _short(value, 18)

    def render_reason(self, value):
        return _short(value, 12)

    def render_actions(self, record):
        from kehu.documents.types import registry

        from . import flow

        decl = registry[self.decl_key]
        user = getattr(getattr(self, "request", None), "user", None)
        buttons = [
            format_html(
                '<a class="btn btn-sm btn-ghost-primary" href="{}">查看详情</a>',
                reverse(f"{self.url_name}_detail", args=[record.pk]),
            )
        ]
        if user is not None:
            for step in flow.available_steps(user, decl, record, keys=ROW_STEPS):
                url = reverse(f"{self.url_name}_transition", args=[record.pk, step.target])
                buttons.append(
                    _modal_button(step.label, url, "btn-ghost-success", f"row-{step.key}")
                )
            if record.editable and user.has_perm(f"aftersales.change_{self.url_name}"):
                url = reverse(f"{self.url_name}_edit", args=[record.pk])
                buttons.append(_modal_button("编辑", url, "btn-ghost-secondary"))
        return _buttons(buttons)


class RepairOrderTable(ServiceOrderTable):
    url_name, decl_key = "repairorder", "repairorder"
    number = tables.Column(verbose_name="维修单号", order_by=("number",))

    class Meta(ServiceOrderTable.Meta):
        model = RepairOrder


class MaintenanceOrderTable(ServiceOrderTable):
    url_name, decl_key = "maintenanceorder", "maintenanceorder"
    number = tables.Column(verbose_name="保养单号", order_by=("number",))
    vehicle = tables.Column(
        verbose_name="车辆", accessor="vehicle__name", orderable=False, default="—"
    )
    address = tables.Column(verbose_name="保养地址", orderable=False)
    reason = tables.Column(verbose_name="保养内容", orderable=False)
    service_mode = tables.Column(verbose_name="保养方式", orderable=False)
    service_at = tables.DateTimeColumn(
        verbose_name="保养时间", format="Y-m-d H:i", order_by=("service_at", "id")
    )

    class Meta(ServiceOrderTable.Meta):
        model = MaintenanceOrder


ON_ACCOUNT_CSS = {
    "on_account": "bg-orange-lt",
    "payment_review": "bg-yellow-lt",
    "paid": "bg-green-lt",
    "cancelled": "bg-secondary-lt",
}


def on_account_badge(doc) -> str:
    text = doc.get_status_display()
    if doc.approval_status == "rejected":
        text += "（驳回）"
    return format_html(
        '<span class="badge {}" data-testid="onaccount-status">{}</span>',
        ON_ACCOUNT_CSS.get(doc.status, ""),
        text,
    )


class OnAccountOrderTable(DocumentTable):
    """The seed's 挂账订单列表: 挂账订单号 挂账类型 维修门店 客户名称 联系人 联系电话 客户地址 挂账金额
    审批状态 上传凭证 上传时间 创建时间 操作 (操作 first, as on every list)."""

    url_name = "onaccountorder"
    number = tables.Column(verbose_name="挂账订单号", order_by=("number",))
    kind = tables.Column(verbose_name="挂账类型", orderable=False)
    store = tables.Column(verbose_name="维修门店", orderable=False, default="—")
    contact_name = tables.Column(verbose_name="联系人", orderable=False, empty_values=())
    contact_phone = tables.Column(verbose_name="联系电话", orderable=False, empty_values=())
    address = tables.Column(verbose_name="客户地址", orderable=False, empty_values=())
    amount = MoneyColumn(verbose_name="挂账金额", order_by=("amount", "id"))
    approval_status = tables.Column(verbose_name="审批状态", order_by=("approval_status", "id"))
    voucher = tables.Column(verbose_name="上传凭证", orderable=False, empty_values=())
    voucher_at = tables.DateTimeColumn(
        verbose_name="上传时间", format="Y-m-d H:i", default="无", orderable=False
    )

    class Meta(DocumentTable.Meta):
        model = OnAccountOrder
        fields = [
            "select",
            "actions",
            "number",
            "kind",
            "store",
            "customer",
            "contact_name",
            "contact_phone",
            "address",
            "amount",
            "approval_status",
            "voucher",
            "voucher_at",
            "created_at",
        ]
        exclude = ("remark",)
        sequence = fields
        order_by = ("-created_at",)

    def render_kind(self, record):
        return "维修订单" if record.kind == "repair" else "保养订单"

    def render_contact_name(self, record):
        return record.service_order.contact_name

    def render_contact_phone(self, record):
        return record.service_order.contact_phone

    def render_address(self, record):
        return _short(record.service_order.address, 18)

    def render_approval_status(self, record):
        return on_account_badge(record)

    def render_voucher(self, record):
        count = getattr(record, "voucher_count", 0)
        return f"{count}个文件" if count else "无"
