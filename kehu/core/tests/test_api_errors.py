"""The API's error shape (SPEC §10) and its foundation routes: dictionaries, users, departments,
the OpenAPI schema and the interactive docs."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

TOKEN = "/api/v1/auth/token"
HAS_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    return bool(HAS_CHINESE.search(text))


def assert_error(response, status: int) -> dict:
    """Every error is JSON ``{"detail": <Chinese text>, "errors": {field: [messages]}}``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str)
    assert chinese(body["detail"]), body
    assert isinstance(body["errors"], dict)
    for field, messages in body["errors"].items():
        assert isinstance(messages, list) and messages, field
        for message in messages:
            assert chinese(message), (field, message)
    return body


def post_raw(client: Client, url: str, body: str, content_type="application/json"):
    return client.post(url, data=body, content_type=content_type)


# --- bad input is a 400 with Chinese messages, never a 500 ------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", ['{"username": "sales1", "pass', "{", "not json at all", '{"username": "a",}']
)
def test_malformed_json_body_is_400_with_chinese_detail(body):
    error = assert_error(post_raw(Client(), TOKEN, body), 400)
    assert "JSON" in error["detail"]


@pytest.mark.django_db
def test_form_encoded_body_on_a_json_endpoint_is_400():
    assert_error(
        post_raw(Client(), TOKEN, "username=a&password=b", "application/x-www-form-urlencoded"), 400
    )


@pytest.mark.django_db
def test_missing_fields_are_reported_per_field():
    error = assert_error(post_raw(Client(), TOKEN, "{}"), 400)
    assert set(error["errors"]) == {"username", "password"}
    assert error["errors"]["username"] == ["此字段为必填项"]


@pytest.mark.django_db
def test_one_missing_field_names_only_that_field():
    error = assert_error(post_raw(Client(), TOKEN, json.dumps({"username": "sales1"})), 400)
    assert set(error["errors"]) == {"password"}


@pytest.mark.django_db
def test_empty_and_wrongly_typed_fields_get_chinese_messages():
    error = assert_error(
        post_raw(Client(), TOKEN, json.dumps({"username": "", "password": 12})), 400
    )
    assert set(error["errors"]) == {"username", "password"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
def test_body_that_is_not_an_object_is_400(body):
    assert_error(post_raw(Client(), TOKEN, body), 400)


@pytest.mark.django_db
def test_over_long_field_is_400():
    error = assert_error(
        post_raw(Client(), TOKEN, json.dumps({"username": "x" * 500, "password": "p"})), 400
    )
    assert "username" in error["errors"]


def test_unauthenticated_api_error_has_the_same_shape(org):
    body = assert_error(Client().get("/api/v1/users"), 401)
    assert body["errors"] == {}


# --- dictionaries -----------------------------------------------------------------------------


def test_unknown_dictionary_kind_is_404_in_chinese(api_client):
    error = assert_error(api_client("sales1").get("/api/v1/dicts/nope"), 404)
    assert "字典" in error["detail"]


def test_levels_dictionary_lists_the_seeded_levels_in_order(api_client):
    response = api_client("sales1").get("/api/v1/dicts/levels")
    assert response.status_code == 200
    assert [e["name"] for e in response.json()] == ["A重点客户", "B普通客户", "C一般客户"]
    assert all({"id", "name", "sort", "is_active"} <= set(e) for e in response.json())


@pytest.mark.parametrize(
    ("kind", "some"),
    [
        ("sources", "展会"),
        ("industries", "物流仓储"),
        ("tags", "大客户"),
        ("followup-types", "上门拜访"),
        ("payment-methods", "承兑汇票"),
        ("stores", "门店A"),
    ],
)
def test_every_dictionary_kind_of_the_spec_answers(api_client, kind, some):
    response = api_client("sales1").get(f"/api/v1/dicts/{kind}")
    assert response.status_code == 200
    assert some in [e["name"] for e in response.json()]


def test_disabled_dictionary_entries_are_hidden_unless_asked(api_client):
    from kehu.basics.models import DictEntry

    DictEntry.objects.filter(kind="levels", name="C一般客户").update(is_active=False)
    client = api_client("sales1")
    names = [e["name"] for e in client.get("/api/v1/dicts/levels").json()]
    assert names == ["A重点客户", "B普通客户"]
    names = [e["name"] for e in client.get("/api/v1/dicts/levels?include_inactive=true").json()]
    assert "C一般客户" in names


def test_dictionaries_need_login(org):
    assert_error(Client().get("/api/v1/dicts/levels"), 401)


# --- users and departments for pickers --------------------------------------------------------


def test_users_lists_active_users_only_as_items_and_count(api_client, org):
    org["sales3"].is_active = False
    org["sales3"].save()
    response = api_client("sales1").get("/api/v1/users")
    assert response.status_code == 200
    body = response.json()
    # every list answers the same envelope (issue 15: exact count flag, keyset cursor)
    assert set(body) == {"items", "count", "count_exact", "next_cursor"}
    assert body["count_exact"] is True and body["next_cursor"] is None
    usernames = [u["username"] for u in body["items"]]
    assert "sales3" not in usernames
    assert set(usernames) == set(org) - {"sales3"}
    assert body["count"] == len(org) - 1
    sales1 = next(u for u in body["items"] if u["username"] == "sales1")
    assert sales1 == {
        "id": org["sales1"].pk,
        "username": "sales1",
        "name": "李业务",
        "department_id": org["sales1"].department_id,
        "department_name": "销售一部",
    }


def test_users_pagination(api_client, org):
    client = api_client("sales1")
    first = client.get("/api/v1/users?page=1&page_size=3").json()
    second = client.get("/api/v1/users?page=2&page_size=3").json()
    last = client.get("/api/v1/users?page=3&page_size=3").json()
    beyond = client.get("/api/v1/users?page=9&page_size=3").json()
    assert first["count"] == second["count"] == last["count"] == beyond["count"] == len(org)
    assert len(first["items"]) == 3 and len(second["items"]) == 3 and len(last["items"]) == 1
    ids = [u["id"] for page in (first, second, last) for u in page["items"]]
    assert len(set(ids)) == len(org)
    assert beyond["items"] == []


def test_users_filters_by_keyword_and_department(api_client, org):
    client = api_client("sales1")
    body = client.get("/api/v1/users", {"q": "业务"}).json()
    assert {u["username"] for u in body["items"]} == {"sales1", "sales2", "sales3"}
    body = client.get("/api/v1/users", {"department_id": org["sales1"].department_id}).json()
    assert {u["username"] for u in body["items"]} == {"sales1", "sales2"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=201", "page_size"),
        ("page_size=-5", "page_size"),
        ("page_size=abc", "page_size"),
        ("page=0", "page"),
        ("page=x", "page"),
    ],
)
def test_invalid_paging_is_400_naming_the_field(api_client, query, field):
    error = assert_error(api_client("sales1").get(f"/api/v1/users?{query}"), 400)
    assert field in error["errors"]


