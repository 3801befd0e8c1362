"""Import and export API (SPEC §10.1)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from kehu.core.api import Id
from kehu.core.errors import ApplicationError
from kehu.customers.models import Customer
from kehu.customers.schemas import ErrorOut
from kehu.org.authz import authorize

from . import services
from .models import ImportJob, ImportStatus
from .spreadsheets import template_workbook
from .views import XLSX, export_response

router = Router(tags=["导入导出"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ImportJobOut(Schema):
    id: int
    status: str = Field(
        description="preview|running|finished|failed (SPEC §10.1); while the worker still "
        "checks the file the status is preview with preview_ready false"
    )
    preview_ready: bool = Field(
        description="false while the rows are being checked and counted in the background"
    )
    original_name: str
    target: str
    allocation: str
    on_duplicate: str
    total: int
    valid: int
    invalid: int
    duplicate: int
    preview_errors: list[dict]
    preview_duplicates: list[dict] = Field(
        description="the first duplicate rows: row, name, reason, existing (the customer or "
        "the earlier row it repeats), owner (负责人 or 公海)"
    )
    warnings: int = Field(description="rows imported with a warning (address gave no 省市区)")
    preview_warnings: list[dict]
    sheet_name: str = Field(description="the sheet the customers were read from")
    header_line: int | None = Field(description="the row of the headers in that sheet")
    sample_line: int | None = Field(description="the template's example row, skipped")
    plan: dict[str, int]
    done: int
    created: int
    skipped: int
    failed: int
    message: str
    resumable: bool

    @staticmethod
    def resolve_status(job) -> str:
        # 检查中 is the preview not ready yet: the API's states are SPEC §10.1's four
        return "preview" if job.status == ImportStatus.PREVIEWING else job.status

    @staticmethod
    def resolve_preview_ready(job) -> bool:
        return job.status != ImportStatus.PREVIEWING


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _job(request, job_id: int) -> ImportJob:
    return services.import_job_get(user=request.user, pk=job_id)


@router.get("/customers/import-template", response={200: None, 401: ErrorOut})
def import_template(request):
    """The .xlsx template: 客户名称 … 详细地址 in columns A–K, an example row, a help sheet."""
    return _xlsx(template_workbook(), "客户导入模板.xlsx")


@router.post("/customers/imports", response={201: ImportJobOut, **ERRORS})
def create_import(
    request,
    file: File[UploadedFile],
    target: Form[str],
    user_ids: Form[str] | None = None,
    department_id: Form[int] | None = None,
    allocation: Form[str] = "even",
    on_duplicate: Form[str] = "skip",
):
    """Upload: the file's size and structure are checked here (400 with the reason); its rows are
    checked and counted in the background — `status` is `preview` with `preview_ready` false
    until the preview (valid, invalid and duplicate counts) is ready (`preview_ready` true) or
    the file is refused (`failed`, with `message`). Poll `GET /api/v1/customers/imports/{id}`.

    `user_ids`: repeat the field or give comma-separated ids."""
    authorize(request.user, "import", Customer)
    ids: list[Id] = []
    for raw in request.POST.getlist("user_ids"):
        for part in str(raw).replace("，", ",").split(","):
            part = part.strip()
            if not part.isdigit():
                if part:
                    raise ApplicationError(
                        "员工ID格式不正确", errors={"user_ids": ["请提供员工ID（数字）"]}
                    )
                continue
            ids.append(int(part))
    job = services.import_create(
        actor=request.user,
        upload=file,
        target=target,
        user_ids=ids,
        department_id=department_id,
        allocation=allocation,
        on_duplicate=on_duplicate,
    )
    return Status(201, job)


@router.post(
    "/customers/imports/{int:job_id}/confirm", response={200: ImportJobOut, 409: ErrorOut, **ERRORS}
)
def confirm_import(request, job_id: int):
    """Start the previewed import in the background worker, or continue a stopped one
    (`resumable`: failed, or its worker died) after its last committed batch."""
    services.import_confirm(actor=request.user, job=_job(request, job_id))
    return ImportJob.objects.get(pk=job_id)


@router.get("/customers/imports/{int:job_id}", response={200: ImportJobOut, **ERRORS})
def get_import(request, job_id: int):
    """Progress: `status` preview|running|finished|failed (`preview_ready`) and the row counters;
    `message` says why a file was refused or a run stopped (with the row number)."""
    return _job(request, job_id)


@router.get("/customers/imports/{int:job_id}/errors", response={200: None, **ERRORS})
def import_errors(request, job_id: int):
    """The refused and skipped rows with an added 错误原因 column."""
    job = _job(request, job_id)
    return _xlsx(services.error_report(job), f"导入错误报告-{job.pk}.xlsx")


@router.get("/customers/export", response={200: None, **ERRORS})
def export(request, tab: str = "all"):
    """The filtered list (`tab=pool` for the pool) as .xlsx, masked where the UI masks."""
    return export_response(request)
