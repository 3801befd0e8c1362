"""``/api/v1/batch-jobs/{id}``: the progress of a 全部符合条件的记录 job (kehu/core/jobs.py),
started by an action's own route (``POST /api/v1/customers/batch-delete-matching``)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema

from . import jobs

router = Router(tags=["批量任务"])


class MatchingIn(Schema):
    """The list's tab and search filters (the names of its query string)."""

    tab: str = Field("all", max_length=30)
    filters: dict[str, str | int | float | bool | list[str | int]] = Field(default_factory=dict)

    def params(self) -> dict[str, list[str]]:
        return jobs.filter_params({**self.filters, "tab": self.tab})


class RefusalOut(Schema):
    id: int
    reason: str


class BatchJobOut(Schema):
    id: int
    action: str
    label: str
    status: str = Field(description="queued | running | done | failed")
    total: int
    processed: int
    done: int
    refused: int
    refusals: list[RefusalOut] = Field(description="the first refusals (at most 200)")
    percent: int
    message: str
    created_at: datetime
    finished_at: datetime | None


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get("/batch-jobs/{int:job_id}", response={200: BatchJobOut, **ERRORS})
def batch_job(request, job_id: int):
    """A batch job's progress: its creator (or an admin) only."""
    return jobs.job_dict(jobs.job_for(request.user, job_id))
