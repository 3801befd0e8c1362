import csv
import io

import pytest
from openpyxl import load_workbook

from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError
from kehu.customers.models import Customer
from kehu.imports import services
from kehu.imports.models import ImportJob, ImportRowError
from kehu.imports.spreadsheets import TEMPLATE_COLUMNS, template_workbook

from .conftest import HEADERS, SEED_ROWS, xlsx_bytes


def test_template_has_exact_headers_example_and_help_sheet(db):
    wb = load_workbook(io.BytesIO(template_workbook()))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:11] == HEADERS
    assert [c.value for c in ws[2]][0] == "测试客户D有限公司"
    assert ws["A1"].font.color.rgb.endswith("C00000")  # required columns marked
    assert wb.sheetnames[1] == "填写说明"
    explained = [row[0].value for row in wb["填写说明"].iter_rows(min_row=2, max_row=12)]
    assert explained == [h for h, *_ in TEMPLATE_COLUMNS]


def test_seed_rows_import_to_two_employees_evenly(create, run, org, upload):
    job = create(
        actor=org["admin"],
        upload=upload(),
        target="users",
        user_ids=[org["sales1"].pk, org["sales2"].pk],
        allocation="even",
    )
    assert (job.status, job.total, job.valid, job.invalid, job.duplicate) == ("preview", 3, 3, 0, 0)
    assert job.plan == {org["sales1"].display_name: 2, org["sales2"].display_name: 1}
    assert Customer.objects.count() == 0  # preview writes nothing
    job = run(job, org["admin"])
    assert (job.status, job.created, job.skipped, job.failed, job.done) == ("finished", 3, 0, 0, 3)
    owners = dict(Customer.objects.values_list("name", "owner__username"))
    assert owners == {
        "测试客户D有限公司": "sales1",
        "测试客户E有限公司": "sales2",
        "测试客户F有限公司": "sales1",
    }
    d = Customer.objects.get(name="测试客户D有限公司")
    assert (
        d.creator == org["admin"] and d.source.name == "导入" and d.contact_phone == "15263698652"
    )
    assert d.contacts.get().remark == "自动添加"
    assert (
        ChangeLog.objects.filter(action="import", object_type="imports.importjob").count() == 2
    )  # upload + 1 batch


def test_department_target_spreads_over_active_members(create, run, org, upload):
    sales_dept = org["manager1"].department  # 销售部 → 销售一部 (sales1, sales2), 销售二部 (sales3)
    org["sales2"].is_active = False
    org["sales2"].save()
    rows = [
        [f"部门客户{i}有限公司", "", "", "", "", "", "", "联系人", f"1390000{i:04d}", "", ""]
        for i in range(6)
    ]
    job = create(
        actor=org["admin"],
        upload=upload(rows),
        target="department",
        department_id=sales_dept.pk,
        allocation="even",
    )
    run(job, org["admin"])
    counts = {}
    for username in Customer.objects.values_list("owner__username", flat=True):
        counts[username] = counts.get(username, 0) + 1
    assert counts == {"manager1": 2, "sales1": 2, "sales3": 2}


def test_pool_import_is_masked_in_the_pool(create, run, org, upload, client_for):
    job = create(actor=org["admin"], upload=upload(), target="pool")
    run(job, org["admin"])
    assert Customer.objects.filter(owner__isnull=True, pool__isnull=False).count() == 3
    response = client_for("sales1").get("/api/v1/pool/customers")
    assert "15263698652" not in response.content.decode()
    phones = {c["name"]: c["contact_phone"] for c in response.json()["items"]}
    assert phones["测试客户D有限公司"] == "152****8652"


def test_gbk_and_utf8_bom_csv(create, run, org, upload):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["联系电话", "客户名称", "联系人"])  # any order
    writer.writerow(["15263698652", "中文编码测试有限公司", "张三"])
    for encoding, name in (("gbk", "gbk.csv"), ("utf-8-sig", "bom.csv")):
        Customer.objects.all().delete()
        job = create(
            actor=org["sales1"],
            upload=upload(name=name, content=out.getvalue().encode(encoding)),
            target="users",
            user_ids=[org["sales1"].pk],
        )
        assert job.valid == 1
        run(job, org["sales1"])
        assert Customer.objects.get().name == "中文编码测试有限公司"


