import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from kehu.customers.tests.conftest import client_for, make_customer, org  # noqa: F401

HEADERS = [
    "客户名称",
    "法人/经营者",
    "统一社会信用代码",
    "开户银行",
    "收款账号",
    "生产产品",
    "原材料类型",
    "联系人",
    "联系电话",
    "备注",
    "详细地址",
]
SEED_ROWS = [
    [
        "测试客户D有限公司",
        "法人D",
        "",
        "建设银行",
        "111111111111",
        "食品",
        "食品",
        "客户D",
        "15263698652",
        "",
        "",
    ],
    [
        "测试客户E有限公司",
        "法人E",
        "",
        "农商银行",
        "222222222222",
        "塑料",
        "塑料",
        "客户E",
        "15263258741",
        "",
        "",
    ],
    [
        "测试客户F有限公司",
        "法人F",
        "",
        "工商银行",
        "333333333333",
        "木材",
        "木材",
        "客户F",
        "15863296572",
        "",
        "",
    ],
]


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def upload():
    def make(rows=SEED_ROWS, headers=HEADERS, name="customers.xlsx", content=None):
        data = content if content is not None else xlsx_bytes(rows, headers)
        return SimpleUploadedFile(name, data)

    return make


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def create(django_capture_on_commit_callbacks):
    """``import_create`` and its check and preview, which the worker runs (synchronously in
    tests) once the upload is committed."""
    from kehu.imports import services

    def make(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_create(**kwargs)
        job.refresh_from_db()
        return job

    return make


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Confirm (or continue) a job; the django-q2 worker runs synchronously in tests."""
    from kehu.imports import services

    def confirm(job, actor):
        with django_capture_on_commit_callbacks(execute=True):
            services.import_confirm(actor=actor, job=job)
        job.refresh_from_db()
        return job

    return confirm
