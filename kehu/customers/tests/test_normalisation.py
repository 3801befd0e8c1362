"""Issue 14 point 14 (and point 11 for the form and the API): phones, credit codes and amounts
typed with 全角 characters (a Chinese IME), spaces, dashes or +86/0086 are stored and searched in
their canonical form wherever they enter — form, API, import, search, 查重; 省/市/区 and the
coordinates come from 详细地址 when the pickers are left empty."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.basics.models import Region
from kehu.basics.regions import load_regions
from kehu.core.errors import FieldError
from kehu.core.money import clean_money
from kehu.customers.models import Customer
from kehu.customers.validation import (
    USCC_CHARSET,
    clean_credit_code,
    clean_phone,
    normalize_phone,
    uscc_check_digit,
)

CODE = "91350100M000100Y43"
FULL_CODE = "９１３５ ０１００－Ｍ０００ １００Ｙ ４３"
FULL_MOBILE = "＋８６ １３９－１２３４－５６７８"
MOBILE = "13912345678"

FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789+-()ABCDEFGHJKLMNPQRTUWXY"}


def fullwidth(text: str) -> str:
    return text.translate(FULLWIDTH)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("１３９１２３４５６７８", MOBILE),
        (FULL_MOBILE, MOBILE),
        ("0086 139 1234 5678", MOBILE),
        ("+86-139-1234-5678", MOBILE),
        ("139—1234—5678", MOBILE),  # the dash a Chinese IME types
        ("８６１３９１２３４５６７８", MOBILE),
        ("（０５９２）５５５１２３４", "0592-5551234"),
        ("０５９２－５５５１２３４转８０２", "0592-5551234-802"),
        ("+86 592 5551234", "0592-5551234"),
        ("\u3000０１０－１２３４５６７８\u3000", "010-12345678"),  # ideographic spaces
    ],
)
def test_phones_typed_any_way_are_stored_canonical(raw, stored):
    assert clean_phone(raw) == stored


@pytest.mark.parametrize("raw", ["１２３", "＋８６ １２３４", "１３９１２３４５６７８９"])
def test_bad_fullwidth_phones_are_still_refused_in_chinese(raw):
    with pytest.raises(FieldError, match="联系电话"):
        clean_phone(raw)


mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z", fullmatch=True)


@given(
    number=mobiles,
    prefix=st.sampled_from(["", "+86", "0086", "86", "+86 ", "＋８６", "０086-"]),
    separator=st.sampled_from(["", " ", "-", "－", "—", "\u3000"]),
    wide=st.booleans(),
)
def test_any_spelling_of_a_mobile_normalises_to_its_11_digits(number, prefix, separator, wide):
    typed = prefix + separator.join([number[:3], number[3:7], number[7:]])
    if wide:
        typed = fullwidth(typed)
    assert normalize_phone(typed) == number
    assert clean_phone(typed) == number


def test_credit_codes_typed_any_way_are_stored_canonical():
    assert clean_credit_code(FULL_CODE) == CODE
    assert clean_credit_code("91350100-m000100y43") == CODE
    with pytest.raises(FieldError, match="校验位"):
        clean_credit_code(fullwidth("91350100M000100Y44"))


@given(
    region=st.from_regex(r"\A[0-9]{6}\Z", fullmatch=True),
    body=st.text(USCC_CHARSET, min_size=9, max_size=9),
)
def test_any_valid_code_in_fullwidth_with_spaces_is_the_same_code(region, body):
    first17 = "91" + region + body
    code = first17 + uscc_check_digit(first17)
    typed = " ".join([fullwidth(code[:6]), code[6:12].lower(), fullwidth(code[12:])])
    assert clean_credit_code(typed) == code


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("１２３４５．６７", "12345.67"),
        ("１２，３４５．００", "12345.00"),
        ("￥1,200元", "1200.00"),
        (" 3 000 ", "3000.00"),
        ("RMB 99.5", "99.50"),
    ],
)
def test_amounts_typed_any_way(raw, amount):
    assert clean_money(raw, "合同金额") == Decimal(amount)


@pytest.mark.parametrize(("raw", "message"), [("１２ａｂ", "必须是数字"), ("－５", "不能为负数")])
def test_bad_amounts_are_refused_in_chinese(raw, message):
    with pytest.raises(FieldError, match=f"合同金额{message}"):
        clean_money(raw, "合同金额")


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


# --- where they enter -------------------------------------------------------------------------


def test_api_and_form_store_the_canonical_phone_and_code(client_for):
    client = client_for("sales1")
    response = post_json(
        client,
        "/api/v1/customers",
        {
            "name": "全角输入有限公司",
            "contact_name": "张三",
            "contact_phone": FULL_MOBILE,
            "credit_code": FULL_CODE,
        },
    )
    assert response.status_code == 201, response.content
    assert (response.json()["contact_phone"], response.json()["credit_code"]) == (MOBILE, CODE)
    response = client.post(
        "/customers/add/",
        {
            "name": "表单全角有限公司",
            "contact_name": "李四",
            "contact_phone": "（０５９２）５５５１２３４",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204, response.content.decode()
    customer = Customer.objects.get(name="表单全角有限公司")
    assert customer.contact_phone == "0592-5551234"
    assert customer.contacts.get().phone == "0592-5551234"


def test_bad_fullwidth_input_changes_nothing(client_for):
    client = client_for("sales1")
    response = post_json(
        client,
        "/api/v1/customers",
        {"name": "坏号码有限公司", "contact_name": "张三", "contact_phone": "１２３"},
    )
    assert response.status_code == 400
    assert "联系电话格式不正确" in response.json()["errors"]["contact_phone"][0]
    assert not Customer.objects.exists()


def test_search_finds_by_phone_and_code_typed_any_way(make_customer, client_for):
    make_customer("sales1", name="被搜索的有限公司", contact_phone=MOBILE, credit_code=CODE)
    make_customer("sales1", name="另一家有限公司")
    client = client_for("sales1")
    for params in (
        {"phone": FULL_MOBILE},
        {"phone": "１３９１２３４"},
        {"q": "+86 139 1234 5678"},
        {"credit_code": FULL_CODE},
    ):
        names = [c["name"] for c in client.get("/api/v1/customers", params).json()["items"]]
        assert names == ["被搜索的有限公司"], params
        page = client.get("/customers/", params).content.decode()
        assert "被搜索的有限公司" in page and "另一家有限公司" not in page, params


def test_duplicate_check_normalises_its_input(make_customer, client_for):
    make_customer("sales2", name="查重目标有限公司", contact_phone=MOBILE, credit_code=CODE)
    client = client_for("sales1")
    for payload in ({"phone": FULL_MOBILE}, {"credit_code": FULL_CODE}):
        response = post_json(client, "/api/v1/customers/duplicate-check", payload)
        assert response.status_code == 200, response.content
        assert [m["name"] for m in response.json()["matches"]] == ["查重目标有限公司"], payload
    page = client.get("/customers/duplicate-check/", {"phone": "０086 139 1234 5678"})
    assert "查重目标有限公司" in page.content.decode()


# --- 11. 省/市/区 from 详细地址 in the form and the API ---------------------------------------


@pytest.fixture
def regions(db):
    if not Region.objects.exists():
        load_regions()


def test_api_and_form_derive_regions_and_coordinates_from_the_address(regions, client_for):
    client = client_for("sales1")
    response = post_json(
        client,
        "/api/v1/customers",
        {
            "name": "地址推导有限公司",
            "contact_name": "张三",
            "contact_phone": "13900000001",
            "address": "福建省厦门市思明区莲前西路2号",
            "province": None,
            "city": "",
        },
    )
    assert response.status_code == 201, response.content
    siming = Region.objects.get(name="思明区")
    body = response.json()
    assert (body["province"], body["city"], body["district"]) == ("350000", "350200", "350203")
    assert Decimal(str(body["longitude"])) == siming.longitude
    response = client.post(
        "/customers/add/",
        {
            "name": "表单地址有限公司",
            "contact_name": "李四",
            "contact_phone": "13900000002",
            "address": "厦门湖里区金山路9号",
            "province": "",
            "city": "",
            "district": "",
            "longitude": "",
            "latitude": "",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204, response.content.decode()
    huli = Customer.objects.get(name="表单地址有限公司")
    assert (huli.province.name, huli.city.name, huli.district.name) == (
        "福建省",
        "厦门市",
        "湖里区",
    )
    assert (huli.longitude, huli.latitude) == (huli.district.longitude, huli.district.latitude)


def test_chosen_regions_and_an_unknown_address_are_kept(regions, client_for):
    client = client_for("sales1")
    response = post_json(
        client,
        "/api/v1/customers",
        {
            "name": "选定省份有限公司",
            "contact_name": "张三",
            "contact_phone": "13900000003",
            "address": "北京市朝阳区建国路",
            "province": "350000",
        },
    )
    assert response.status_code == 201 and response.json()["province"] == "350000"
    assert response.json()["city"] is None
    response = post_json(
        client,
        "/api/v1/customers",
        {
            "name": "无法识别有限公司",
            "contact_name": "张三",
            "contact_phone": "13900000004",
            "address": "工业园三期7号楼",
        },
    )
    assert response.status_code == 201
    assert (response.json()["province"], response.json()["longitude"]) == (None, None)