def test_xls_files_are_read(create, org, upload):
    import xlwt  # writes the legacy .xls format (dev dependency)

    wb = xlwt.Workbook()
    ws = wb.add_sheet("客户")
    for col, header in enumerate(HEADERS):
        ws.write(0, col, header)
    for col, value in enumerate(SEED_ROWS[0]):
        ws.write(1, col, value)
    out = io.BytesIO()
    wb.save(out)
    job = create(
        actor=org["sales1"],
        upload=upload(name="old.xls", content=out.getvalue()),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    assert (job.total, job.valid) == (1, 1)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", b"hello", "只支持"),
        ("a.xlsx", b"", "空的"),
        ("a.xlsx", b"this is not a spreadsheet", "无法读取"),
        ("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "密码"),
        ("a.xls", b"PK\x03\x04 not a compound file", "无法读取"),
    ],
)
def test_bad_files_are_refused_in_the_request_and_start_nothing(
    org, upload, name, content, message
):
    with pytest.raises(ApplicationError) as exc:
        services.import_create(
            actor=org["sales1"],
            upload=upload(name=name, content=content),
            target="users",
            user_ids=[org["sales1"].pk],
        )
    assert exc.value.status == 400 and message in exc.value.message
    assert ImportJob.objects.count() == 0 and Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.xlsx", xlsx_bytes([["x", "y"]], headers=["名称", "电话"]), "不是客户导入模板"),
        ("a.xlsx", xlsx_bytes([]), "没有数据行"),
        ("a.csv", "客户名称,联系人\n".encode(), "缺少「联系电话」"),
        ("a.csv", b"", "空的"),
    ],
)
def test_files_refused_while_read_leave_one_failed_job(
    create, run, org, upload, name, content, message
):
    """What only the cells tell is found by the worker: the job fails with the reason, its file
    is removed, and it cannot be confirmed."""
    try:
        job = create(
            actor=org["sales1"],
            upload=upload(name=name, content=content),
            target="users",
            user_ids=[org["sales1"].pk],
        )
    except ApplicationError as exc:  # an empty file never gets that far
        assert message in exc.message and ImportJob.objects.count() == 0
        return
    assert (job.status, job.started_at, job.resumable) == ("failed", None, False)
    assert message in job.message
    assert ImportJob.objects.count() == 1 and Customer.objects.count() == 0
    assert not job.file.storage.exists(job.file.name)
    with pytest.raises(ApplicationError, match="重新上传") as exc:
        run(job, org["sales1"])
    assert exc.value.status == 409


def test_size_and_row_limits(create, org, upload, settings):
    settings.KEHU_IMPORT_MAX_ROWS = 2
    job = create(actor=org["sales1"], upload=upload(), target="users", user_ids=[org["sales1"].pk])
    assert job.status == "failed" and "数据行超过2行" in job.message
    settings.KEHU_IMPORT_MAX_BYTES = 100
    with pytest.raises(ApplicationError, match="文件超过"):
        services.import_create(
            actor=org["sales1"], upload=upload(), target="users", user_ids=[org["sales1"].pk]
        )
    assert ImportJob.objects.count() == 1


def test_invalid_and_duplicate_rows_and_error_report(create, run, org, upload, make_customer):
    make_customer("sales2", name="测试客户E有限公司")
    rows = [
        *SEED_ROWS,
        ["坏电话有限公司", "", "", "", "", "", "", "王五", "12345", "", ""],
        ["", "", "", "", "", "", "", "无名", "13900000001", "", ""],
        ["@恶意公司", "", "", "", "", "", "", "赵六", "15263698652", "", ""],  # phone repeats row 1
    ]
    job = create(
        actor=org["sales1"], upload=upload(rows), target="users", user_ids=[org["sales1"].pk]
    )
    assert (job.total, job.valid, job.invalid, job.duplicate) == (6, 2, 2, 2)
    reasons = [e["reason"] for e in job.preview_errors]
    assert any("联系电话格式不正确" in r for r in reasons) and any(
        "请填写客户名称" in r for r in reasons
    )
    job = run(job, org["sales1"])
    assert (job.created, job.skipped, job.failed) == (2, 2, 2)
    report = load_workbook(io.BytesIO(services.error_report(job))).active
    rows_out = list(report.values)
    assert rows_out[0][-1] == "错误原因" and list(rows_out[0][:-1]) == HEADERS
    by_name = {r[0]: r[-1] for r in rows_out[1:]}
    assert "系统中已存在" in by_name["测试客户E有限公司"]
    assert "文件中重复" in by_name["'@恶意公司"]  # escaped, never a live formula
    assert "联系电话格式不正确" in by_name["坏电话有限公司"]


def test_import_anyway_keeps_duplicates(create, run, org, upload, make_customer):
    make_customer("sales2", name="测试客户E有限公司")
    job = create(
        actor=org["sales1"],
        upload=upload(),
        target="users",
        user_ids=[org["sales1"].pk],
        on_duplicate="import",
    )
    run(job, org["sales1"])
    assert Customer.objects.filter(name="测试客户E有限公司").count() == 2


