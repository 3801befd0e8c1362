"""产品: the generic page and API tests (kehu/core/testing.py), then the rules of the slice.

Products are settings rows (no data scope): the permission alone decides. Admins keep them;
业务员, 销售经理 and 财务 read them (the list, the API, the picker) and change nothing; 售后 has
no product permission at all (403 everywhere)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from kehu.audit.models import ChangeLog
from kehu.basics.models import Product, ProductCategory
from kehu.basics.services import product_delete, product_save
from kehu.core import registry
from kehu.core.errors import ApplicationError
from kehu.core.testing import APIViewTestCases, ViewTestCases, unique
from kehu.org.auth import issue_token
from kehu.org.testing import org  # noqa: F401  (this package has no conftest)

pytestmark = pytest.mark.django_db


def make_product(actor, **data) -> Product:
    payload = {
        "name": unique("测试叉车"),
        "spec": "CPCD30",
        "category": ProductCategory.VEHICLE,
        "brand": "杭叉",
        "list_price": "100000",
        **data,
    }
    return product_save(actor=actor, instance=None, data=payload)


class ProductCase:
    model = Product
    owner, outsider, read_only = "admin", "service1", "sales1"
    # 售后 has no product permission: refused (403) for the list and every object.
    outsider_status = outsider_list_status = 403

    def make(self, org):  # noqa: F811
        return make_product(org[self.owner])

    def label(self, obj):
        return obj.name


class TestProductPages(
    ProductCase,
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    url_name = "product"
    max_list_queries = 12

    def form_data(self, obj):
        return {
            "name": unique("页面产品"),
            "category": "parts",
            "brand": "合力",
            "spec": "28x9-15",
            "unit": "条",
            "list_price": "1,350.50",
            "is_active": "on",
            "remark": "通用测试",
        }

    def assert_saved(self, obj, data):
        super().assert_saved(obj, data)
        assert (obj.list_price, obj.is_active) == (Decimal("1350.50"), True)


class TestProductAPI(
    ProductCase,
    APIViewTestCases.List,
    APIViewTestCases.Get,
    APIViewTestCases.Create,
    APIViewTestCases.Update,
    APIViewTestCases.Delete,
):
    api_path = "/api/v1/products"
    max_list_queries = 6
    invalid_field = "name"

    def create_data(self, obj):
        return {
            "name": unique("接口产品"),
            "spec": "CPD20",
            "category": "vehicle",
            "brand": "龙工",
            "list_price": "128000.00",
        }

    def invalid_create_data(self, obj):
        return {"name": "   ", "list_price": "100000"}

    def update_data(self, obj):
        return {"remark": "年底调价", "list_price": "99000.5"}


# --- the service's rules -------------------------------------------------------------------


def _state() -> tuple[int, int]:
    return Product.objects.count(), ChangeLog.objects.count()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"list_price": "-1"}, "list_price", "标准价不能为负数"),
        ({"list_price": "100.123"}, "list_price", "标准价最多两位小数"),
        ({"list_price": "十万"}, "list_price", "标准价必须是数字"),
        ({"list_price": "NaN"}, "list_price", "标准价必须是数字"),
        ({"list_price": "1e15"}, "list_price", "标准价过大"),
        ({"name": ""}, "name", "请填写产品名称"),
        ({"name": " \x00\x07 "}, "name", "请填写产品名称"),
        ({"name": "叉" * 101}, "name", "产品名称不能超过100个字符"),
        ({"unit": ""}, "unit", "请填写单位"),
        ({"category": "boat"}, "category", "产品类别无效"),
        ({"is_active": None}, "is_active", "启用状态只能是是或否"),
        ({"remark": "备" * 201}, "remark", "备注不能超过200个字符"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_saves_nothing(org, data, field, message):  # noqa: F811
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        make_product(org["admin"], **data)
    assert exc.value.errors[field] == [message]
    assert _state() == before


def test_a_duplicate_name_and_spec_is_refused(org):  # noqa: F811
    first = make_product(org["admin"], name="3吨柴油叉车", spec="CPCD30")
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        make_product(org["admin"], name=" 3吨柴油叉车 ", spec="cpcd30")
    assert exc.value.message == "已有同名同型号规格的产品"
    assert exc.value.errors == {"name": ["已有同名同型号规格的产品"]}
    assert _state() == before
    # the same name with another spec is another product; editing keeps its own name
    make_product(org["admin"], name="3吨柴油叉车", spec="CPCD30-Ⅱ")
    product_save(actor=org["admin"], instance=first, data={"remark": "改备注"})


def test_texts_lose_control_characters_and_extra_spaces(org):  # noqa: F811
    product = make_product(
        org["admin"], name="3吨\x00柴油\t 叉车\x1b", spec=" CPCD30\n", remark="第一行\n第二行\x07"
    )
    product.refresh_from_db()
    assert (product.name, product.spec, product.remark) == (
        "3吨柴油 叉车",
        "CPCD30",
        "第一行\n第二行",
    )


def test_category_by_its_chinese_label_and_money_kept_as_decimal(org):  # noqa: F811
    product = make_product(org["admin"], category="配件", list_price="1,350.5")
    product.refresh_from_db()
    assert (product.category, product.list_price) == ("parts", Decimal("1350.50"))


def test_a_save_writes_the_change_log(org):  # noqa: F811
    product = make_product(org["admin"])
    product_save(actor=org["admin"], instance=product, data={"list_price": "95000"})
    rows = ChangeLog.objects.filter(object_type="basics.product", object_id=product.pk)
    assert [r.action for r in rows.order_by("id")] == ["create", "update"]


@pytest.mark.parametrize("username", ["sales1", "manager1", "finance1", "service1"])
def test_only_admins_write_products(org, username):  # noqa: F811
    product = make_product(org["admin"])
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        make_product(org[username])
    assert exc.value.status == 403 and exc.value.message == "没有新增产品的权限"
    with pytest.raises(ApplicationError):
        product_save(actor=org[username], instance=product, data={"list_price": "1"})
    with pytest.raises(ApplicationError):
        product_delete(actor=org[username], instance=product)
    assert _state() == before


# --- delete guard ----------------------------------------------------------------------------


@pytest.fixture
def in_use_guard(monkeypatch):
    """A guard as a document type registers it (``register_delete_guard("basics.product")``):
    here the product counts as used when its remark says so."""

    def used_on_a_quote(product):
        return "该产品已用于报价单，不能删除" if product.remark == "已报价" else None

    guards = [*registry.delete_guards.get("basics.product", []), used_on_a_quote]
    monkeypatch.setitem(registry.delete_guards, "basics.product", guards)
    return used_on_a_quote


def test_delete_is_refused_while_a_guard_says_the_product_is_used(org, in_use_guard):  # noqa: F811
    used = make_product(org["admin"], remark="已报价")
    unused = make_product(org["admin"])
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        product_delete(actor=org["admin"], instance=used)
    assert exc.value.message == "该产品已用于报价单，不能删除，可以停用"
    assert _state() == before
    # the page and the API answer the same refusal; disabling still works
    client = Client()
    client.force_login(org["admin"])
    response = client.post(reverse("product_delete", args=[used.pk]))
    assert response.status_code == 400
    assert "该产品已用于报价单，不能删除，可以停用" in response.content.decode()
    api = Client(headers={"Authorization": f"Bearer {issue_token(org['admin'])}"})
    response = api.delete(f"/api/v1/products/{used.pk}")
    assert response.status_code == 400 and response.json()["code"] == "in_use"
    assert _state() == before
    product_save(actor=org["admin"], instance=used, data={"is_active": False})
    product_delete(actor=org["admin"], instance=unused)
    assert list(Product.objects.values_list("pk", "is_active")) == [(used.pk, False)]


# --- pages ------------------------------------------------------------------------------------


def _web(org, username) -> Client:  # noqa: F811
    client = Client()
    client.force_login(org[username])
    return client


def test_a_salesperson_reads_the_list_but_cannot_add(org):  # noqa: F811
    product = make_product(org["admin"], list_price="100000")
    client = _web(org, "sales1")
    page = client.get(reverse("product_list")).content.decode()
    assert product.name in page and "100,000.00" in page
    assert reverse("product_add") not in page
    assert reverse("product_edit", args=[product.pk]) not in page
    assert reverse("product_delete", args=[product.pk]) not in page
    assert 'href="/products/"' in page  # the sidebar's 产品
    before = _state()
    assert client.get(reverse("product_add")).status_code == 403
    response = client.post(reverse("product_add"), {"name": "偷加的产品", "unit": "台"})
    assert response.status_code == 403
    assert "没有新增产品的权限" in response.content.decode()
    assert _state() == before


def test_the_admin_list_has_the_columns_and_row_actions(org):  # noqa: F811
    product = make_product(org["admin"], list_price="1234567.8", brand="龙工", spec="LG30")
    page = _web(org, "admin").get(reverse("product_list")).content.decode()
    for header in ("产品名称", "类别", "品牌", "型号规格", "单位", "标准价", "启用", "操作"):
        assert re.search(rf">\s*{header}\s*<", page), header
    assert re.search(r'<td class="[^"]*text-end[^"]*"[^>]*>\s*1,234,567.80\s*</td>', page)
    assert reverse("product_edit", args=[product.pk]) in page
    assert reverse("product_add") in page


def test_the_list_filters(org):  # noqa: F811
    admin = org["admin"]
    truck = make_product(admin, name="3吨柴油叉车", spec="CPCD30", brand="杭叉")
    tyre = make_product(admin, name="实心轮胎", spec="28x9-15", brand="正新", category="parts")
    old = make_product(
        admin, name="二手叉车", spec="旧款", category="used_vehicle", is_active=False
    )
    client = _web(org, "sales1")

    def listed(**query) -> set[str]:
        page = client.get(reverse("product_list"), query).content.decode()
        return {p.name for p in (truck, tyre, old) if p.name in page}

    assert listed() == {truck.name, tyre.name, old.name}
    assert listed(q="杭叉 CPCD") == {truck.name}
    assert listed(q="28x9") == {tyre.name}
    assert listed(category="parts") == {tyre.name}
    assert listed(is_active="false") == {old.name}
    assert listed(is_active="true") == {truck.name, tyre.name}


def test_a_bad_price_in_the_form_is_shown_in_chinese(org):  # noqa: F811
    client = _web(org, "admin")
    before = _state()
    data = {"name": "3吨柴油叉车", "category": "vehicle", "unit": "台", "list_price": "-5"}
    response = client.post(reverse("product_add"), data)
    assert response.status_code == 400
    assert "标准价不能为负数" in response.content.decode()
    assert _state() == before


# --- the picker -------------------------------------------------------------------------------


def test_the_picker_offers_enabled_products_only(org):  # noqa: F811
    admin = org["admin"]
    enabled = make_product(admin, name="3吨柴油叉车", spec="CPCD30", list_price="100000")
    make_product(admin, name="3吨柴油叉车", spec="停产款", is_active=False)
    make_product(admin, name="货叉", spec="1220mm", category="parts", unit="副")
    response = _web(org, "sales1").get(reverse("product_picker"), {"q": "柴油 CPCD"})
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": enabled.pk,
                "text": "3吨柴油叉车 CPCD30",
                "name": "3吨柴油叉车",
                "spec": "CPCD30",
                "brand": "杭叉",
                "category": "vehicle",
                "category_label": "整车",
                "unit": "台",
                "list_price": "100000.00",
            }
        ],
        "count": 1,
    }
    everything = _web(org, "sales1").get(reverse("product_picker")).json()
    assert [item["text"] for item in everything["items"]] == ["3吨柴油叉车 CPCD30", "货叉 1220mm"]


def test_the_picker_needs_the_view_permission(org):  # noqa: F811
    make_product(org["admin"])
    assert _web(org, "service1").get(reverse("product_picker")).status_code == 403
    response = Client().get(reverse("product_picker"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_picker_field_renders_only_the_chosen_product(org):  # noqa: F811
    from django import forms

    from kehu.basics.forms import product_picker_field

    chosen = make_product(org["admin"], name="2吨电动叉车", spec="CPD20")
    make_product(org["admin"], name="货叉", spec="1220mm")

    class LineForm(forms.Form):
        product = product_picker_field()

    html = str(LineForm(initial={"product": chosen.pk})["product"])
    assert 'data-remote="/products/picker/"' in html and 'data-label-field="text"' in html
    assert "2吨电动叉车 CPD20" in html and "货叉" not in html
    disabled = make_product(org["admin"], is_active=False)
    form = LineForm(data={"product": disabled.pk})
    assert not form.is_valid() and form.errors["product"] == ["产品不存在或已停用"]


# --- the API ----------------------------------------------------------------------------------


def _api(org, username) -> Client:  # noqa: F811
    return Client(headers={"Authorization": f"Bearer {issue_token(org[username])}"})


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-1", "标准价不能为负数"),
        ("100.123", "标准价最多两位小数"),
        (100.123, "标准价最多两位小数"),
        ("abc", "标准价必须是数字"),
    ],
)
def test_api_refuses_a_bad_price_in_chinese(org, price, message):  # noqa: F811
    before = _state()
    response = _post(
        _api(org, "admin"), "/api/v1/products", {"name": "3吨叉车", "list_price": price}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"list_price": [message]}
    assert _state() == before


def test_api_money_is_text_and_filters_work(org):  # noqa: F811
    admin = org["admin"]
    make_product(admin, name="3吨柴油叉车", spec="CPCD30", list_price="100000")
    make_product(admin, name="货叉", spec="1220mm", category="parts", list_price="2600")
    make_product(admin, name="旧货叉", spec="1070mm", category="parts", is_active=False)
    client = _api(org, "sales1")
    body = client.get("/api/v1/products", {"category": "parts", "is_active": "true"}).json()
    assert body["count"] == 1
    assert (body["items"][0]["name"], body["items"][0]["list_price"]) == ("货叉", "2600.00")
    body = client.get("/api/v1/products", {"q": "CPCD30"}).json()
    assert [i["text"] for i in body["items"]] == ["3吨柴油叉车 CPCD30"]
    assert body["items"][0]["list_price"] == "100000.00"
    response = client.get("/api/v1/products", {"category": "boat"})
    assert response.status_code == 400 and "category" in response.json()["errors"]


def test_api_duplicate_and_patch(org):  # noqa: F811
    client = _api(org, "admin")
    first = _post(client, "/api/v1/products", {"name": "货叉", "spec": "1220mm", "unit": "副"})
    assert first.status_code == 201 and first.json()["list_price"] == "0.00"
    again = _post(client, "/api/v1/products", {"name": "货叉", "spec": "1220mm"})
    assert again.status_code == 400 and again.json()["detail"] == "已有同名同型号规格的产品"
    pk = first.json()["id"]
    response = client.patch(
        f"/api/v1/products/{pk}",
        json.dumps({"list_price": 2600, "is_active": False}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["list_price"], response.json()["is_active"]) == ("2600.00", False)
    assert response.json()["unit"] == "副"  # the fields not sent stay as they were


def test_api_salesperson_reads_but_cannot_write(org):  # noqa: F811
    product = make_product(org["admin"])
    client = _api(org, "sales1")
    assert client.get(f"/api/v1/products/{product.pk}").status_code == 200
    before = _state()
    response = _post(client, "/api/v1/products", {"name": "偷加的产品"})
    assert response.status_code == 403 and response.json()["detail"] == "没有新增产品的权限"
    assert _state() == before


# --- shared pieces ----------------------------------------------------------------------------


def test_clean_money_is_one_function():
    from kehu.core.money import clean_money
    from kehu.sales import services

    assert services.clean_money is clean_money


def test_demo_products_are_seeded_once(org):  # noqa: F811
    from kehu.basics import demo

    demo.seed(org)
    demo.seed(org)
    assert Product.objects.count() == len(demo.PRODUCTS) >= 12
    truck = Product.objects.get(name="3吨柴油叉车", spec="CPCD30")
    assert (truck.brand, truck.list_price, truck.category) == (
        "杭叉",
        Decimal("100000.00"),
        "vehicle",
    )
