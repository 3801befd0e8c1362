import io

from openpyxl import load_workbook

from kehu.customers.models import Customer
from kehu.pool.services import release_customers

from .conftest import HEADERS


def workbook(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return load_workbook(io.BytesIO(content)).active


def test_export_respects_visibility_filters_and_escapes_formulas(org, make_customer, client_for):
    make_customer("sales1", name="甲公司", remark="=1+1", legal_person="@SUM(A1)")
    make_customer("sales1", name="乙公司")
    make_customer("sales2", name="别人的公司")
    client = client_for("sales1")
    response = client.get("/customers/export/?name=甲")
    assert response.status_code == 200
    ws = workbook(response)
    rows = list(ws.values)
    assert list(rows[0][:11]) == HEADERS
    assert [r[0] for r in rows[1:]] == ["甲公司"]
    assert rows[1][9] == "'=1+1" and rows[1][1] == "'@SUM(A1)"
    names = [r[0] for r in list(workbook(client.get("/api/v1/customers/export")).values)[1:]]
    assert sorted(names) == ["乙公司", "甲公司"]


def test_pool_export_is_masked(org, make_customer, client_for):
    customer = make_customer("sales1", name="公海公司", contact_phone="15263698652")
    release_customers(actor=org["sales1"], ids=[customer.pk])
    response = client_for("sales2").get("/api/v1/customers/export?tab=pool")
    rows = list(workbook(response).values)
    assert rows[1][0] == "公海公司" and rows[1][8] == "152****8652"
    assert "15263698652" not in str(rows)


def test_export_then_reimport_round_trips(
    org, make_customer, client_for, django_capture_on_commit_callbacks
):
    make_customer("sales1", name="往返测试有限公司", contact_phone="13912345678", remark="-备注-")
    exported = client_for("sales1").get("/api/v1/customers/export")
    content = b"".join(exported.streaming_content)
    Customer.objects.all().delete()
    api = client_for("sales1")
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):  # the worker's check and preview
        response = api.post(
            "/api/v1/customers/imports",
            {
                "file": SimpleUploadedFile("export.xlsx", content),
                "target": "users",
                "user_ids": [org["sales1"].pk],
            },
        )
    assert response.status_code == 201, response.content
    # the preview is the worker's: SPEC's status preview, not ready until it has counted
    assert (response.json()["status"], response.json()["preview_ready"]) == ("preview", False)
    job = api.get(f"/api/v1/customers/imports/{response.json()['id']}").json()
    assert (job["status"], job["preview_ready"], job["valid"]) == ("preview", True, 1)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(f"/api/v1/customers/imports/{job['id']}/confirm")
    assert confirmed.status_code == 200
    progress = api.get(f"/api/v1/customers/imports/{job['id']}").json()
    assert (progress["status"], progress["created"]) == ("finished", 1)
    customer = Customer.objects.get()
    assert (customer.name, customer.contact_phone, customer.remark) == (
        "往返测试有限公司",
        "13912345678",
        "-备注-",
    )
    again = api.post(f"/api/v1/customers/imports/{job['id']}/confirm")
    assert again.status_code == 409


def test_api_bad_upload_is_400_and_template_downloads(org, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = client_for("sales1")
    response = api.post(
        "/api/v1/customers/imports",
        {"file": SimpleUploadedFile("x.xlsx", b"junk"), "target": "pool"},
    )
    assert response.status_code in (400, 403)
    response = api.post(
        "/api/v1/customers/imports",
        {
            "file": SimpleUploadedFile("x.xlsx", b"junk"),
            "target": "users",
            "user_ids": [org["sales1"].pk],
        },
    )
    assert response.status_code == 400 and "无法读取" in response.json()["detail"]
    template = api.get("/api/v1/customers/import-template")
    assert template.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(template.content)).active[1]][:11] == HEADERS
    assert api.get("/api/v1/customers/imports/999").status_code == 404


def test_import_pages(org, client_for, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import SEED_ROWS, xlsx_bytes

    client = client_for("admin")
    assert "点击下载模板" in client.get("/customers/import/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/customers/import/",
            {
                "file": SimpleUploadedFile("seed.xlsx", xlsx_bytes(SEED_ROWS)),
                "target": "users",
                "users": [org["sales1"].pk, org["sales2"].pk],
                "allocation": "even",
                "on_duplicate": "skip",
            },
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "确定导入" in page and "李业务：2" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"] + "confirm/")
    page = client.get(response["Location"]).content.decode()
    assert "新增 <strong>3</strong> 条" in page and "100%" in page
    bad = client.post(
        "/customers/import/", {"file": SimpleUploadedFile("a.xlsx", b"junk"), "target": "pool"}
    )
    assert bad.status_code == 400 and "无法读取" in bad.content.decode()


def test_control_characters_are_dropped_at_the_door_and_never_break_an_export(
    org, make_customer, client_for
):
    """A vertical tab in a name made 导出 answer 500 for everyone who saw the customer, and the
    pool's export for every user once it was released (issue 10)."""
    typed = make_customer("sales1", name="鑫达\x0b叉车\x00租赁有限公司", remark="第一行\n第二行")
    assert (typed.name, typed.remark) == ("鑫达叉车租赁有限公司", "第一行\n第二行")
    legacy = make_customer("sales1", name="旧数据公司")
    Customer.objects.filter(pk=legacy.pk).update(name="旧数据\x0b公司", legal_person="=\x01A1")
    for url in ("/customers/export/", "/api/v1/customers/export"):
        response = client_for("sales1").get(url)
        assert response.status_code == 200, url
        rows = list(workbook(response).values)
        assert {r[0] for r in rows[1:]} == {"鑫达叉车租赁有限公司", "旧数据公司"}
        assert "'=A1" in [r[1] for r in rows[1:]]  # still escaped once cleaned
    release_customers(actor=org["sales1"], ids=[legacy.pk])
    response = client_for("sales2").get("/api/v1/customers/export?tab=pool")
    assert response.status_code == 200
    assert [r[0] for r in list(workbook(response).values)[1:]] == ["旧数据公司"]