def test_crash_leaves_no_partial_batch_and_rerun_creates_no_duplicates(
    create, run, org, upload, monkeypatch
):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    rows = [
        [f"批次客户{i}有限公司", "", "", "", "", "", "", "联系人", f"1380000{i:04d}", "", ""]
        for i in range(5)
    ]
    job = create(
        actor=org["sales1"], upload=upload(rows), target="users", user_ids=[org["sales1"].pk]
    )
    real_log = services.record_change
    calls = {"n": 0}

    def dying_log(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second batch has written its rows, then the worker dies
            raise RuntimeError("worker killed")
        return real_log(**kwargs)

    monkeypatch.setattr(services, "record_change", dying_log)
    job = run(job, org["sales1"])
    # …inside the batch's transaction, so that batch is gone as a whole.
    assert job.status == "failed" and job.done == 2 and Customer.objects.count() == 2
    assert job.message.startswith("第4行：系统内部错误") and "worker killed" not in job.message
    assert job.resumable
    monkeypatch.setattr(services, "record_change", real_log)
    job = run(job, org["sales1"])
    assert job.status == "finished" and job.created == 5
    assert Customer.objects.count() == 5
    assert sorted(Customer.objects.values_list("name", flat=True)) == [
        f"批次客户{i}有限公司" for i in range(5)
    ]


def test_ownership_limit_reported_per_row(create, run, org, upload):
    from kehu.pool.models import Pool

    Pool.objects.filter(is_default=True).update(max_owned=2)
    job = create(actor=org["sales1"], upload=upload(), target="users", user_ids=[org["sales1"].pk])
    job = run(job, org["sales1"])
    assert (job.created, job.failed) == (2, 1)
    assert "超过拥有上限" in ImportRowError.objects.get(job=job).reason


def test_bad_options_change_nothing(org, upload):
    for kwargs, field in [
        ({"target": "moon"}, "target"),
        ({"target": "users", "user_ids": []}, "user_ids"),
        ({"target": "users", "user_ids": [999999]}, "user_ids"),
        ({"target": "users", "user_ids": [1], "allocation": "weird"}, "allocation"),
        ({"target": "department", "department_id": None}, "department_id"),
    ]:
        with pytest.raises(ApplicationError) as exc:
            services.import_create(actor=org["admin"], upload=upload(), **kwargs)
        assert field in exc.value.errors
    assert ImportJob.objects.count() == 0


def test_pool_phones_are_no_import_oracle(create, run, org, upload, make_customer):
    """An upload of candidate numbers must not tell which one a pool customer has (its phone is
    masked): phones are matched against private customers only; the pool customer's name still
    catches the same company."""
    from kehu.pool.services import release_customers

    pooled = make_customer("sales2", name="泉州宏达机械厂", contact_phone="17212349100")
    release_customers(actor=org["sales2"], ids=[pooled.pk])
    private = make_customer("sales2", name="厦门恒通物流有限公司", contact_phone="13712341234")
    candidates = [
        [f"候选{n}有限公司", "", "", "", "", "", "", "甲", f"1721234{n:04d}", "", ""]
        for n in range(9095, 9105)
    ]
    rows = [
        *candidates,
        ["另一家公司", "", "", "", "", "", "", "乙", private.contact_phone, "", ""],
        ["泉州宏达机械厂", "", "", "", "", "", "", "丙", "13600000000", "", ""],
    ]
    job = create(
        actor=org["sales1"], upload=upload(rows), target="users", user_ids=[org["sales1"].pk]
    )
    assert (job.valid, job.duplicate) == (10, 2)
    job = run(job, org["sales1"])
    assert (job.created, job.skipped) == (10, 2)
    assert Customer.objects.filter(name="候选9100有限公司", owner=org["sales1"]).exists()
    report = load_workbook(io.BytesIO(services.error_report(job))).active
    skipped = {r[0]: r[-1] for r in list(report.values)[1:]}
    assert set(skipped) == {"另一家公司", "泉州宏达机械厂"}
    assert "联系电话重复" in skipped["另一家公司"] and "客户名称重复" in skipped["泉州宏达机械厂"]


def test_existing_duplicates_finds_each_key_the_way_the_import_checks_it(org, make_customer):
    """A batch's values found in the database: a name by its normalised form, a credit code, a
    private customer's phone or any phone of its contacts (手机 or 电话) — never a pool
    customer's; values that exist nowhere are not found."""
    from kehu.customers.dedupe import normalize_name
    from kehu.customers.models import Contact
    from kehu.pool.services import release_customers

    code = "91350200MA2YH0QX4R"
    owned = make_customer("sales1", name="厦门顺达叉车有限公司", credit_code=code)
    Contact.objects.create(customer=owned, name="采购", mobile="13800001111")
    Contact.objects.create(customer=owned, name="前台", phone="0592-5551234")
    pooled = make_customer("sales2", name="泉州某某机械厂")
    Contact.objects.create(customer=pooled, name="老板", mobile="13800002222")
    release_customers(actor=org["sales2"], ids=[pooled.pk])
    batch = [
        {"keys": {"name": normalize_name("厦门顺达叉车"), "phone": "13800001111"}},
        {"keys": {"name": "新公司", "phone": "0592-5551234", "credit_code": code}},
        {"keys": {"name": "另一家", "phone": owned.contact_phone}},
        {"keys": {"name": normalize_name("泉州某某机械厂"), "phone": "13800002222"}},
        {"keys": {"name": "没有的", "phone": pooled.contact_phone, "credit_code": "X" * 18}},
    ]
    found = services.existing_duplicates(batch)
    assert found == {
        "name": {normalize_name("厦门顺达叉车"), normalize_name("泉州某某机械厂")},
        "phone": {"13800001111", "0592-5551234", owned.contact_phone},
        "credit_code": {code},
    }
    assert services.existing_duplicates([]) == {"name": set(), "phone": set(), "credit_code": set()}
