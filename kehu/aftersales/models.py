"""售后 (SPEC §6.2): customer vehicles (客户车辆), repair orders (维修订单) and maintenance orders
(保养订单) — documents of the generic layer (kehu.documents) without approval.

A service order moves along one flow (:mod:`kehu.aftersales.flow`): 待派工 → 维修中/保养中 →
待验收 → 待支付 (billed to the customer's 维修订单/保养订单 receivable) → 已完成, or 已取消
before 已完成. A vehicle's counts and maintenance dates are derived from its orders
(:func:`kehu.aftersales.services.refresh_vehicles`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.basics.models import DictEntry, DictKind
from kehu.documents.models import Document, LineItem

MONEY = {"max_digits": 14, "decimal_places": 2}
DEFAULT_MAINTENANCE_INTERVAL = 90  # days between two maintenances, unless the vehicle says


class Vehicle(Document):
    """客户车辆: a forklift of a customer, perhaps sold under one of its contracts."""

    # Actions on after-sales records need the permission and a visible customer, not its
    # ownership: the after-sales team serves every customer it sees (kehu.org.authz.is_owned).
    permission_decides = True

    name = models.CharField(_("车辆名称"), max_length=100)
    brand = models.ForeignKey(
        DictEntry,
        verbose_name=_("车辆品牌"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.VEHICLE_BRAND},
    )
    spec = models.CharField(_("车辆规格"), max_length=50, blank=True)
    serial_number = models.CharField(_("出厂编号"), max_length=50, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    contract = models.ForeignKey(
        "sales.Contract",
        verbose_name=_("关联合同"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vehicles",
    )
    # The contract line it was sold on (生成车辆 from an approved 整车/租赁 contract): one vehicle
    # per unit, so a line of 3 gives at most 3 vehicles.
    contract_item = models.ForeignKey(
        "sales.ContractItem",
        verbose_name=_("合同明细"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vehicles",
        editable=False,
    )
    maintenance_interval_days = models.PositiveSmallIntegerField(
        _("保养周期（天）"), default=DEFAULT_MAINTENANCE_INTERVAL
    )
    # Derived from the orders (services.refresh_vehicles); next_maintenance_at may be set by hand
    # until the first maintenance is done.
    last_maintenance_at = models.DateField(_("上次保养时间"), null=True, blank=True)
    next_maintenance_at = models.DateField(_("下次保养时间"), null=True, blank=True)
    maintenance_count = models.PositiveIntegerField(_("保养次数"), default=0)
    service_count = models.PositiveIntegerField(_("售后次数"), default=0)
    last_service_at = models.DateField(_("上次售后时间"), null=True, blank=True)
    last_inspection_at = models.DateField(_("上次年检时间"), null=True, blank=True)
    inspection_due_at = models.DateField(_("年检到期时间"), null=True, blank=True)

    class Meta(Document.Meta):
        verbose_name = _("客户车辆")
        verbose_name_plural = _("客户车辆")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="vehicle_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="vehicle_created_idx"),
            models.Index(fields=["next_maintenance_at"], name="vehicle_next_maint_idx"),
            models.Index(fields=["inspection_due_at"], name="vehicle_inspection_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）" if self.name else self.number

    @property
    def maintenance_days_left(self) -> int | None:
        """保养剩余天数: days until the next maintenance (negative: overdue), None if unknown."""
        if self.next_maintenance_at is None:
            return None
        return (self.next_maintenance_at - timezone.localdate()).days


class ServiceStatus(models.TextChoices):
    AWAITING_DISPATCH = "awaiting_dispatch", _("待派工")
    IN_PROGRESS = "in_progress", _("维修中")
    AWAITING_ACCEPTANCE = "awaiting_acceptance", _("待验收")
    AWAITING_PAYMENT = "awaiting_payment", _("待支付")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


# The same states for 保养订单, whose work in progress reads 保养中.
MAINTENANCE_STATUS_CHOICES = [
    (value, _("保养中") if value == ServiceStatus.IN_PROGRESS else label)
    for value, label in ServiceStatus.choices
]
# Editable (and deletable) until accepted: 待支付 is billed.
EDITABLE_STATUSES = (
    ServiceStatus.AWAITING_DISPATCH,
    ServiceStatus.IN_PROGRESS,
    ServiceStatus.AWAITING_ACCEPTANCE,
)
# Billed to the customer (SPEC §6.3): from 待支付 on, unless cancelled.
BILLED_STATUSES = (ServiceStatus.AWAITING_PAYMENT, ServiceStatus.COMPLETED)
# The service was done and accepted: counts for the vehicle.
DONE_STATUSES = BILLED_STATUSES


class OrderKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业订单")
    PERSONAL = "personal", _("个人订单")


class ServiceMode(models.TextChoices):
    ONSITE = "onsite", _("上门服务")
    IN_STORE = "in_store", _("到店服务")


class ServiceOrder(Document):
    """What 维修订单 and 保养订单 share (SPEC §6.2, §6.4)."""

    permission_decides = True

    order_kind = models.CharField(
        _("订单类型"), max_length=10, choices=OrderKind.choices, default=OrderKind.ENTERPRISE
    )
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("车辆"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="%(class)ss",
    )
    contact_name = models.CharField(_("客户联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=30)
    address = models.CharField(_("客户地址"), max_length=200, blank=True)
    reason = models.CharField(_("维修原因"), max_length=500, blank=True)
    service_mode = models.CharField(
        _("售后方式"), max_length=10, choices=ServiceMode.choices, default=ServiceMode.ONSITE
    )
    service_at = models.DateTimeField(_("维修时间"), default=timezone.now)
    amount = models.DecimalField(_("订单金额"), default=0, **MONEY)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=ServiceStatus.choices,
        default=ServiceStatus.AWAITING_DISPATCH,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("技术员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("派工时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完工时间"), null=True, blank=True)
    # Set when accepted (验收 → 待支付): the order is billed from then on, and stays "ever
    # billed" (状态 已成交) even if cancelled later.
    billed_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    class Meta(Document.Meta):
        abstract = True

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def billed(self) -> bool:
        return self.status in BILLED_STATUSES

    @property
    def choice_key(self) -> str:
        """How the 售后订单 picker of a 回款 / 挂账订单 names it: ``repairorder:12``."""
        return f"{self._meta.model_name}:{self.pk}"


class RepairOrder(ServiceOrder):
    class Meta(ServiceOrder.Meta):
        verbose_name = _("维修订单")
        verbose_name_plural = _("维修订单")
        permissions = [("accept_repairorder", "验收维修订单")]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="repair_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="repair_created_idx"),
            # 我的工单: a technician's orders, newest first
            models.Index(fields=["assignee", "-created_at", "-id"], name="repair_assignee_new_idx"),
            models.Index(fields=["status", "-created_at"], name="repair_status_idx"),
            models.Index(fields=["assignee", "status"], name="repair_assignee_idx"),
            models.Index(fields=["vehicle", "status"], name="repair_vehicle_idx"),
        ]


class RepairOrderItem(LineItem):
    document = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="items")

    class Meta(LineItem.Meta):
        verbose_name = _("维修明细")
        verbose_name_plural = _("维修明细")


class MaintenanceOrder(ServiceOrder):
    reason = models.CharField(_("保养内容"), max_length=500, blank=True)
    service_mode = models.CharField(
        _("保养方式"), max_length=10, choices=ServiceMode.choices, default=ServiceMode.ONSITE
    )
    address = models.CharField(_("保养地址"), max_length=200, blank=True)
    service_at = models.DateTimeField(_("保养时间"), default=timezone.now)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=MAINTENANCE_STATUS_CHOICES,
        default=ServiceStatus.AWAITING_DISPATCH,
    )

    class Meta(ServiceOrder.Meta):
        verbose_name = _("保养订单")
        verbose_name_plural = _("保养订单")
        permissions = [("accept_maintenanceorder", "验收保养订单")]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="maint_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="maint_created_idx"),
            # 我的工单: a technician's orders, newest first
            models.Index(fields=["assignee", "-created_at", "-id"], name="maint_assignee_new_idx"),
            models.Index(fields=["status", "-created_at"], name="maint_status_idx"),
            models.Index(fields=["assignee", "status"], name="maint_assignee_idx"),
            models.Index(fields=["vehicle", "status"], name="maint_vehicle_idx"),
        ]


class MaintenanceOrderItem(LineItem):
    document = models.ForeignKey(MaintenanceOrder, on_delete=models.CASCADE, related_name="items")

    class Meta(LineItem.Meta):
        verbose_name = _("保养明细")
        verbose_name_plural = _("保养明细")


class OnAccountStatus(models.TextChoices):
    """挂账订单 states (SPEC §6.4), read from the approval state: 挂账中 until the voucher is
    submitted, 支付审批 while 财务 reviews it, 已付款 once approved, 取消 when cancelled (or a
    paid one voided)."""

    ON_ACCOUNT = "on_account", _("挂账中")
    PAYMENT_REVIEW = "payment_review", _("支付审批")
    PAID = "paid", _("已付款")
    CANCELLED = "cancelled", _("取消")


# approval state → on-account state (驳回 is back to 挂账中: upload a better voucher, resubmit)
ON_ACCOUNT_STATES = {
    "draft": OnAccountStatus.ON_ACCOUNT,
    "rejected": OnAccountStatus.ON_ACCOUNT,
    "pending": OnAccountStatus.PAYMENT_REVIEW,
    "approved": OnAccountStatus.PAID,
    "void": OnAccountStatus.CANCELLED,
}


class OnAccountOrder(Document):
    """挂账订单: a repair or maintenance order charged to the customer's account (SPEC §6.2). Its
    number is the service order's (the seed's 挂账订单号); its voucher (上传凭证) is an
    attachment, required to submit it for 支付审批; approved, it is paid in the ledger."""

    permission_decides = True

    repair_order = models.ForeignKey(
        RepairOrder,
        verbose_name=_("维修订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="onaccount_orders",
    )
    maintenance_order = models.ForeignKey(
        MaintenanceOrder,
        verbose_name=_("保养订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="onaccount_orders",
    )
    # The receivable kind it pays: repair (维修订单) or maintenance (保养订单).
    kind = models.CharField(_("挂账类型"), max_length=20, editable=False)
    store = models.ForeignKey(
        DictEntry,
        verbose_name=_("维修门店"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.STORE},
    )
    amount = models.DecimalField(_("挂账金额"), **MONEY)

    class Meta(Document.Meta):
        verbose_name = _("挂账订单")
        verbose_name_plural = _("挂账订单")
        permissions = [("approve_document", "审批单据"), ("void_document", "作废单据")]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="onaccount_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="onaccount_created_idx"),
            models.Index(fields=["approval_status", "-created_at"], name="onaccount_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(repair_order__isnull=False, maintenance_order__isnull=True)
                    | models.Q(repair_order__isnull=True, maintenance_order__isnull=False)
                ),
                name="onaccount_one_order",
            )
        ]

    @property
    def service_order(self):
        return self.repair_order if self.repair_order_id else self.maintenance_order

    @property
    def status(self) -> str:
        return ON_ACCOUNT_STATES[self.approval_status]

    def get_status_display(self) -> str:
        return str(OnAccountStatus(self.status).label)
