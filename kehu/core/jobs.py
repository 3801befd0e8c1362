"""全部符合条件的记录 (issue 10, batch limits): a batch action on every record a list's
filters match, as a background job with progress.

One request names at most ``KEHU_BATCH_MAX_IDS`` ids (``kehu.core.services.check_batch_size``);
larger sets go through here. :func:`start_job` checks the permission and the filters, counts the
matching records and queues the job (django-q2, after commit); the worker's
:func:`run_batch_job` reads the matching ids once and hands them to the action's batch service
(the same set-based service as the batch request, same per-row refusals) in chunks of
``KEHU_BATCH_MAX_IDS``, saving the progress after each chunk. The user follows it in the batch
modal (``GET /batch-jobs/<id>/``) or through ``GET /api/v1/batch-jobs/{id}``.

An app declares an action with a :class:`MatchingAction` in
``kehu.core.registry.matching_actions`` (``customers.delete``: kehu/customers/hooks.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .errors import ApplicationError, Conflict, Forbidden, NotFound
from .models import BatchJob, BatchJobStatus
from .registry import matching_actions
from .services import BatchResult, batch_limit

logger = logging.getLogger(__name__)

# Refusals kept on the job for the result (the count covers them all).
KEPT_REFUSALS = 200
# Query-string names of a list page that are no filter.
NOT_FILTERS = frozenset(
    {"page", "per_page", "sort", "ordering", "page_size", "csrfmiddlewaretoken"}
)


@dataclass(frozen=True)
class MatchingAction:
    key: str
    label: str  # 批量删除客户: the modal's title
    permission: str  # checked when the job starts; the batch service checks each record again
    # (user, {name: [values]}) -> the records the list shows for these filters; an
    # ApplicationError for invalid filters.
    matching: Callable[[Any, dict[str, list[str]]], QuerySet]
    # (actor=, ids=) -> BatchResult: the batch request's own set-based service.
    run: Callable[..., BatchResult]


def filter_params(data: Mapping) -> dict[str, list[str]]:
    """The filters of a list from a QueryDict (a page's search form) or a plain dict (the API):
    ``{name: [values]}``, empty values and non-filters left out."""
    lists = data.lists() if hasattr(data, "lists") else data.items()
    params: dict[str, list[str]] = {}
    for key, values in lists:
        if key in NOT_FILTERS:
            continue
        if not isinstance(values, list | tuple):
            values = [values]
        kept = [str(v) for v in values if v is not None and str(v) != ""]
        if kept:
            params[str(key)] = kept
    return params


def action_for(key: str) -> MatchingAction:
    action = matching_actions.get(key)
    if action is None:
        raise NotFound("不支持的批量操作")
    return action


def start_job(*, actor, action_key: str, params: dict[str, list[str]]) -> BatchJob:
    """Queue ``action_key`` on every record ``params`` match for ``actor``: refused without the
    permission, for invalid filters, when nothing matches, or while the actor has another
    batch job queued or running (one at a time per user)."""
    from kehu.org.authz import refusal_message

    action = action_for(action_key)
    if not actor.has_perm(action.permission):
        raise Forbidden(refusal_message(action.permission))
    total = action.matching(actor, params).count()
    if not total:
        raise ApplicationError("没有符合条件的记录", code="nothing_matches")
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()  # one at a time
        if BatchJob.objects.filter(
            created_by=actor, status__in=[BatchJobStatus.QUEUED, BatchJobStatus.RUNNING]
        ).exists():
            raise Conflict("您已有一个批量任务在进行中，请等它完成后再试", code="job_running")
        job = BatchJob.objects.create(
            created_by=actor, action=action.key, label=action.label, params=params, total=total
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task("kehu.core.jobs.run_batch_job", job_id, task_name=f"batch-job-{job_id}")


def run_batch_job(job_id: int) -> None:
    """The worker's run: the matching ids read once, then the batch service per chunk."""
    with transaction.atomic():
        job = BatchJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != BatchJobStatus.QUEUED:
            return  # already run (a retried task) or removed
        job.status = BatchJobStatus.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
    try:
        action = action_for(job.action)
        actor = job.created_by
        ids = list(action.matching(actor, job.params).order_by("pk").values_list("pk", flat=True))
        job.total = len(ids)
        size = batch_limit()
        for start in range(0, len(ids), size):
            result = action.run(actor=actor, ids=ids[start : start + size])
            job.processed += len(ids[start : start + size])
            job.done += len(result.done)
            job.refused += len(result.refused)
            job.refusals += result.refused[: max(0, KEPT_REFUSALS - len(job.refusals))]
            job.heartbeat_at = timezone.now()
            job.save(
                update_fields=[
                    "total", "processed", "done", "refused", "refusals", "heartbeat_at"
                ]
            )  # fmt: skip
        job.status = BatchJobStatus.DONE
    except ApplicationError as exc:
        job.status, job.message = BatchJobStatus.FAILED, exc.message[:500]
    except Exception:
        logger.exception("batch job %s failed", job_id)
        job.status = BatchJobStatus.FAILED
        job.message = "系统内部错误（已记录，请联系管理员）；已完成的部分保留"
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def job_for(user, pk: int) -> BatchJob:
    """A batch job its creator (or an admin) follows; anyone else gets 404."""
    job = BatchJob.objects.filter(pk=pk).first()
    if job is None or not (job.created_by_id == user.pk or getattr(user, "is_admin", False)):
        raise NotFound("批量任务不存在或无权查看")
    return job


def job_dict(job: BatchJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "action": job.action,
        "label": job.label,
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "done": job.done,
        "refused": job.refused,
        "refusals": job.refusals,
        "percent": job.percent,
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }
