"""Attachments (SPEC §9): files of any owning object, stored through Django's storage API."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def attachment_path(instance: Attachment, filename: str) -> str:
    # The original name is never used as a path: a random name keeps only a safe extension.
    ext = PurePath(filename).suffix.lower()[:10]
    if not ext[1:].isalnum():
        ext = ""
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


class Attachment(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    owner_object = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="core_attachment_owner_idx")
        ]

    def __str__(self) -> str:
        return self.original_name


class BatchJobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class BatchJob(models.Model):
    """全部符合条件的记录: one batch action (``action``, a key of
    ``kehu.core.registry.matching_actions``) on every record a list's filters (``params``)
    match, run by the worker in chunks of ``KEHU_BATCH_MAX_IDS`` ids (``kehu/core/jobs.py``)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    action = models.CharField(_("操作"), max_length=50)
    label = models.CharField(_("名称"), max_length=100)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=BatchJobStatus.choices, default=BatchJobStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("符合条件"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    done = models.PositiveIntegerField(_("成功"), default=0)
    refused = models.PositiveIntegerField(_("未处理"), default=0)
    # The first refusals ({"id", "reason"}), for the result; the count is ``refused``.
    refusals = models.JSONField(default=list, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("批量任务")
        verbose_name_plural = _("批量任务")
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_by", "status"], name="core_batchjob_user_idx")]

    def __str__(self) -> str:
        return f"{self.label} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (BatchJobStatus.DONE, BatchJobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.finished and self.status == BatchJobStatus.DONE:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


class ListColumns(models.Model):
    """The columns a user hid in one list (the 列 chooser of every list page), kept per user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="list_columns"
    )
    table = models.CharField(_("列表"), max_length=100)
    hidden = models.JSONField(_("隐藏的列"), default=list, blank=True)

    class Meta:
        verbose_name = _("列表显示的列")
        verbose_name_plural = _("列表显示的列")
        constraints = [
            models.UniqueConstraint(fields=["user", "table"], name="core_listcolumns_user_table")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.table}"
