"""The recycle bin (回收站, SPEC §13): what a delete removed, kept for restore until it expires."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecycleEntry(models.Model):
    """One deleted object with every row that went with it (contacts, follow-ups, shares, line
    items, approval records, attachment rows …), serialised in insert order, so a restore puts
    back the same rows with the same ids and values. The attachment files stay on disk until the
    entry is purged."""

    object_type = models.CharField(_("对象类型"), max_length=100)  # app_label.model
    object_id = models.BigIntegerField(_("对象ID"))
    display_name = models.CharField(_("名称"), max_length=200)
    # The customer the object was (or belonged to), and that customer's owner at deletion: the
    # data scope of the entry (plain ids: the customer may itself be in the bin).
    customer_id = models.BigIntegerField(_("客户ID"), null=True, blank=True)
    customer_name = models.CharField(_("所属客户"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("删除人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deleted_at = models.DateTimeField(_("删除时间"))
    expires_at = models.DateTimeField(_("到期时间"))
    # [{"model", "pk", "fields"}] as django.core.serializers writes them, parents first.
    payload = models.JSONField(_("数据"), default=list)
    # Rows outside the entry whose reference the delete set to NULL (a follow-up's contact …):
    # [{"model", "field", "pk", "target"}], linked again on restore where still empty.
    relinks = models.JSONField(_("引用"), default=list, blank=True)
    file_paths = models.JSONField(_("文件"), default=list, blank=True)
    row_count = models.PositiveIntegerField(_("记录数"), default=1)

    class Meta:
        verbose_name = _("回收站记录")
        verbose_name_plural = _("回收站")
        ordering = ["-deleted_at", "-id"]
        permissions = [("restore_recycleentry", "恢复回收站记录")]
        indexes = [
            models.Index(fields=["owner", "-deleted_at", "-id"], name="recycle_owner_idx"),
            models.Index(fields=["-deleted_at", "-id"], name="recycle_deleted_idx"),
            models.Index(fields=["expires_at"], name="recycle_expires_idx"),
            models.Index(fields=["object_type", "object_id"], name="recycle_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type_label}「{self.display_name}」"

    @property
    def type_label(self) -> str:
        try:
            model = apps.get_model(self.object_type)
        except (LookupError, ValueError):
            return self.object_type
        return str(model._meta.verbose_name)
