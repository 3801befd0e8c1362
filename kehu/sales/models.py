"""Sales documents. First: leads (线索, SPEC §6.1) that become customers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.basics.models import DictEntry, DictKind


class LeadStatus(models.TextChoices):
    FOLLOWING = "following", _("跟进中")
    CONVERTED = "converted", _("已转客户")
    INVALID = "invalid", _("无效")


class Lead(models.Model):
    name = models.CharField(_("线索名称/公司"), max_length=100)
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=30, db_index=True)
    source = models.ForeignKey(
        DictEntry,
        verbose_name=_("来源"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.SOURCE},
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    remark = models.TextField(_("备注"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=LeadStatus.choices, default=LeadStatus.FOLLOWING
    )
    invalid_reason = models.CharField(_("无效原因"), max_length=200, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("转化的客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    converted_at = models.DateTimeField(_("转化时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="lead_owner_idx"),
            models.Index(
                fields=["-created_at", "-id"], name="lead_created_idx"
            ),  # the list's order
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("未成交")
    WON = "won", _("已成交")
    LOST = "lost", _("输单")


class Opportunity(models.Model):
    """商机 (SPEC §6.1): a deal being worked on with a customer. Visible to whoever sees the
    customer; managed by whoever manages the customer's owner."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    name = models.CharField(_("商机名称"), max_length=100)
    budget = models.DecimalField(_("客户预算"), max_digits=14, decimal_places=2, default=0)
    product_price = models.DecimalField(_("产品价格"), max_digits=14, decimal_places=2, default=0)
    expected_close_at = models.DateField(_("预计成交"), null=True, blank=True)
    next_followup_at = models.DateTimeField(_("下次跟进"), null=True, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
    )
    remark = models.CharField(_("备注"), max_length=500, blank=True)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("商机")
        verbose_name_plural = _("商机")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "status"], name="opp_customer_status_idx"),
            models.Index(fields=["-updated_at", "-id"], name="opp_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


# --- 报价单, 合同, 回款, 回款计划 (SPEC §6.1): documents of the generic layer (kehu.documents) ---

from django.utils import timezone  # noqa: E402

from kehu.documents.models import Document, LineItem  # noqa: E402

MONEY = {"max_digits": 14, "decimal_places": 2}


class Quote(Document):
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("商机"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    budget = models.DecimalField(_("客户预算"), default=0, **MONEY)
    amount = models.DecimalField(_("报价金额"), default=0, **MONEY)
    quoter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报价人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    quoted_at = models.DateTimeField(_("报价时间"), default=timezone.now)

    class Meta(Document.Meta):
        verbose_name = _("报价单")
        verbose_name_plural = _("报价单")
        permissions = [
            ("approve_document", "审批单据"),
            ("void_document", "作废单据"),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="quote_customer_idx"),
            # the list's default order (newest first) for whoever sees many customers
            models.Index(fields=["-created_at", "-id"], name="quote_created_idx"),
            models.Index(fields=["approval_status"], name="quote_status_idx"),
        ]


class QuoteItem(LineItem):
    document = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="items")

    class Meta(LineItem.Meta):
        verbose_name = _("报价明细")
        verbose_name_plural = _("报价明细")


class ContractKind(models.TextChoices):
    VEHICLE = "vehicle", _("整车销售")
    PARTS = "parts", _("配件销售")
    USED_VEHICLE = "used_vehicle", _("二手车")
    LEASE = "lease", _("租赁")


