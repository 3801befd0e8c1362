"""导入客户 in a real browser: template → filled file → preview → confirm → progress → report.

Every flow runs against ``live_server`` as the administrator and only uses the page; the
database is checked afterwards. Under pytest django-q2 runs tasks synchronously (Q_CLUSTER
``sync``), so confirming runs the import inside that request once it has committed.
Screenshots: ``test-artifacts/import-*.png``.
"""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from kehu.customers.models import Customer
from kehu.imports.models import ImportJob, ImportStatus
from kehu.imports.services import run_import

from .conftest import HEADERS, SEED_ROWS, xlsx_bytes

pytestmark = pytest.mark.browser

BAD_ROW = ["测试客户G有限公司", "法人G", "", "", "", "", "", "客户G", "12345", "", ""]
SEED_NAMES = ["测试客户D有限公司", "测试客户E有限公司", "测试客户F有限公司"]
SEED_PHONES = ["15263698652", "15263258741", "15863296572"]


def exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def picker_of(page, name: str):
    """The TomSelect wrapper that replaces ``<select name=name>``."""
    select = page.locator(f"select[name={name}]")
    expect(select).to_have_class(re.compile(r"\bts-hidden-accessible\b"))
    return select.locator("xpath=following-sibling::div[contains(@class, 'ts-wrapper')][1]")


def pick(page, name: str, text: str) -> None:
    """Type ``text`` into the picker of ``name`` and choose the matching option."""
    wrapper = picker_of(page, name)
    wrapper.locator(".ts-control").click()
    wrapper.locator(".ts-control input").press_sequentially(text)
    option = wrapper.locator(".ts-dropdown .option", has_text=exact(text))
    expect(option).to_have_count(1)
    option.click()
    # An item reads "李业务×": its text and the remove button.
    expect(wrapper.locator(".ts-control .item", has_text=text)).to_have_count(1)


def signed_in(page, live_server, login, username: str = "admin") -> None:
    login(page, live_server, username)
    page.wait_for_load_state()  # `login` returns once the URL has changed


def arrived(page, url: re.Pattern[str]) -> None:
    """After a click that navigates: the new page has loaded (its scripts too), so the next
    navigation does not abort them."""
    expect(page).to_have_url(url)
    page.wait_for_load_state()


def count(page, what: str):
    return page.locator(f"[data-testid=count-{what}]")


def fill_template(template_path, out_path, rows) -> None:
    """What the user does in Excel: delete the example row, type the customers, save."""
    wb = load_workbook(template_path)
    ws = wb.active
    if ws.max_row > 1:
        ws.delete_rows(2, ws.max_row - 1)
    for row in rows:
        ws.append(row)
    wb.save(out_path)


