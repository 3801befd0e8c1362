import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.basics.models import DictEntry, DictKind
from kehu.customers.models import Customer

XSS = '<script>alert("x")</script>'


def post_json(client, url, data, method="post"):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


def test_list_page_text_sorting_and_constant_queries(org, make_customer, client_for):
    client = client_for("sales1")
    for i in range(3):
        make_customer(name=f"少量客户{i}")
    with CaptureQueriesContext(connection) as few:
        response = client.get("/customers/")
    assert "显示第 1 到第 3 条记录，总共 3 条记录" in response.content.decode()
    for i in range(30):
        make_customer(
            name=f"大量客户{i}",
            tags=[str(t.pk) for t in DictEntry.objects.filter(kind=DictKind.TAG)[:2]],
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/customers/?per_page=50")
    assert "总共 33 条记录" in response.content.decode()
    assert len(many) == len(few)
    Customer.objects.filter(name="少量客户1").update(receivable_vehicle=500)
    html = client.get("/customers/?sort=-receivable_total&per_page=100").content.decode()
    assert html.index("少量客户1") < html.index("少量客户2") < html.index("少量客户0")
    html = client.get("/customers/?sort=receivable_total&per_page=100").content.decode()
    assert html.index("少量客户1") > html.index("少量客户2")


def test_search_panel_filters_are_in_the_url(org, make_customer, client_for, level_a):
    make_customer(name="甲公司", level=str(level_a.pk), contact_phone="13911112222")
    make_customer(name="乙公司")
    client = client_for("sales1")
    html = client.get(f"/customers/?level={level_a.pk}").content.decode()
    assert "甲公司" in html and "乙公司" not in html
    html = client.get("/customers/?phone=1111").content.decode()
    assert "甲公司" in html and "乙公司" not in html
    body = client.get("/api/v1/customers?phone=1111").json()
    assert [c["name"] for c in body["items"]] == ["甲公司"]
    assert client.get("/api/v1/customers?ordering=-receivable_total").status_code == 200
    bad = client.get("/api/v1/customers?ordering=password")
    assert bad.status_code == 400 and "不支持的排序字段" in bad.json()["detail"]


def test_has_receivable_filter(org, make_customer, client_for):
    owing = make_customer(name="欠款客户")
    make_customer(name="结清客户")
    Customer.objects.filter(pk=owing.pk).update(receivable_parts=1200)
    client = client_for("sales1")
    html = client.get("/customers/?has_receivable=true").content.decode()
    assert "欠款客户" in html and "结清客户" not in html
    html = client.get("/customers/?has_receivable=false").content.decode()
    assert "欠款客户" not in html and "结清客户" in html
    html = client.get("/customers/?has_receivable=").content.decode()
    assert "欠款客户" in html and "结清客户" in html
    assert '<option value="" selected>全部</option>' in html


def test_search_panel_pickers_list_each_dictionary_and_keep_the_choice(org, client_for, level_a):
    import re

    html = client_for("sales1").get(f"/customers/?level={level_a.pk}").content.decode()
    for name, kind in (
        ("level", DictKind.LEVEL),
        ("source", DictKind.SOURCE),
        ("industry", DictKind.INDUSTRY),
        ("tags", DictKind.TAG),
    ):
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
        shown = re.findall(r'<option value="(\d+)"', select)
        assert shown == [
            str(pk)
            for pk in DictEntry.objects.filter(kind=kind)
            .order_by("sort", "id")
            .values_list("pk", flat=True)
        ]
    level = re.search(r'<select name="level".*?</select>', html, re.S).group(0)
    assert f'<option value="{level_a.pk}" selected>' in level
    # no province chosen: the city and district pickers offer nothing yet
    city = re.search(r'<select name="city".*?</select>', html, re.S).group(0)
    assert city.count("<option") == 1


def test_form_create_shows_chinese_errors_and_saves_nothing(org, client_for):
    client = client_for("sales1")
    response = client.post(
        "/customers/add/",
        {"name": "", "contact_name": "张三", "contact_phone": "12345", "credit_code": "ABC"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "请填写客户名称" in html or "这个字段是必填项" in html
    assert Customer.objects.count() == 0
    response = client.post(
        "/customers/add/",
        {"name": "好公司", "contact_name": "张三", "contact_phone": "12345", "credit_code": "ABC"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "联系电话格式不正确" in html and "统一社会信用代码应为18位" in html
    assert Customer.objects.count() == 0


def test_form_duplicate_warning_then_confirm(org, make_customer, client_for):
    make_customer("sales2", name="厦门恒通物流有限公司")
    client = client_for("sales1")
    data = {
        "name": "厦门恒通物流股份有限公司",
        "contact_name": "张三",
        "contact_phone": "13900001111",
    }
    response = client.post("/customers/add/", data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "发现疑似重复的客户" in html and "厦门恒通物流有限公司" in html and "张业务" in html
    assert 'name="confirm_duplicates" value="True"' in html
    assert Customer.objects.count() == 1
    response = client.post(
        "/customers/add/", {**data, "confirm_duplicates": "True"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204 and "objectSaved" in response["HX-Trigger"]
    assert Customer.objects.count() == 2


def test_stale_form_is_refused(org, make_customer, client_for):
    customer = make_customer(name="甲公司")
    client = client_for("sales1")
    base = {"name": "甲公司", "contact_name": "联系人", "contact_phone": customer.contact_phone}
    assert (
        client.post(
            f"/customers/{customer.pk}/edit/",
            {**base, "remark": "一", "version": 1},
            HTTP_HX_REQUEST="true",
        ).status_code
        == 204
    )
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {**base, "remark": "二", "version": 1},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "该客户已被他人修改" in html
    assert "他人保存的当前值" in html and "<td>一</td><td>二</td>" in html.replace("\n", "")
    customer.refresh_from_db()
    assert customer.remark == "一"


def test_xss_is_escaped_everywhere(org, make_customer, client_for):
    customer = make_customer(name=f"恶意{XSS}公司", remark=XSS, legal_person=XSS)
    client = client_for("sales1")
    for url in ["/customers/", f"/customers/{customer.pk}/", f"/customers/{customer.pk}/?tab=log"]:
        html = client.get(url).content.decode()
        assert XSS not in html
        assert "&lt;script&gt;" in html
    assert (
        client.get(f"/api/v1/customers/{customer.pk}").json()["remark"] == XSS
    )  # JSON carries data, not markup


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", "校验位"),
        ({"contact_phone": "1234"}, "contact_phone", "联系电话格式不正确"),
        ({"name": "长" * 101}, "name", "不能超过100个字符"),
        ({"level": 999999}, "level", "客户等级不存在"),
        ({"tags": [999999]}, "tags", "客户标签不存在"),
        ({"bank_account": "abc"}, "bank_account", "数字和空格"),
        ({"province": "999999"}, "province", "省份不存在"),
    ],
)
def test_api_bad_input_is_400_in_chinese_and_creates_nothing(
    org, client_for, payload, field, message
):
    client = client_for("sales1")
    data = {"name": "合法公司", "contact_name": "张三", "contact_phone": "13900002222", **payload}
    response = post_json(client, "/api/v1/customers", data)
    assert response.status_code == 400
    body = response.json()
    assert message in " ".join(body["errors"][field])
    assert Customer.objects.count() == 0


def test_api_malformed_and_missing_fields(org, client_for):
    client = client_for("sales1")
    response = client.post("/api/v1/customers", "{not json", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()
    response = post_json(client, "/api/v1/customers", {"name": "只有名字"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"contact_name", "contact_phone"}
    assert Customer.objects.count() == 0


def test_api_crud_round_trip_with_version(org, client_for):
    client = client_for("sales1")
    created = post_json(
        client,
        "/api/v1/customers",
        {"name": "接口公司", "contact_name": "甲", "contact_phone": "13900003333"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "open" and body["receivable_total"] == "0.00" and body["version"] == 1
    cid = body["id"]
    patched = post_json(
        client, f"/api/v1/customers/{cid}", {"remark": "改", "version": 1}, method="patch"
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = post_json(
        client, f"/api/v1/customers/{cid}", {"remark": "旧", "version": 1}, method="patch"
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    assert Customer.objects.get(pk=cid).remark == "改"
    batch = post_json(client, "/api/v1/customers/batch-delete", {"ids": [cid, 424242]})
    assert batch.status_code == 200
    assert batch.json() == {
        "done": [cid],
        "refused": [{"id": 424242, "reason": "客户不存在或无权查看"}],
    }


def test_share_api_and_tabs(org, make_customer, client_for):
    customer = make_customer("sales1")
    client = client_for("sales1")
    response = post_json(
        client, f"/api/v1/customers/{customer.pk}/share", {"user_ids": [org["sales3"].pk]}
    )
    assert response.status_code == 200 and response.json() == {"user_ids": [org["sales3"].pk]}
    assert client_for("sales3").get("/api/v1/customers?tab=shared_with_me").json()["count"] == 1
    refused = post_json(
        client_for("sales3"), f"/api/v1/customers/{customer.pk}/share", {"user_ids": []}
    )
    assert refused.status_code == 403


def test_share_dialog_offers_only_colleagues_a_share_gives_something(
    org, make_customer, client_for
):
    """The 分享 dialog's picker: 业务员, 销售经理 and 售后 (not the customer's owner), never
    系统管理员 or 财务, who see every customer already (issue 14.4)."""
    customer = make_customer("sales1")
    html = client_for("sales1").get(f"/customers/{customer.pk}/share/").content.decode()
    offered = set(re.findall(r'<option value="(\d+)"', html))
    expected = {str(org[u].pk) for u in ("sales2", "sales3", "manager1", "service1")}
    assert expected <= offered
    for who in ("sales1", "admin", "finance1"):
        assert str(org[who].pk) not in offered, who


def test_attachment_download_only_for_viewers(org, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for("sales1")
    response = client.post(
        "/customers/add/",
        {
            "name": "附件公司",
            "contact_name": "甲",
            "contact_phone": "13900004444",
            "attachments": [SimpleUploadedFile("报价.pdf", b"%PDF-1.4 hello")],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    customer = Customer.objects.get(name="附件公司")
    from kehu.core.models import Attachment

    attachment = Attachment.objects.get(object_id=customer.pk)
    download = client.get(f"/attachments/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 hello"
    assert (
        "报价.pdf" in download["Content-Disposition"]
        or "filename*" in download["Content-Disposition"]
    )
    assert client_for("sales3").get(f"/attachments/{attachment.pk}/").status_code == 404


def test_operations_menu_has_the_seeds_actions(org, client_for):
    html = client_for("manager1").get("/customers/").content.decode()
    menu = html[html.index('data-testid="bulk-menu"') :]
    positions = [menu.index(label) for label in ("转移客户", "放入公海", "合并客户", "批量删除")]
    assert positions == sorted(positions)
    assert "合并客户" not in client_for("sales1").get("/customers/").content.decode()
