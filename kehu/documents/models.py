"""The document layer's own tables and the abstract document every sales document extends.

A document type (报价单, 合同, 回款 …) is one concrete model extending :class:`Document` plus
one declaration (:mod:`kehu.documents.types`); this module holds what they all share: the
approval states of SPEC §6.4, issued numbers (never reused), the approval flow configured in
系统设置, and the approval history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApprovalStatus(models.TextChoices):
    DRAFT = "draft", _("未申请")
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("审批通过")
    REJECTED = "rejected", _("驳回")
    VOID = "void", _("已作废")


EDITABLE_STATES = (ApprovalStatus.DRAFT, ApprovalStatus.REJECTED)


class Document(models.Model):
    """What every approvable sales document carries (SPEC §6.1, §6.4)."""

    number = models.CharField(_("单号"), max_length=32, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="%(class)ss",
    )
    approval_status = models.CharField(
        _("审批状态"),
        max_length=10,
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.DRAFT,
    )
    approval_step = models.PositiveSmallIntegerField(_("当前审批步骤"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审批通过时间"), null=True, blank=True)
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    void_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
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
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def editable(self) -> bool:
        return self.approval_status in EDITABLE_STATES


class LineItem(models.Model):
    """A line of a quote or contract: a product (or free text), quantity, unit price, 优惠."""

    product = models.ForeignKey(
        "basics.Product",
        verbose_name=_("产品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("品名"), max_length=100)
    spec = models.CharField(_("型号规格"), max_length=100, blank=True)
    unit = models.CharField(_("单位"), max_length=10, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(_("单价"), max_digits=14, decimal_places=2)
    discount = models.DecimalField(_("优惠金额"), max_digits=14, decimal_places=2, default=0)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2)
    position = models.PositiveSmallIntegerField(_("行号"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class IssuedNumber(models.Model):
    """Every document number ever issued: a number is never given out twice, even after its
    document is deleted (SPEC §6.1 numbers)."""

    number = models.CharField(_("单号"), max_length=32, unique=True)
    doc_type = models.CharField(_("单据类型"), max_length=30)
    issued_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("已发放单号")
        verbose_name_plural = _("已发放单号")

    def __str__(self) -> str:
        return self.number


class ApproverKind(models.TextChoices):
    LEADER = "leader", _("提交人的部门负责人")
    ROLE = "role", _("指定角色")
    USERS = "users", _("指定人员")


class ApprovalStep(models.Model):
    """One ordered step of a document type's approval flow (系统设置 → 审批流程)."""

    doc_type = models.CharField(_("单据类型"), max_length=30)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    approver_kind = models.CharField(
        _("审批人"), max_length=10, choices=ApproverKind.choices, default=ApproverKind.LEADER
    )
    role = models.ForeignKey(
        "org.Role",
        verbose_name=_("角色"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("人员"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("审批步骤")
        verbose_name_plural = _("审批步骤")
        ordering = ["doc_type", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "order"], name="documents_step_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} 第{self.order}步"

    def get_doc_type_display(self) -> str:
        from .types import registry

        decl = registry.get(self.doc_type)
        return decl.label if decl else self.doc_type


class ApprovalAction(models.TextChoices):
    SUBMIT = "submit", _("提交审批")
    WITHDRAW = "withdraw", _("撤回")
    APPROVE = "approve", _("审批通过")
    REJECT = "reject", _("驳回")
    VOID = "void", _("作废")


class ApprovalRecord(models.Model):
    """The approval history shown on a document (append-only)."""

    doc_type = models.CharField(_("单据类型"), max_length=30)
    document_id = models.BigIntegerField(_("单据ID"))
    step = models.PositiveSmallIntegerField(_("步骤"), default=0)
    action = models.CharField(_("操作"), max_length=10, choices=ApprovalAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    comment = models.CharField(_("意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["doc_type", "document_id"], name="approval_doc_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.comment}".strip()
