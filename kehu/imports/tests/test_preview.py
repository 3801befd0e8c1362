"""Issue 14, points 10–13: the preview is what the import does, and says what it found.

10. 随机分配: the split shown is the split made (and each row goes where the preview put it).
11. 省/市/区 and coordinates derived from 详细地址; an address that names no division is a warning.
12. Duplicates listed with the customer they repeat and its 负责人; the template's example row
    skipped with a notice.
13. The header row below a title, the customers on a sheet after a 说明 sheet: found and named.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from kehu.basics.models import Region
from kehu.basics.regions import load_regions
from kehu.core.errors import ApplicationError
from kehu.customers.models import Customer
from kehu.imports import services
from kehu.imports.models import ImportJob
from kehu.imports.spreadsheets import SAMPLE_ROW, template_workbook

from .conftest import HEADERS, SEED_ROWS


def row(name: str, phone: str, address: str = "", contact: str = "联系人") -> list[str]:
    return [name, "", "", "", "", "", "", contact, phone, "", address]


def many(count: int, prefix: str = "分配客户") -> list[list[str]]:
    return [row(f"{prefix}{i}有限公司", f"1390000{i:04d}") for i in range(count)]


@pytest.fixture
def regions(db):
    if not Region.objects.exists():
        load_regions()


# --- 10. 随机分配: preview == result ---------------------------------------------------------


@pytest.mark.parametrize("count", [6, 7, 40])
def test_random_split_shown_in_the_preview_is_the_split_made(create, run, org, upload, count):
    users = [org["sales1"], org["sales2"], org["sales3"]]
    job = create(
        actor=org["admin"],
        upload=upload(many(count)),
        target="users",
        user_ids=[u.pk for u in users],
        allocation="random",
    )
    planned = dict(job.plan)
    assert sum(planned.values()) == count and job.planned_user_ids == [u.pk for u in users]
    job = run(job, org["admin"])
    assert job.created == count
    made = Counter(Customer.objects.values_list("owner__username", flat=True))
    names = {u.username: u.display_name for u in users}
    assert {names[k]: v for k, v in made.items()} == planned


def test_random_allocation_survives_a_resume_row_for_row(create, run, org, upload, monkeypatch):
    """A run stopped after its first batch and continued gives every row the employee the
    preview drew for it (the seed is the job's, not the run's)."""
    monkeypatch.setattr(services, "BATCH_SIZE", 4)
    users = [org["sales1"], org["sales2"]]
    job = create(
        actor=org["admin"],
        upload=upload(many(10)),
        target="users",
        user_ids=[u.pk for u in users],
        allocation="random",
    )
    expected = {
        f"分配客户{i}有限公司": services.row_owner(job, users, i + 1, i).username for i in range(10)
    }
    real_log, calls = services.record_change, {"n": 0}

    def dying_log(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_log(**kwargs)

    monkeypatch.setattr(services, "record_change", dying_log)
    job = run(job, org["admin"])
    assert job.status == "failed" and job.done == 4
    monkeypatch.setattr(services, "record_change", real_log)
    job = run(job, org["admin"])
    assert job.status == "finished" and job.created == 10
    assert dict(Customer.objects.values_list("name", "owner__username")) == expected
    planned = Counter(expected.values())
    assert {u.display_name: planned[u.username] for u in users if planned[u.username]} == (job.plan)


def test_even_split_with_the_ownership_limit_is_previewed_as_run(create, run, org, upload):
    from kehu.pool.models import Pool

    Pool.objects.filter(is_default=True).update(max_owned=2)
    job = create(
        actor=org["admin"],
        upload=upload(many(6)),
        target="users",
        user_ids=[org["sales1"].pk, org["sales2"].pk],
        allocation="even",
    )
    assert job.plan == {org["sales1"].display_name: 2, org["sales2"].display_name: 2}
    assert job.invalid == 2
    assert all("拥有上限" in e["reason"] for e in job.preview_errors)
    job = run(job, org["admin"])
    assert (job.created, job.failed) == (4, 2)
    assert Counter(Customer.objects.values_list("owner__username", flat=True)) == {
        "sales1": 2,
        "sales2": 2,
    }


def test_department_plan_is_fixed_at_preview(create, run, org, upload):
    """A member who leaves after the preview stops the import with his name (nothing
    imported); one who joins gets nothing he was not planned for."""
    dept = org["sales3"].department  # 销售二部: sales3 alone
    job = create(
        actor=org["admin"],
        upload=upload(many(4)),
        target="department",
        department_id=dept.pk,
        allocation="random",
    )
    assert job.plan == {org["sales3"].display_name: 4}
    org["sales2"].department = dept  # joins after the preview
    org["sales2"].save()
    job = run(job, org["admin"])
    assert Counter(Customer.objects.values_list("owner__username", flat=True)) == {"sales3": 4}

    second = create(
        actor=org["admin"],
        upload=upload(many(2, prefix="第二批")),
        target="department",
        department_id=dept.pk,
    )
    org["sales3"].is_active = False
    org["sales3"].save()
    with pytest.raises(ApplicationError) as exc:
        run(second, org["admin"])
    assert exc.value.status == 409 and org["sales3"].display_name in exc.value.message
    assert ImportJob.objects.get(pk=second.pk).status == "preview"
    assert not Customer.objects.filter(name__startswith="第二批").exists()


# --- 11. 省/市/区 from 详细地址 ----------------------------------------------------------------


def test_regions_and_coordinates_come_from_the_address(create, run, org, upload, regions):
    rows = [
        row("厦门地址客户有限公司", "13900000001", "福建省厦门市思明区莲前西路2号"),
        row("简写地址客户有限公司", "13900000002", "厦门湖里区金山路9号"),
        row("无法识别地址有限公司", "13900000003", "工业园三期7号楼"),
        row("无地址客户有限公司", "13900000004", ""),
    ]
    job = create(
        actor=org["sales1"], upload=upload(rows), target="users", user_ids=[org["sales1"].pk]
    )
    assert (job.valid, job.invalid, job.warnings) == (4, 0, 1)
    assert job.preview_warnings == [
        {
            "row": 4,
            "name": "无法识别地址有限公司",
            "reason": "详细地址「工业园三期7号楼」未能识别省市区，将不填省市区导入",
        }
    ]
    job = run(job, org["sales1"])
    assert (job.created, job.failed) == (4, 0)
    siming = Customer.objects.get(name="厦门地址客户有限公司")
    assert (siming.province.name, siming.city.name, siming.district.name) == (
        "福建省",
        "厦门市",
        "思明区",
    )
    assert (siming.longitude, siming.latitude) == (
        siming.district.longitude,
        siming.district.latitude,
    )
    huli = Customer.objects.get(name="简写地址客户有限公司")
    assert (huli.province.name, huli.district.name) == ("福建省", "湖里区")
    unknown = Customer.objects.get(name="无法识别地址有限公司")
    assert (unknown.province, unknown.longitude) == (None, None)
    assert unknown.address == "工业园三期7号楼"


def test_given_regions_win_over_the_address(create, run, org, upload, regions):
    headers = [*HEADERS, "省", "市", "区"]
    rows = [[*row("给定省市有限公司", "13900000005", "北京市朝阳区建国路"), "福建省", "厦门市", ""]]
    job = create(
        actor=org["sales1"],
        upload=upload(rows, headers=headers),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    assert job.warnings == 0
    run(job, org["sales1"])
    customer = Customer.objects.get()
    assert (customer.province.name, customer.city.name, customer.district) == (
        "福建省",
        "厦门市",
        None,
    )


# --- 12. duplicates listed, the example row skipped ----------------------------------------


def test_duplicates_are_listed_with_the_customer_they_repeat(
    create, run, org, upload, make_customer
):
    make_customer("sales2", name="测试客户E有限公司")
    phone_owner = make_customer("sales3", name="泉州电话客户有限公司", contact_phone="13712340000")
    rows = [
        *SEED_ROWS,
        row("另一家电话重复有限公司", "13712340000"),
        row("文件内重复有限公司", SEED_ROWS[0][8]),
    ]
    job = create(
        actor=org["sales1"], upload=upload(rows), target="users", user_ids=[org["sales1"].pk]
    )
    assert (job.valid, job.duplicate) == (2, 3)
    listed = {d["name"]: d for d in job.preview_duplicates}
    assert listed["测试客户E有限公司"] == {
        "row": 3,
        "name": "测试客户E有限公司",
        "reason": "客户名称重复（系统中已存在）",
        "existing": "测试客户E有限公司",
        "owner": org["sales2"].display_name,
    }
    assert listed["另一家电话重复有限公司"]["existing"] == phone_owner.name
    assert listed["另一家电话重复有限公司"]["owner"] == org["sales3"].display_name
    assert listed["文件内重复有限公司"]["existing"] == "文件第2行"
    assert "13712340000" not in str(job.preview_duplicates)  # names and owners, no phones


def test_the_templates_example_row_is_skipped_with_a_notice(create, run, org, upload, tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(template_workbook()))
    ws = wb["客户导入"]
    assert [c.value for c in ws[2]][:11] == [v or None for v in SAMPLE_ROW]
    ws.append(row("真实客户有限公司", "13900000009"))
    out = io.BytesIO()
    wb.save(out)
    job = create(
        actor=org["sales1"],
        upload=upload(name="模板.xlsx", content=out.getvalue()),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    assert (job.sample_line, job.total, job.valid, job.invalid) == (2, 1, 1, 0)
    assert (job.sheet_name, job.header_line) == ("客户导入", 1)
    job = run(job, org["sales1"])
    assert (job.created, job.skipped, job.failed, job.percent) == (1, 0, 0, 100)
    assert list(Customer.objects.values_list("name", flat=True)) == ["真实客户有限公司"]


def test_a_file_with_only_the_example_row_is_refused_in_chinese(create, org, upload):
    job = create(
        actor=org["sales1"],
        upload=upload([SAMPLE_ROW]),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    assert job.status == "failed" and "只有模板的示例行（第2行）" in job.message
    assert Customer.objects.count() == 0


def test_the_seed_rows_are_not_mistaken_for_the_example(create, org, upload):
    """The seed's 测试客户D without the template's 示例行 remark is a real customer."""
    job = create(actor=org["sales1"], upload=upload(), target="users", user_ids=[org["sales1"].pk])
    assert (job.sample_line, job.valid) == (None, 3)


# --- 13. where the table is -----------------------------------------------------------------


def workbook(*sheets: tuple[str, list[list]]) -> SimpleUploadedFile:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        if rows and len(rows[0]) == 1 and title != "说明":
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile("真实客户表.xlsx", out.getvalue())


def test_header_below_a_merged_title_on_a_sheet_after_instructions(create, run, org):
    upload = workbook(
        ("说明", [["填写说明"], ["客户名称、联系人、联系电话必填"]]),
        ("客户", [["2026年客户信息表"], [], HEADERS, *SEED_ROWS]),
    )
    job = create(actor=org["sales1"], upload=upload, target="users", user_ids=[org["sales1"].pk])
    assert (job.status, job.sheet_name, job.header_line, job.valid) == ("preview", "客户", 3, 3)
    job = run(job, org["sales1"])
    assert job.created == 3
    assert Customer.objects.filter(name="测试客户D有限公司").exists()


def test_refused_only_when_no_sheet_has_the_headers(create, org):
    upload = workbook(
        ("说明", [["填写说明"]]),
        (
            "客户",
            [["2026年客户信息表"], ["客户名称", "联系人", "电话号码"], ["甲公司", "张三", "1"]],
        ),
    )
    job = create(actor=org["sales1"], upload=upload, target="users", user_ids=[org["sales1"].pk])
    assert job.status == "failed"
    assert job.message == (
        "不是客户导入模板：工作表「说明」「客户」的前10行中没有找到表头（缺少「联系电话」列），"
        "请下载模板后填写"
    )
    assert Customer.objects.count() == 0


def test_preview_page_says_where_the_table_was_found(create, org, client_for):
    upload = workbook(("客户", [["2026年客户信息表"], HEADERS, *SEED_ROWS]))
    job = create(actor=org["sales1"], upload=upload, target="users", user_ids=[org["sales1"].pk])
    page = client_for("sales1").get(f"/customers/imports/{job.pk}/").content.decode()
    assert "已读取工作表「客户」，表头在第 2 行，数据从第 3 行起。" in page
    api = client_for("sales1").get(f"/api/v1/customers/imports/{job.pk}").json()
    assert (api["sheet_name"], api["header_line"], api["sample_line"]) == ("客户", 2, None)


# --- 14. phones and credit codes as typed (全角, spaces, +86) -------------------------------

FULL_CODE = "９１３５ ０１００－Ｍ０００ １００Ｙ ４３"
FULL_MOBILE = "＋８６ １３９－１２３４－５６７８"
CODE, MOBILE = "91350100M000100Y43", "13912345678"


def test_import_stores_canonical_values_and_sees_the_duplicate(
    create, run, org, upload, make_customer
):
    make_customer("sales2", name="已有客户有限公司", contact_phone="13700001111")
    rows = [
        ["全角导入有限公司", "", FULL_CODE, "", "", "", "", "王五", FULL_MOBILE, "", ""],
        [
            "电话重复有限公司",
            "",
            "",
            "",
            "",
            "",
            "",
            "赵六",
            "＋８６ １３７ ００００ １１１１",
            "",
            "",
        ],
    ]
    job = create(
        actor=org["sales1"], upload=upload(rows), target="users", user_ids=[org["sales1"].pk]
    )
    assert (job.valid, job.duplicate, job.invalid) == (1, 1, 0)
    assert job.preview_duplicates[0]["existing"] == "已有客户有限公司"
    run(job, org["sales1"])
    customer = Customer.objects.get(name="全角导入有限公司")
    assert (customer.contact_phone, customer.credit_code) == (MOBILE, CODE)


def test_the_owner_picker_offers_only_users_who_can_own_customers(db, client):
    """归属员工 (issue 14.4): salespeople within the importer's scope, not 系统管理员, 财务 or
    售后."""
    from kehu.imports.forms import ImportForm
    from kehu.org.demo import seed

    users = seed()
    offered = set(
        ImportForm(user=users["manager1"])
        .fields["users"]
        .queryset.values_list("username", flat=True)
    )
    assert {"sales1", "sales2"} <= offered
    assert not offered & {"admin", "finance1", "service1"}
    mine = set(
        ImportForm(user=users["sales1"]).fields["users"].queryset.values_list("username", flat=True)
    )
    assert mine == {"sales1"}
