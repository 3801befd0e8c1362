"""Customer import jobs (SPEC §4): preview, background run, progress, error report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    PREVIEWING = "previewing", _("检查中")
    PREVIEW = "preview", _("待确认")
    RUNNING = "running", _("导入中")
    FINISHED = "finished", _("已完成")
    FAILED = "failed", _("失败")


class ImportTarget(models.TextChoices):
    POOL = "pool", _("公海")
    USERS = "users", _("员工")
    DEPARTMENT = "department", _("部门")


class ImportJob(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    target = models.CharField(_("导入目标"), max_length=20, choices=ImportTarget.choices)
    user_ids = models.JSONField(default=list, blank=True)
    department = models.ForeignKey(
        "org.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    allocation = models.CharField(_("分配方式"), max_length=10, default="even")
    on_duplicate = models.CharField(_("重复数据"), max_length=10, default="skip")
    status = models.CharField(
        _("状态"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )
    headers = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    duplicate = models.PositiveIntegerField(default=0)
    preview_errors = models.JSONField(default=list, blank=True)
    # The preview's other lists (issue 14): the first duplicate rows with the customer they
    # repeat, the rows whose address gave no 省市区 (imported all the same), and where the table
    # was found (a title row above the headers, a 说明 sheet in front) and the template's
    # example row that is skipped.
    preview_duplicates = models.JSONField(default=list, blank=True)
    warnings = models.PositiveIntegerField(default=0)
    preview_warnings = models.JSONField(default=list, blank=True)
    sheet_name = models.CharField(_("工作表"), max_length=100, blank=True)
    header_line = models.PositiveIntegerField(_("表头所在行"), null=True, blank=True)
    sample_line = models.PositiveIntegerField(_("示例行"), null=True, blank=True)
    plan = models.JSONField(default=dict, blank=True)
    # The allocation fixed at preview (issue 14 point 10): the employees in order and the seed
    # of 随机分配; the run applies exactly that (``services.row_owner``). ``allocated`` counts
    # the rows allocated by the committed batches, so 平均分配 continues its rotation on resume.
    planned_user_ids = models.JSONField(null=True, blank=True)
    allocation_seed = models.BigIntegerField(default=0)
    allocated = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set by the worker at each batch: a check or run that has not moved for a while has died
    # with its worker and may be resumed (``stale``).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"导入 #{self.pk} {self.original_name}"

    @property
    def stale(self) -> bool:
        """Checking or running, but no batch for ``KEHU_IMPORT_STALE_SECONDS``: its worker died."""
        from datetime import timedelta

        from django.utils import timezone

        if self.status not in (ImportStatus.PREVIEWING, ImportStatus.RUNNING):
            return False
        seen = self.heartbeat_at or self.started_at or self.created_at
        limit = timedelta(seconds=getattr(settings, "KEHU_IMPORT_STALE_SECONDS", 600))
        return seen is not None and timezone.now() - seen > limit

    @property
    def resumable(self) -> bool:
        """A run that stopped (failed, or its worker died) continues after its last batch; a
        file that failed its check never started and is uploaded again instead."""
        if self.status == ImportStatus.FAILED:
            return self.started_at is not None
        return self.status == ImportStatus.RUNNING and self.stale

    @property
    def percent(self) -> int:
        return (
            min(100, int(self.done * 100 / self.total))
            if self.total
            else (100 if self.status == "finished" else 0)
        )

    @property
    def rows_done(self) -> int:
        """Data rows processed, shown against ``total`` (which leaves out the example row)."""
        return min(self.done, self.total)


class ImportRowError(models.Model):
    """A row that was not imported, with its original values, for the error report."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    values = models.JSONField(default=list)
    reason = models.CharField(max_length=500)
    kind = models.CharField(max_length=10, default="failed")  # failed | skipped

    class Meta:
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="imports_row_once")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number}"
