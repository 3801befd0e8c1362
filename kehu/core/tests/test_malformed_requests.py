"""Issue 10, point 5: no malformed request answers 5xx (web pages and the API).

Each case failed before (a 500, or Django's English "Bad Request (400)" page): a lone surrogate
in a JSON body, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, multipart without a boundary, page
numbers no database takes, ``per_page=-1`` on web lists, huge integer filters. The clients here
never re-raise a server error (``raise_request_exception=False``): a 500 is an answer to assert
on, like the real server's.
"""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.test import Client

from kehu.customers.models import Customer
from kehu.org.auth import issue_token

CHINESE = re.compile(r"[\u4e00-\u9fff]")
HUGE = ["9223372036854775808", str(10**30), "99999999999999999999"]
WEB_LISTS = ["/customers/", "/contracts/", "/pool/"]
TOO_BIG = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1


@pytest.fixture
def api(org):
    def make(username: str = "sales1") -> Client:
        token = issue_token(org[username])
        return Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def web(org):
    def make(username: str = "sales1") -> Client:
        client = Client(raise_request_exception=False)
        client.force_login(org[username])
        return client

    return make


@pytest.fixture
def customer(org):
    from kehu.customers.services import customer_create

    return customer_create(
        actor=org["sales1"],
        data={
            "name": "畸形请求测试有限公司",
            "contact_name": "王五",
            "contact_phone": "13912345678",
        },
        confirm_duplicates=True,
    )


def api_error(response, status: int | tuple[int, ...]) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert CHINESE.search(body["detail"]), body
    return body


def web_error(response, status: int | tuple[int, ...]) -> str:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    text = response.content.decode()
    assert "Bad Request" not in text
    assert CHINESE.search(text)
    return text


# --- a lone surrogate in a JSON body -----------------------------------------------------------

LONE_SURROGATE = (
    b'{"name": "\\ud800\\u516c\\u53f8", "contact_name": "\\udfff", "contact_phone": "13800001111"}'
)


@pytest.mark.django_db
def test_a_lone_surrogate_in_json_is_400_in_chinese(api):
    body = api_error(
        api().generic("POST", "/api/v1/customers", LONE_SURROGATE, "application/json"), 400
    )
    assert body["code"] == "invalid_text"
    assert not Customer.objects.filter(contact_phone="13800001111").exists()


@pytest.mark.django_db
def test_a_lone_surrogate_nested_in_a_list_or_key_is_refused_too(api):
    for raw in (b'{"ids": [1], "\\ud83d": 1}', b'{"user_ids": ["\\udc00"], "ids": [1]}'):
        api_error(api().generic("POST", "/api/v1/customers/transfer", raw, "application/json"), 400)


@pytest.mark.django_db
def test_a_surrogate_pair_is_an_ordinary_character(api):
    raw = (
        b'{"name": "\\u6d4b\\u8bd5\\ud83d\\ude00\\u516c\\u53f8", "contact_name": "\\u5f20\\u4e09",'
        b' "contact_phone": "13800002222"}'
    )
    response = api().generic("POST", "/api/v1/customers", raw, "application/json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "测试\U0001f600公司"


# --- a body over DATA_UPLOAD_MAX_MEMORY_SIZE (25 MB) --------------------------------------------


@pytest.mark.django_db
def test_an_api_body_over_the_limit_is_413_in_chinese(api):
    body = api_error(
        api().generic("POST", "/api/v1/customers", b"{" + b" " * TOO_BIG, "application/json"),
        413,
    )
    assert body["code"] == "too_large"
    assert "25MB" in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/customers/add/", "/customers/bulk-delete/", "/pool/claim/"])
def test_a_web_form_over_the_limit_is_413_in_chinese(web, url):
    big = b"name=" + b"x" * TOO_BIG
    text = web_error(web().generic("POST", url, big, "application/x-www-form-urlencoded"), 413)
    assert "25MB" in text


@pytest.mark.django_db
def test_a_multipart_form_field_over_the_limit_is_413_in_chinese(web):
    boundary = "kehuBoundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="remark"\r\n\r\n'.encode()
        + b"x" * TOO_BIG
        + f"\r\n--{boundary}--\r\n".encode()
    )
    web_error(
        web().generic("POST", "/customers/add/", body, f"multipart/form-data; boundary={boundary}"),
        413,
    )


