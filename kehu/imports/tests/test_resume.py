"""Imports that finish or stop cleanly (issue 10, point 3, and "A NUL in a CSV … crashes the
PostgreSQL import after 1,000 of 1,500 rows; re-running fails the same way with an English
technical message, and the job cannot be resumed")."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, OperationalError
from django.utils import timezone

from kehu.customers.models import Contact, Customer
from kehu.imports import services
from kehu.imports.models import ImportJob, ImportRowError

LATIN = re.compile(r"[A-Za-z]")


def csv_upload(count: int, *, special: dict[int, list[str]] | None = None, name="客户.csv"):
    """``count`` valid rows (data row n is sheet line n + 1); ``special`` replaces rows."""
    lines = ["客户名称,联系人,联系电话,备注"]
    for n in range(1, count + 1):
        cells = (special or {}).get(n) or [f"续传客户{n}有限公司", "联系人", f"139{n:08d}", ""]
        lines.append(",".join(cells))
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode())


def test_a_nul_in_row_1200_is_dropped_and_all_1500_rows_import(org, create, run):
    """On PostgreSQL this row stopped the import at 1,000 of 1,500 (text cannot hold NUL)."""
    special = {
        1200: [
            "续传\x00客户1200有限公司",
            "联\x00系人",
            "139\x0000001200",
            "备注\x00第一行\t第二段",
        ],
        1201: ["续传客户1201有限公司\x0b", "联系人", "13900001201", "\x01"],
    }
    job = create(
        actor=org["sales1"],
        upload=csv_upload(1500, special=special),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    assert (job.status, job.total, job.valid, job.invalid) == ("preview", 1500, 1500, 0)
    job = run(job, org["sales1"])
    assert (job.status, job.done, job.created, job.failed, job.message) == (
        "finished",
        1500,
        1500,
        0,
        "",
    )
    assert Customer.objects.count() == 1500 and Contact.objects.count() == 1500
    row = Customer.objects.get(contact_phone="13900001200")
    assert (row.name, row.contact_name, row.remark) == (
        "续传客户1200有限公司",
        "联系人",
        "备注第一行\t第二段",
    )
    assert Customer.objects.get(contact_phone="13900001201").name == "续传客户1201有限公司"
    assert not Customer.objects.filter(name__contains="\x0b").exists()


def test_refused_and_skipped_rows_with_control_characters_reach_the_error_report(
    org, create, run, make_customer
):
    make_customer("sales2", name="已有公司")
    special = {
        2: ["坏\x00电话公司", "王五", "12\x0045", "备注\x00"],
        3: ["已有\x00公司", "赵六", "13900000099", ""],
    }
    job = create(
        actor=org["sales1"],
        upload=csv_upload(4, special=special),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    job = run(job, org["sales1"])
    assert (job.status, job.created, job.skipped, job.failed) == ("finished", 2, 1, 1)
    stored = {e.values[0]: e.values for e in ImportRowError.objects.all()}
    assert stored["坏电话公司"] == ["坏电话公司", "王五", "1245", "备注"]
    assert "已有公司" in stored
    assert [e["name"] for e in job.preview_errors] == ["坏电话公司"]


def test_a_failure_at_row_1201_stops_in_chinese_and_continues_without_duplicates(
    org, create, run, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    job = create(
        actor=org["sales1"], upload=csv_upload(1500), target="users", user_ids=[org["sales1"].pk]
    )
    real_build = services._build_customer

    def dies_at_1201(job, cleaned, *args):
        if cleaned["name"] == "续传客户1200有限公司":  # data row 1,200: line 1,201
            raise OperationalError("server closed the connection unexpectedly")
        return real_build(job, cleaned, *args)

    monkeypatch.setattr(services, "_build_customer", dies_at_1201)
    job = run(job, org["sales1"])
    assert (job.status, job.done, job.created) == ("failed", 1000, 1000)
    assert Customer.objects.count() == 1000  # the second batch is gone as a whole
    assert job.message.startswith("第1201行：数据库暂时无法写入")
    assert "前1000行已导入" in job.message and "从第1002行继续" in job.message
    assert not LATIN.search(job.message)
    assert job.resumable

    # Re-running before the cause is gone stops the same way, at the same place, still resumable.
    job = run(job, org["sales1"])
    assert (job.status, job.done, job.created) == ("failed", 1000, 1000)
    assert job.message.startswith("第1201行：") and job.resumable

    client = client_for("sales1")
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "第1201行：" in page and 'data-testid="import-resume"' in page and "继续导入" in page
    api = client.get(f"/api/v1/customers/imports/{job.pk}").json()
    assert (api["status"], api["resumable"], api["done"]) == ("failed", True, 1000)

    monkeypatch.setattr(services, "_build_customer", real_build)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/customers/imports/{job.pk}/confirm")
    assert response.status_code == 200, response.content
    job.refresh_from_db()
    assert (job.status, job.done, job.created, job.message) == ("finished", 1500, 1500, "")
    assert Customer.objects.count() == 1500
    assert Customer.objects.values("name").distinct().count() == 1500
    again = client.post(f"/api/v1/customers/imports/{job.pk}/confirm")
    assert again.status_code == 409


def test_a_row_the_database_refuses_is_reported_and_the_rest_imports(org, create, run, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 10)
    special = {14: ["拒收有限公司", "联系人", "13900000014", ""]}
    job = create(
        actor=org["sales1"],
        upload=csv_upload(30, special=special),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    real = services.copy_rows

    def refusing(model, objs, *args, **kwargs):
        objs = list(objs)  # the customers come as a generator
        if model is Customer and any(c.name == "拒收有限公司" for c in objs):
            raise DataError("value too long for type character varying(100)")
        return real(model, objs, *args, **kwargs)

    monkeypatch.setattr(services, "copy_rows", refusing)
    job = run(job, org["sales1"])
    assert (job.status, job.created, job.failed, job.done) == ("finished", 29, 1, 30)
    error = ImportRowError.objects.get(job=job)
    assert error.reason == "第15行数据库拒绝保存：内容含有数据库无法保存的字符，或超出长度"
    assert error.values[0] == "拒收有限公司"
    assert not Customer.objects.filter(name="拒收有限公司").exists()
    assert Customer.objects.count() == 29


def test_a_run_whose_worker_died_can_be_continued_and_a_live_one_cannot(org, create, run):
    job = create(
        actor=org["sales1"], upload=csv_upload(5), target="users", user_ids=[org["sales1"].pk]
    )
    # The worker took the job and was killed: status stays running, nothing moves.
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    assert not job.resumable
    from kehu.core.errors import ApplicationError

    try:
        run(job, org["sales1"])
    except ApplicationError as exc:
        assert exc.status == 409
    else:
        raise AssertionError("a live run was started twice")
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job.refresh_from_db()
    assert job.stale and job.resumable
    job = run(job, org["sales1"])
    assert (job.status, job.created) == ("finished", 5)


def test_a_batch_is_never_applied_twice(org, create, run):
    """Two runners of one job (a resumed run while the old worker still lives) each lock the
    job before a batch; the second finds it committed and skips it."""
    job = create(
        actor=org["sales1"], upload=csv_upload(3), target="users", user_ids=[org["sales1"].pk]
    )
    job = run(job, org["sales1"])
    resolver = services.RowResolver.load()
    with services.open_sheet(job.file.path, job.original_name) as sheet:
        batch = next(iter(services.iter_validated(job, resolver, sheet)))
    services._apply_batch(job, batch, services.import_targets(job))
    job.refresh_from_db()
    assert (job.created, Customer.objects.count()) == (3, 3)
