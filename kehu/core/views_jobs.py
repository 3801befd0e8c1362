"""全部符合条件的记录 in the batch modal: start a background batch job from a list's search form,
then follow its progress (kehu/core/jobs.py)."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.views import View

from . import jobs
from .errors import ApplicationError
from .views import KehuViewMixin

MODAL = "core/htmx/batch_job_modal.html"


class BatchJobStartView(KehuViewMixin, View):
    """POST the list's search form (its filters and tab) → the job is queued and the modal
    shows its progress; a refusal (no permission, invalid filters, nothing matches, another
    job running) is shown in the batch modal."""

    action_key: ClassVar[str] = ""

    def post(self, request):
        action = jobs.action_for(self.action_key)
        try:
            job = jobs.start_job(
                actor=request.user,
                action_key=self.action_key,
                params=jobs.filter_params(request.POST),
            )
        except ApplicationError as exc:
            context = {"title": action.label, "result": None, "error": exc.message}
            return render(request, "core/htmx/batch_result_modal.html", context, status=exc.status)
        return render(request, MODAL, {"job": job})


class BatchJobView(LoginRequiredMixin, View):
    """``GET /batch-jobs/<id>/``: the progress modal, polled every second until the job ends;
    the last answer refreshes the list (``objectSaved``)."""

    def get(self, request, pk: int):
        job = jobs.job_for(request.user, pk)
        response = render(request, MODAL, {"job": job})
        if job.finished and job.done:
            response["HX-Trigger"] = "objectSaved"
        return response