class Contract(Document):
    name = models.CharField(_("合同名称"), max_length=100)
    kind = models.CharField(
        _("合同类型"), max_length=20, choices=ContractKind.choices, default=ContractKind.VEHICLE
    )
    amount = models.DecimalField(_("合同金额"), default=0, **MONEY)
    signed_at = models.DateTimeField(_("签约时间"), null=True, blank=True)
    warranty_end_at = models.DateTimeField(_("质保结束时间"), null=True, blank=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签约人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    quote = models.ForeignKey(
        Quote,
        verbose_name=_("来源报价单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )

    class Meta(Document.Meta):
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="contract_customer_idx"),
            # the list's default order (newest first) for whoever sees many customers
            models.Index(fields=["-created_at", "-id"], name="contract_created_idx"),
            models.Index(
                fields=["customer", "kind", "approval_status"], name="contract_ledger_idx"
            ),
            models.Index(fields=["approval_status"], name="contract_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class ContractItem(LineItem):
    document = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="items")

    class Meta(LineItem.Meta):
        verbose_name = _("合同明细")
        verbose_name_plural = _("合同明细")


class PaymentPlan(Document):
    """回款计划: an instalment expected on a contract (no approval of its own)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="plans"
    )
    instalment = models.PositiveSmallIntegerField(_("回款期数"), default=1)
    amount = models.DecimalField(_("本期回款金额"), **MONEY)
    due_at = models.DateField(_("回款日期"))
    remind_days = models.PositiveSmallIntegerField(_("提前几天提醒"), default=3)
    extensions = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    method = models.ForeignKey(
        DictEntry,
        verbose_name=_("计划回款方式"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.PAYMENT_METHOD},
    )
    settled_at = models.DateTimeField(_("回款完成时间"), null=True, blank=True)

    class Meta(Document.Meta):
        verbose_name = _("回款计划")
        verbose_name_plural = _("回款计划")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["customer", "due_at"], name="plan_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="plan_created_idx"),
            models.Index(fields=["settled_at", "due_at"], name="plan_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.name} 第{self.instalment}期"


class Payment(Document):
    """回款: against an approved contract, or a repair / maintenance order awaiting payment
    (SPEC §6.1, §6.4 ``contract_id`` or ``repair_order_id`` / ``maintenance_order_id``)."""

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    repair_order = models.ForeignKey(
        "aftersales.RepairOrder",
        verbose_name=_("维修订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    maintenance_order = models.ForeignKey(
        "aftersales.MaintenanceOrder",
        verbose_name=_("保养订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    plan = models.ForeignKey(
        PaymentPlan,
        verbose_name=_("回款计划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
    )
    # The receivable kind it pays (the contract's), kept for the ledger's set-based check.
    kind = models.CharField(_("订单类型"), max_length=20, editable=False)
    amount = models.DecimalField(_("回款金额"), **MONEY)
    paid_at = models.DateField(_("回款日期"), default=timezone.localdate)
    method = models.ForeignKey(
        DictEntry,
        verbose_name=_("回款方式"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.PAYMENT_METHOD},
    )

    class Meta(Document.Meta):
        verbose_name = _("回款")
        verbose_name_plural = _("回款")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="payment_customer_idx"),
            # the list's default order (newest first) for whoever sees many customers
            models.Index(fields=["-created_at", "-id"], name="payment_created_idx"),
            models.Index(fields=["contract", "approval_status"], name="payment_contract_idx"),
            models.Index(fields=["customer", "kind", "approval_status"], name="payment_ledger_idx"),
            models.Index(fields=["approval_status"], name="payment_status_idx"),
            models.Index(fields=["repair_order", "approval_status"], name="payment_repair_idx"),
            models.Index(fields=["maintenance_order", "approval_status"], name="payment_maint_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        contract__isnull=False,
                        repair_order__isnull=True,
                        maintenance_order__isnull=True,
                    )
                    | models.Q(
                        contract__isnull=True,
                        repair_order__isnull=False,
                        maintenance_order__isnull=True,
                    )
                    | models.Q(
                        contract__isnull=True,
                        repair_order__isnull=True,
                        maintenance_order__isnull=False,
                    )
                ),
                name="payment_one_target",
            )
        ]

    @property
    def target(self):
        """What it pays: the contract or the service order."""
        return self.contract or self.repair_order or self.maintenance_order
