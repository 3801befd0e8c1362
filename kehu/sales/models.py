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
        indexes = [models.Index(fields=["owner", "-created_at"], name="lead_owner_idx")]

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
