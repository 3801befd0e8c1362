"""Follow-up records (跟进记录, SPEC §5.1) on customers (and, later, leads and opportunities)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.basics.models import DictEntry, DictKind


class FollowUp(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followups",
    )
    lead = models.ForeignKey(
        "sales.Lead",
        verbose_name=_("线索"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followups",
    )
    type = models.ForeignKey(
        DictEntry,
        verbose_name=_("跟进类型"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.FOLLOWUP_TYPE},
    )
    content = models.TextField(_("跟进内容"))
    followed_at = models.DateTimeField(_("本次跟进时间"), default=timezone.now)
    next_followup_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("商机"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("跟进人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-followed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-followed_at"], name="fu_customer_idx"),
            models.Index(fields=["author", "-followed_at"], name="fu_author_idx"),
            models.Index(
                fields=["-followed_at", "-id"], name="fu_followed_idx"
            ),  # the list's order
        ]

    def __str__(self) -> str:
        return self.content[:30]
