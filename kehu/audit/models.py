"""The change log (SPEC §8): append-only rows written by services in their own transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .redaction import redact


class Action(models.TextChoices):
    CREATE = "create", _("创建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    TO_POOL = "to_pool", _("放入公海")
    CLAIM = "claim", _("领取")
    TRANSFER = "transfer", _("转移")
    IMPORT = "import", _("导入")
    SHARE = "share", _("分享")
    MERGE = "merge", _("合并")
    APPROVE = "approve", _("审批")
    LOGIN_FAILED = "login_failed", _("登录失败")


class ChangeLogQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # Secrets are never stored (redaction.py), whoever built the rows.
        objs = [redact(obj) for obj in objs]
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):  # pragma: no cover - guard
        raise TypeError("The change log is append-only.")

    def delete(self):  # pragma: no cover - guard
        raise TypeError("The change log is append-only.")


class ChangeLog(models.Model):
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=50, blank=True)
    object_id = models.BigIntegerField(_("对象ID"), null=True, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    snapshot = models.JSONField(_("快照"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    objects = ChangeLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("变更日志")
        verbose_name_plural = _("变更日志")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise TypeError("The change log is append-only.")
        redact(self)  # secrets never stored, whoever built the row
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The change log is append-only.")
