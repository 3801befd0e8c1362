"""Import wizard, progress page, error report, template download and export."""

from __future__ import annotations

import os

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.customers.filters import CustomerFilterSet
from kehu.customers.models import Customer
from kehu.customers.selectors import TABS, customer_list
from kehu.org.authz import authorize
from kehu.pool.filters import PoolCustomerFilterSet
from kehu.pool.selectors import pool_customer_list

from . import services
from .export import export_customers
from .forms import ImportForm
from .models import ImportJob, ImportStatus
from .spreadsheets import template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


def job_for(user, pk) -> ImportJob:
    return services.import_job_get(user=user, pk=pk)


class ImportTemplateView(LoginRequiredMixin, View):
    def get(self, request):
        from urllib.parse import quote

        return xlsx_response(template_workbook(), quote("客户导入模板.xlsx"))


class ImportStartView(generic.KehuViewMixin, View):
    permission_required = "customers.import_customer"

    def get(self, request):
        initial = {"target": request.GET.get("target", "users")}
        form = ImportForm(initial=initial, user=request.user)
        if form.fields["users"].queryset.filter(pk=request.user.pk).exists():
            form.initial["users"] = [request.user]  # the importer, when they can own customers
        return render(request, "imports/import_start.html", {"title": "导入客户", "form": form})

    def post(self, request):
        form = ImportForm(request.POST, request.FILES, user=request.user)
        error = ""
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.import_create(
                    actor=request.user,
                    upload=data["file"],
                    target=data["target"],
                    user_ids=[u.pk for u in data["users"]],
                    department_id=data["department"].pk if data["department"] else None,
                    allocation=data["allocation"] or "even",
                    on_duplicate=data["on_duplicate"] or "skip",
                )
            except ApplicationError as exc:
                error = exc.message
                for field, messages in exc.errors.items():
                    name = {"user_ids": "users", "department_id": "department"}.get(field, field)
                    for message in messages:
                        if message != error:
                            form.add_error(name if name in form.fields else None, message)
            else:
                return redirect("import_detail", pk=job.pk)
        return render(
            request,
            "imports/import_start.html",
            {"title": "导入客户", "form": form, "error": error},
            status=400,
        )


POLLED = (ImportStatus.PREVIEWING, ImportStatus.RUNNING)


class ImportDetailView(LoginRequiredMixin, View):
    """The file's check, preview, progress (polled by HTMX every second; survives a reload) and
    result; a stopped run offers 继续导入."""

    def get(self, request, pk):
        job = job_for(request.user, pk)
        context = {
            "title": f"导入 #{job.pk}",
            "job": job,
            "polled": job.status in POLLED and not job.stale,
        }
        if request.htmx:
            # The poll swaps only the card's content, so the element keeps its `every 1s`:
            # status 286 is htmx's "stop polling" once the job is no longer checked or run.
            status = 200 if job.status in POLLED and not job.stale else 286
            return render(request, "imports/htmx/progress.html", context, status=status)
        return render(request, "imports/import_detail.html", context)


class ImportConfirmView(LoginRequiredMixin, View):
    def post(self, request, pk):
        job = job_for(request.user, pk)
        try:
            services.import_confirm(actor=request.user, job=job)
        except ApplicationError as exc:
            from django.contrib import messages

            messages.error(request, exc.message)
        return redirect("import_detail", pk=job.pk)


class ImportErrorsView(LoginRequiredMixin, View):
    def get(self, request, pk):
        from urllib.parse import quote

        job = job_for(request.user, pk)
        return xlsx_response(services.error_report(job), quote(f"导入错误报告-{job.pk}.xlsx"))


def export_queryset(request):
    """The list's own selector and FilterSet (any tab, or the pool): same rows as on screen."""
    tab = request.GET.get("tab", "all")
    if tab == "pool":
        qs = pool_customer_list(user=request.user)
        filterset = PoolCustomerFilterSet(request.GET, queryset=qs, request=request)
    else:
        if tab not in TABS:
            tab = "all"
        filterset = CustomerFilterSet(
            request.GET, queryset=customer_list(user=request.user, tab=tab), request=request
        )
    if not filterset.is_valid():
        raise ApplicationError(
            "筛选条件有误", errors={k: [str(m) for m in v] for k, v in filterset.errors.items()}
        )
    return filterset.qs.order_by("-created_at", "-id")


def export_response(request) -> FileResponse:
    """The export download shared by the page and the API."""
    from urllib.parse import quote

    authorize(request.user, "export", Customer)
    path = export_customers(export_queryset(request))
    # FileResponse closes the handle once sent; the file's name is gone already (POSIX unlink).
    response = FileResponse(open(path, "rb"), content_type=XLSX)  # noqa: SIM115
    os.unlink(path)
    name = quote(f"客户导出-{timezone.localtime():%Y%m%d%H%M}.xlsx")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


class ExportView(LoginRequiredMixin, View):
    def get(self, request):
        return export_response(request)