def test_import_to_two_employees_with_preview_progress_and_error_report(
    page, live_server, demo_users, login, screenshot, tmp_path, leave_picker
):
    sales1, sales2 = demo_users["sales1"], demo_users["sales2"]
    signed_in(page, live_server, login)
    page.goto(f"{live_server.url}/customers/import/")
    expect(page.locator("[data-testid=import-upload]")).to_be_visible()

    # 1. The template: A1..K1 are the eleven columns of SPEC §4.1.
    with page.expect_download() as download_info:
        page.locator("[data-testid=template-link]").click()
    download = download_info.value
    assert download.suggested_filename == "客户导入模板.xlsx"
    template = tmp_path / "template.xlsx"
    download.save_as(template)
    sheet = load_workbook(template).active
    assert [sheet.cell(row=1, column=c).value for c in range(1, 12)] == HEADERS
    assert HEADERS[0] == "客户名称" and HEADERS[-1] == "详细地址"

    # 2. Filled in with the seed's three customers and one bad phone.
    filled = tmp_path / "客户资料.xlsx"
    fill_template(template, filled, [*SEED_ROWS, BAD_ROW])
    page.locator("input[name=file]").set_input_files(filled)
    page.get_by_label("员工", exact=True).check()
    users = picker_of(page, "users")
    # 归属员工 offers who can own customers: the importing 系统管理员 is not preselected
    expect(users.locator(".ts-control .item")).to_have_count(0)
    pick(page, "users", "李业务")
    pick(page, "users", "张业务")
    page.locator("h2, .page-title").first.click()  # close the picker's dropdown
    leave_picker(page.locator("select[name=users]"))
    expect(users.locator(".ts-dropdown")).to_be_hidden()
    page.get_by_label("平均分配", exact=True).check()
    expect(page.get_by_label("跳过重复（推荐）", exact=True)).to_be_checked()
    screenshot(page, "import-upload-form")
    page.locator("[data-testid=import-upload]").click()

    # 3. The preview: counts, the split, the problem rows; nothing is imported yet.
    arrived(page, re.compile(r"/customers/imports/\d+/$"))
    expect(count(page, "total")).to_have_text("4")
    expect(count(page, "valid")).to_have_text("3")
    expect(count(page, "invalid")).to_have_text("1")
    expect(count(page, "duplicate")).to_have_text("0")
    plan = page.locator("[data-testid=plan]")
    expect(plan.locator(".badge")).to_have_count(2)
    planned = dict(
        re.fullmatch(r"\s*(\S+)：(\d+)\s*", text).groups()
        for text in plan.locator(".badge").all_inner_texts()
    )
    assert sorted(planned) == ["张业务", "李业务"]
    assert sorted(planned.values()) == ["1", "2"]
    problem = page.locator("table tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.locator("td").nth(0)).to_have_text("5")  # the header is row 1
    expect(problem.locator("td").nth(1)).to_have_text(BAD_ROW[0])
    expect(problem.locator("td").nth(2)).to_contain_text("联系电话")
    screenshot(page, "import-preview")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.PREVIEW
    assert job.user_ids == [sales1.pk, sales2.pk]
    assert not Customer.objects.exists()

    # 4. Confirm: the progress reaches 100 % and the result is shown.
    detail_url = page.url
    with page.expect_navigation():  # POST, then the redirect back here
        page.locator("[data-testid=import-confirm]").click()
    expect(page).to_have_url(detail_url)
    expect(page.locator("[data-testid=progress-text]")).to_contain_text("100%")
    bar = page.locator("[data-testid=progress-bar]")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar).to_have_attribute("style", re.compile(r"width:\s*100%"))
    result = page.locator("[data-testid=import-result]")
    expect(result).to_be_visible()
    expect(result).to_contain_text(re.compile(r"新增\s*3\s*条，跳过\s*0\s*条，失败\s*1\s*条"))
    screenshot(page, "import-finished")

    # 5. The error report: the bad row as uploaded, with its reason.
    with page.expect_download() as download_info:
        page.locator("[data-testid=error-report]").click()
    report_path = tmp_path / "report.xlsx"
    download_info.value.save_as(report_path)
    report = load_workbook(report_path).active
    rows = [list(r) for r in report.iter_rows(values_only=True)]
    header = rows[0]
    assert header[: len(HEADERS)] == HEADERS
    assert header[-1] == "错误原因"
    assert len(rows) == 2
    bad = rows[1]
    assert bad[0] == BAD_ROW[0]
    assert bad[HEADERS.index("联系电话")] == "12345"
    assert "联系电话" in bad[-1]

    # 6. The result survives a reload.
    page.reload()
    expect(page.locator("[data-testid=import-result]")).to_contain_text(
        re.compile(r"新增\s*3\s*条，跳过\s*0\s*条，失败\s*1\s*条")
    )
    expect(page.locator("[data-testid=progress-text]")).to_contain_text("100%")
    expect(page.locator("#import-progress[hx-trigger]")).to_have_count(0)  # no more polling

    job.refresh_from_db()
    assert job.status == ImportStatus.FINISHED
    assert (job.done, job.created, job.skipped, job.failed) == (4, 3, 0, 1)
    created = Customer.objects.order_by("name")
    assert [c.name for c in created] == SEED_NAMES
    assert [c.contact_phone for c in created] == SEED_PHONES
    owners = {name: Customer.objects.filter(owner__name=name).count() for name in planned}
    assert owners == {name: int(n) for name, n in planned.items()}
    assert not Customer.objects.filter(name=BAD_ROW[0]).exists()