@pytest.mark.django_db
def test_an_htmx_request_over_the_limit_gets_the_error_modal(web):
    response = web().generic(
        "POST",
        "/customers/add/",
        b"name=" + b"x" * TOO_BIG,
        "application/x-www-form-urlencoded",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 413
    assert 'data-testid="form-error"' in response.content.decode()


# --- multipart without a boundary, and other unreadable bodies ----------------------------------


@pytest.mark.django_db
def test_multipart_without_a_boundary_is_400_on_the_api(api, customer):
    for url in ("/api/v1/customers", f"/api/v1/customers/{customer.pk}/attachments"):
        body = api_error(api().generic("POST", url, b"--x\r\n", "multipart/form-data"), 400)
        assert body["code"] == "invalid_multipart"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary="a b "',
    ],
)
def test_multipart_without_a_valid_boundary_is_400_on_web_pages(web, content_type):
    text = web_error(web().generic("POST", "/customers/add/", b"--x\r\n", content_type), 400)
    assert "multipart" in text


@pytest.mark.django_db
def test_a_form_in_another_charset_is_400_in_chinese(web):
    web_error(
        web().generic(
            "POST",
            "/customers/add/",
            b"name=a",
            "application/x-www-form-urlencoded; charset=latin-1",
        ),
        400,
    )


@pytest.mark.django_db
def test_too_many_form_fields_is_400_in_chinese(web):
    fields = "&".join(f"pk={i}" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    text = web_error(
        web().generic(
            "POST", "/customers/bulk-delete/", fields.encode(), "application/x-www-form-urlencoded"
        ),
        400,
    )
    assert "字段过多" in text


@pytest.mark.django_db
def test_an_invalid_content_length_is_400(web, api):
    web_error(
        web().generic(
            "POST",
            "/customers/add/",
            b"name=a",
            "application/x-www-form-urlencoded",
            CONTENT_LENGTH="abc",
        ),
        400,
    )
    api_error(
        api().generic("POST", "/api/v1/customers", b"{}", "application/json", CONTENT_LENGTH="-1"),
        400,
    )


# --- page numbers and sizes ----------------------------------------------------------------------

API_LISTS = ["/api/v1/customers", "/api/v1/followups", "/api/v1/contracts", "/api/v1/audit"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", API_LISTS)
@pytest.mark.parametrize("page", HUGE[:2])
def test_a_page_no_database_takes_is_400_on_api_lists(api, url, page):
    body = api_error(api("admin").get(url, {"page": page}), 400)
    assert "page" in body["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", WEB_LISTS)
@pytest.mark.parametrize(
    "query",
    [
        {"per_page": "-1"},
        {"per_page": "0"},
        {"per_page": "abc"},
        {"per_page": str(10**30)},
        {"per_page": "100000"},
        {"page": "-5"},
        {"page": "0"},
        {"page": "abc"},
        {"page": HUGE[0]},
        {"page": HUGE[1], "per_page": "100"},
    ],
)
def test_bad_page_and_size_on_web_lists_show_the_default_page(web, url, query):
    response = web().get(url, query)
    assert response.status_code == 200, response.content[:300]
    table = response.context["table"]
    assert table.paginator.per_page in settings.KEHU_PAGE_SIZES
    if "per_page" in query and query["per_page"] != "100":
        assert table.paginator.per_page == settings.KEHU_PAGE_SIZES[0]
    if query.get("page") in ("-5", "0", "abc", HUGE[1]):
        assert table.page.number == 1


@pytest.mark.django_db
def test_a_page_after_the_last_shows_the_last_page(web, customer):
    response = web().get("/customers/", {"page": "7"})
    assert response.status_code == 200
    assert response.context["table"].page.number == 1  # one page: the last is the first


# --- huge integer filters --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, params",
    [
        ("/api/v1/customers", {"owner": HUGE[2]}),
        ("/api/v1/customers", {"owner": "1e400"}),
        ("/api/v1/customers", {"creator": HUGE[0]}),
        ("/api/v1/contracts", {"customer_id": HUGE[2]}),
        ("/api/v1/followups", {"customer_id": HUGE[2]}),
        ("/api/v1/contacts", {"customer_id": HUGE[2]}),
        ("/api/v1/opportunities", {"customer_id": HUGE[2]}),
        ("/api/v1/pool/customers", {"owner": HUGE[2]}),
        ("/api/v1/audit", {"object_id": HUGE[2]}),
    ],
)
def test_huge_integer_filters_on_api_lists_are_400_or_empty(api, url, params):
    response = api("admin").get(url, params)
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        api_error(response, 400)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, params",
    [
        ("/customers/", {"owner": "1e400"}),
        ("/customers/", {"owner": HUGE[2]}),
        ("/customers/", {"creator": HUGE[0], "level": HUGE[2]}),
        ("/contracts/", {"customer_id": HUGE[2]}),
        ("/contracts/", {"customer_id": "-" + HUGE[2]}),
        ("/followups/", {"customer_id": HUGE[2]}),
        ("/pool/", {"owner": HUGE[2], "pool": HUGE[2]}),
    ],
)
def test_huge_integer_filters_on_web_lists_answer_an_empty_list(web, customer, url, params):
    response = web("admin").get(url, params)
    assert response.status_code == 200, response.content[:300]
    assert len(response.context["table"].page.object_list) == 0


