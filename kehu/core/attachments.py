"""Attachment rules (SPEC §9): size and type checks, storage, permission-checked download."""

from __future__ import annotations

import logging
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from .errors import ApplicationError, NotFound
from .models import Attachment
from .registry import attachment_visibility

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = {
    ".pdf",
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".bmp",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".txt",
    ".csv",
    ".zip",
    ".rar",
    ".7z",
}


def check_upload(upload) -> None:
    name = PurePath(upload.name or "").name
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise ApplicationError(
            f"不支持的文件类型：{ext or '无扩展名'}（支持 PDF、图片、Office 文档、压缩包）",
            errors={"attachments": [f"不支持的文件类型：{name}"]},
        )
    if upload.size > settings.KEHU_ATTACHMENT_MAX_BYTES:
        limit = settings.KEHU_ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise ApplicationError(
            f"文件超过{limit}MB：{name}", errors={"attachments": [f"文件超过{limit}MB：{name}"]}
        )


def attach_files(*, actor, obj: models.Model, files) -> list[Attachment]:
    """Validate every file first, then store them all (nothing stored when one is refused)."""
    files = list(files or [])
    for upload in files:
        check_upload(upload)
    content_type = ContentType.objects.get_for_model(obj)
    created = []
    for upload in files:
        created.append(
            Attachment.objects.create(
                content_type=content_type,
                object_id=obj.pk,
                file=upload,
                original_name=PurePath(upload.name).name[:200],
                size=upload.size,
                uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
        )
    return created


def attachments_of(obj: models.Model):
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("uploaded_by")


def delete_attachments_of(obj: models.Model) -> None:
    """Delete the attachment rows of ``obj`` now and their files once the transaction commits:
    a rollback keeps both (SPEC §13, side effects after commit)."""
    attachments = list(attachments_of(obj))
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
    delete_files_on_commit([a.file.name for a in attachments if a.file])


def delete_files_on_commit(names: list[str]) -> None:
    """Remove stored files after the current transaction commits (never when it rolls back)."""
    names = [n for n in names if n]
    if not names:
        return
    storage = Attachment._meta.get_field("file").storage

    def remove() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:  # already gone, or the storage refused: the row is what matters
                logger.warning("could not delete attachment file %s", name, exc_info=True)

    transaction.on_commit(remove)


def attachment_for_download(*, user, pk: int) -> Attachment:
    """The attachment, if ``user`` may see its owning object; otherwise 404 (never 403)."""
    attachment = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    if attachment is None:
        raise NotFound()
    visible = attachment_visibility.get(attachment.content_type.model_class()._meta.label_lower)
    if visible is None or not visible(user).filter(pk=attachment.object_id).exists():
        raise NotFound()
    return attachment