def test_progress_bar_polls_until_the_import_has_run(
    page, live_server, demo_users, login, screenshot
):
    """A running import (the worker is elsewhere): the page polls every second and shows the
    result when the run has finished, without a reload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kehu.imports.services import import_create

    admin = demo_users["admin"]
    job = import_create(
        actor=admin,
        upload=SimpleUploadedFile("customers.xlsx", xlsx_bytes([*SEED_ROWS, BAD_ROW])),
        target="users",
        user_ids=[demo_users["sales1"].pk],
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    signed_in(page, live_server, login)
    page.goto(f"{live_server.url}/customers/imports/{job.pk}/")
    page.evaluate("window.kehuNoReload = true")
    expect(page.locator("[data-testid=progress-text]")).to_contain_text("0 / 4（0%）")
    expect(page.locator("[data-testid=import-result]")).to_have_count(0)
    screenshot(page, "import-running")

    run_import(job.pk)  # what the worker does

    expect(page.locator("[data-testid=progress-text]")).to_contain_text("4 / 4（100%）")
    expect(page.locator("[data-testid=import-result]")).to_contain_text(
        re.compile(r"新增\s*3\s*条，跳过\s*0\s*条，失败\s*1\s*条")
    )
    assert page.evaluate("window.kehuNoReload") is True
    # Once finished the fragment carries no poll: the page stops asking.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.wait_for_timeout(2_500)
    assert not [u for u in requests if f"/customers/imports/{job.pk}/" in u]
    assert Customer.objects.filter(owner=demo_users["sales1"]).count() == 3


def test_pool_import_button_preselects_the_pool(
    page, live_server, demo_users, login, screenshot, tmp_path
):
    signed_in(page, live_server, login)
    page.goto(f"{live_server.url}/pool/")
    page.locator("[data-testid=pool-import-button]").click()
    arrived(page, re.compile(r"/customers/import/\?target=pool$"))
    expect(page.get_by_label("公海", exact=True)).to_be_checked()
    expect(page.get_by_label("员工", exact=True)).not_to_be_checked()
    screenshot(page, "import-pool-preselected")

    # And the rows go to the pool, masked there.
    upload = tmp_path / "公海客户.xlsx"
    upload.write_bytes(xlsx_bytes(SEED_ROWS[:1]))
    page.locator("input[name=file]").set_input_files(upload)
    page.locator("[data-testid=import-upload]").click()
    arrived(page, re.compile(r"/customers/imports/\d+/$"))
    expect(count(page, "valid")).to_have_text("1")
    expect(page.locator("[data-testid=plan]")).to_contain_text("公海：1")
    with page.expect_navigation():
        page.locator("[data-testid=import-confirm]").click()
    expect(page.locator("[data-testid=import-result]")).to_contain_text(
        re.compile(r"新增\s*1\s*条，跳过\s*0\s*条，失败\s*0\s*条")
    )
    expect(page.locator("[data-testid=error-report]")).to_have_count(0)
    page.get_by_role("link", name="查看客户").click()
    arrived(page, re.compile(r"/pool/$"))
    row = page.locator("#object-list tbody tr", has_text=SEED_NAMES[0])
    expect(row).to_have_count(1)
    expect(row.locator(".masked")).to_have_text("152****8652")
    assert SEED_PHONES[0] not in page.content()
    customer = Customer.objects.get()
    assert customer.owner is None and customer.pool is not None


def test_the_check_runs_in_the_worker_and_a_stopped_run_is_continued(
    page, live_server, demo_users, login, screenshot
):
    """The upload page does not wait for the file to be read: the job page polls while the
    worker checks it, then shows the preview. A run that stopped shows why, with the row, and
    继续导入 picks it up (issue 10)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kehu.imports import services

    admin = demo_users["admin"]
    job = services.import_create(
        actor=admin,
        upload=SimpleUploadedFile("customers.xlsx", xlsx_bytes([*SEED_ROWS, BAD_ROW])),
        target="users",
        user_ids=[demo_users["sales1"].pk],
    )
    # As if the worker had not got to it yet.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PREVIEWING, total=0, valid=0)
    signed_in(page, live_server, login)
    page.goto(f"{live_server.url}/customers/imports/{job.pk}/")
    page.evaluate("window.kehuNoReload = true")
    expect(page.locator("[data-testid=import-checking]")).to_be_visible()
    screenshot(page, "import-checking")

    services.run_preview(job.pk)  # what the worker does

    expect(count(page, "valid")).to_have_text("3")
    expect(page.locator("[data-testid=import-confirm]")).to_be_visible()
    assert page.evaluate("window.kehuNoReload") is True

    # The run stopped at a row (here: as a failed run leaves it) and is continued.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED,
        started_at=job.created_at,
        message="第3行：数据库暂时无法写入（连接中断、超时或锁等待）。导入已暂停，前0行已导入，"
        "本批（第2行起）未保存；处理后点击「继续导入」从第2行继续",
    )
    page.reload()
    expect(page.locator("[data-testid=import-message]")).to_contain_text("第3行：")
    screenshot(page, "import-stopped")
    with page.expect_navigation():
        page.locator("[data-testid=import-resume]").click()
    expect(page.locator("[data-testid=import-result]")).to_contain_text(
        re.compile(r"新增\s*3\s*条，跳过\s*0\s*条，失败\s*1\s*条")
    )
    expect(page.locator("[data-testid=import-resume]")).to_have_count(0)
    assert Customer.objects.filter(owner=demo_users["sales1"]).count() == 3