# --- the malformed cases above, sent to web list pages as a salesperson -----------------------------

MALFORMED_QUERIES = [
    "per_page=-1",
    "per_page=abc",
    "per_page=0",
    "page=-5",
    "page=abc",
    f"page={HUGE[0]}",
    f"page={HUGE[1]}",
    "owner=1e400",
    f"owner={HUGE[2]}",
    f"customer_id={HUGE[2]}",
    f"customer={HUGE[2]}",
    f"pool={HUGE[2]}",
    "tab=%00",
    "sort=-nonexistent",
    "q=%ED%A0%80",
    "q=\x00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", WEB_LISTS)
def test_malformed_requests_to_web_lists_never_answer_5xx(web, customer, url):
    client = web("sales1")
    failures = []
    for query in MALFORMED_QUERIES:
        for headers in ({}, {"HX-Request": "true", "HX-Target": "object-list"}):
            response = client.get(f"{url}?{query}", headers=headers)
            if response.status_code >= 500:
                failures.append((query, headers, response.status_code))
    for body, content_type in (
        (b"--x\r\n", "multipart/form-data"),
        (b"pk=1&" + b"x" * TOO_BIG, "application/x-www-form-urlencoded"),
    ):
        response = client.generic("POST", url, body, content_type)
        if response.status_code >= 500:
            failures.append(("POST", content_type, response.status_code))
    assert not failures


@pytest.mark.django_db
def test_a_batch_of_huge_ids_on_web_pages_is_no_5xx(web):
    response = web().post("/customers/bulk-delete/", {"pk": [HUGE[0], HUGE[2], "1e400", "-1"]})
    assert response.status_code < 500
    assert "请先勾选" in response.content.decode()


@pytest.mark.django_db
def test_the_json_answer_of_the_middleware_is_the_api_error_shape(api):
    response = api().generic("POST", "/api/v1/customers", b"--x", "multipart/form-data")
    assert json.loads(response.content) == {
        "detail": response.json()["detail"],
        "errors": {},
        "code": "invalid_multipart",
    }