def test_departments_is_the_tree(api_client, org):
    response = api_client("sales1").get("/api/v1/departments")
    assert response.status_code == 200
    roots = response.json()
    assert [d["name"] for d in roots] == ["总经办", "销售部", "售后部", "财务部"]
    sales = next(d for d in roots if d["name"] == "销售部")
    assert sales["leader_id"] == org["manager1"].pk
    assert sales["parent_id"] is None
    assert [c["name"] for c in sales["children"]] == ["销售一部", "销售二部"]
    assert all(c["parent_id"] == sales["id"] for c in sales["children"])
    assert all(c["children"] == [] for c in sales["children"])


def test_departments_tree_goes_deeper_than_two_levels(api_client, org):
    from kehu.org.models import Department

    sales1 = Department.objects.get(name="销售一部")
    Department.objects.create(name="一组", parent=sales1)
    roots = api_client("sales1").get("/api/v1/departments").json()
    sales = next(d for d in roots if d["name"] == "销售部")
    first = next(c for c in sales["children"] if c["name"] == "销售一部")
    assert [g["name"] for g in first["children"]] == ["一组"]


# --- CSRF on session-authenticated writes -----------------------------------------------------


def test_session_write_without_csrf_token_is_403_json(org):
    schema = Client().get("/api/v1/openapi.json").json()
    posts = [
        path
        for path, operations in schema["paths"].items()
        if "post" in operations and "{" not in path and path != TOKEN
    ]
    if not posts:
        pytest.skip("no session-authenticated POST route without path parameters yet")
    client = Client(enforce_csrf_checks=True)
    client.force_login(org["sales1"])
    error = assert_error(client.post(posts[0], data="{}", content_type="application/json"), 403)
    assert "CSRF" in error["detail"]


# --- schema and docs --------------------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_schema_is_valid_json_with_the_foundation_paths():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    for path in (
        TOKEN,
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/departments",
        "/api/v1/dicts/{kind}",
        "/api/v1/audit",
    ):
        assert path in schema["paths"], path
    token_responses = schema["paths"][TOKEN]["post"]["responses"]
    assert {"200", "400", "401", "429"} <= set(token_responses)
    assert any(
        "bearer" in json.dumps(s).lower()
        for s in schema.get("components", {}).get("securitySchemes", {}).values()
    )


@pytest.mark.django_db
def test_interactive_docs_render():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.content.decode()


def test_unknown_api_route_answers_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["detail"] == "接口不存在"


def test_ui_is_chinese_even_for_an_english_browser(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"
    response = client.post(
        "/accounts/login/", {"username": "", "password": ""}, HTTP_ACCEPT_LANGUAGE="en-US"
    )
    assert "This field is required" not in response.content.decode()