def test_preview_shows_where_it_read_duplicates_warnings_and_the_split_it_then_makes(
    page, live_server, demo_users, login, screenshot, tmp_path, leave_picker
):
    """Issue 14, points 10–13 on the screen: only the chosen target's pickers; a real-world
    workbook (说明 sheet in front, a merged title above the headers, the template's example row
    left in); the preview names the sheet and header row, skips the example row with a notice,
    lists the duplicate (with the customer and 负责人 it repeats), the invalid row and the
    address it could not place; 随机分配's split shown is the split made."""
    from openpyxl import Workbook

    from kehu.customers.services import customer_create
    from kehu.imports.spreadsheets import SAMPLE_ROW

    sales2 = demo_users["sales2"]
    customer_create(
        actor=sales2,
        data={
            "name": "测试客户E有限公司",
            "contact_name": "老客户",
            "contact_phone": "13012345678",
        },
        confirm_duplicates=True,
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    signed_in(page, live_server, login)
    page.goto(f"{live_server.url}/customers/import/")
    users_field = page.locator(".import-for-users", has=page.locator("select[name=users]"))
    department_field = page.locator(
        ".import-for-department", has=page.locator("select[name=department]")
    )
    allocation = page.get_by_label("随机分配", exact=True)
    expect(users_field).to_be_visible()
    expect(department_field).to_be_hidden()
    page.get_by_role("radio", name="部门", exact=True).check()
    expect(department_field).to_be_visible()
    expect(users_field).to_be_hidden()
    expect(allocation).to_be_visible()
    page.get_by_role("radio", name="公海", exact=True).check()
    expect(department_field).to_be_hidden()
    expect(users_field).to_be_hidden()
    expect(allocation).to_be_hidden()
    page.get_by_role("radio", name="员工", exact=True).check()
    expect(users_field).to_be_visible()

    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["请在「客户」工作表中填写"])
    ws = wb.create_sheet("客户")
    ws.append(["2026年客户信息表"])
    ws.merge_cells("A1:K1")
    ws.append(HEADERS)
    ws.append(SAMPLE_ROW)
    for row in SEED_ROWS:  # D, F new; E repeats 张业务's customer
        ws.append(row)
    ws.append(BAD_ROW)
    for n in range(12):
        ws.append(
            [f"随机客户{n}有限公司", "", "", "", "", "", "", "联系人", f"1370000{n:04d}", ""]
            + (["工业园三期7号楼"] if n == 0 else ["福建省厦门市湖里区金山路9号"])
        )
    path = tmp_path / "2026年客户信息表.xlsx"
    wb.save(path)
    page.locator("input[name=file]").set_input_files(path)
    pick(page, "users", "李业务")
    page.locator("h2, .page-title").first.click()
    leave_picker(page.locator("select[name=users]"))
    allocation.check()
    screenshot(page, "import-upload-form-users")
    page.locator("[data-testid=import-upload]").click()

    arrived(page, re.compile(r"/customers/imports/\d+/$"))
    expect(page.locator("[data-testid=import-table-found]")).to_have_text(
        exact("已读取工作表「客户」，表头在第 2 行，数据从第 3 行起。")
    )
    expect(page.locator("[data-testid=import-sample-skipped]")).to_contain_text(
        "第 3 行是模板的示例行"
    )
    expect(count(page, "total")).to_have_text("16")
    expect(count(page, "valid")).to_have_text("14")
    expect(count(page, "invalid")).to_have_text("1")
    expect(count(page, "duplicate")).to_have_text("1")
    duplicate = page.locator("[data-testid=preview-duplicates] tbody tr")
    expect(duplicate).to_have_count(1)
    expect(duplicate.locator("td")).to_have_text(
        ["5", "测试客户E有限公司", "测试客户E有限公司", "张业务", "客户名称重复（系统中已存在）"]
    )
    invalid = page.locator("[data-testid=preview-errors] tbody tr")
    expect(invalid).to_have_count(1)
    expect(invalid.locator("td").nth(0)).to_have_text("7")
    warning = page.locator("[data-testid=preview-warnings] tbody tr")
    expect(warning).to_have_count(1)
    expect(warning.locator("td").nth(1)).to_have_text("随机客户0有限公司")
    expect(warning.locator("td").nth(2)).to_contain_text("未能识别省市区")
    planned = dict(
        re.fullmatch(r"\s*(\S+)：(\d+)\s*", text).groups()
        for text in page.locator("[data-testid=plan] .badge").all_inner_texts()
    )
    assert sum(int(n) for n in planned.values()) == 14
    screenshot(page, "import-preview-lists")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "import-preview-lists-390")
    page.set_viewport_size({"width": 1440, "height": 900})

    with page.expect_navigation():
        page.locator("[data-testid=import-confirm]").click()
    expect(page.locator("[data-testid=import-result]")).to_contain_text(
        re.compile(r"新增\s*14\s*条，跳过\s*1\s*条，失败\s*1\s*条")
    )
    made = {
        name: Customer.objects.filter(owner__name=name, creator__username="admin").count()
        for name in planned
    }
    assert made == {name: int(n) for name, n in planned.items()}
    assert not Customer.objects.filter(remark=SAMPLE_ROW[9]).exists()  # the example row
    huli = Customer.objects.get(name="随机客户1有限公司")
    assert (huli.city.name, huli.district.name) == ("厦门市", "湖里区")
