"""Public pools (客户公海) and their rules (SPEC §3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Pool(models.Model):
    name = models.CharField(_("公海名称"), max_length=50, unique=True)
    is_default = models.BooleanField(_("默认公海"), default=False)
    departments = models.ManyToManyField(
        "org.Department",
        verbose_name=_("成员部门"),
        blank=True,
        related_name="pools",
        help_text=_("这些部门（含下级部门）的员工释放的客户进入本公海"),
    )
    # Automatic return (0 = off).
    no_followup_days = models.PositiveIntegerField(_("未跟进自动回收天数"), default=30)
    not_won_days = models.PositiveIntegerField(_("未成交自动回收天数"), default=0)
    level_days = models.JSONField(
        _("按客户等级的未跟进天数"),
        default=dict,
        blank=True,
        help_text=_("客户等级ID → 天数，覆盖上面的未跟进天数"),
    )
    exempt_won = models.BooleanField(_("已成交客户不回收"), default=True)
    exempt_open_opportunity = models.BooleanField(_("有进行中商机的客户不回收"), default=True)
    exempt_open_service_orders = models.BooleanField(
        _("有未完成售后订单的客户不回收"), default=True
    )
    remind_days = models.PositiveIntegerField(_("提前提醒天数"), default=3)
    # Limits (0 = off).
    max_owned = models.PositiveIntegerField(_("每人拥有客户上限"), default=0)
    count_won_in_limit = models.BooleanField(_("已成交客户计入上限"), default=False)
    daily_claim_limit = models.PositiveIntegerField(_("每日领取上限"), default=0)
    reclaim_cooldown_days = models.PositiveIntegerField(_("原负责人N天内不可领取"), default=0)
    lock_limit = models.PositiveIntegerField(_("每人可锁定客户数"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公海")
        verbose_name_plural = _("公海")
        ordering = ["-is_default", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="pool_single_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerClaim(models.Model):
    """One claim, kept for the daily limit and the previous-owner cooldown."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="claims"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pool = models.ForeignKey(Pool, null=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "claimed_at"], name="pool_claim_user_day_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} ← {self.customer_id}"
