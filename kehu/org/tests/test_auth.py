"""Logging in: the Chinese login page, API tokens, and the login throttle (SPEC §10, §12.2)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from kehu.audit.models import Action, ChangeLog
from kehu.org.auth import issue_token
from kehu.org.demo import DEMO_PASSWORD, DEMO_USERS
from kehu.org.models import ApiToken

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token"


def post_json(client: Client, url: str, data) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json")


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def get_token(client: Client, username: str, password: str = DEMO_PASSWORD):
    return post_json(client, TOKEN, {"username": username, "password": password})


# --- the login page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_in_chinese():
    response = Client().get(LOGIN)
    assert response.status_code == 200
    content = response.content.decode()
    assert "登录" in content
    assert "用户名" in content
    assert "密码" in content
    assert 'name="csrfmiddlewaretoken"' in content


def test_wrong_password_shows_chinese_error_and_logs_nobody_in(org):
    client = Client()
    response = client.post(LOGIN, {"username": "sales1", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert not logged_in(client)


def test_unknown_user_gets_the_same_error(org):
    client = Client()
    response = client.post(LOGIN, {"username": "nobody", "password": DEMO_PASSWORD})
    assert "用户名或密码错误" in response.content.decode()
    assert not logged_in(client)


def test_correct_login_redirects_to_the_dashboard(org):
    client = Client()
    response = client.post(LOGIN, {"username": "sales1", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == org["sales1"].pk
    assert client.get("/").status_code == 200


def test_login_honours_next(org):
    client = Client()
    response = client.post(
        LOGIN, {"username": "sales1", "password": DEMO_PASSWORD, "next": "/settings/"}
    )
    assert response["Location"] == "/settings/"


def test_login_refuses_to_redirect_off_site(org):
    client = Client()
    response = client.post(
        LOGIN, {"username": "sales1", "password": DEMO_PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_inactive_user_cannot_log_in(org):
    user = org["sales2"]
    user.is_active = False
    user.save()
    client = Client()
    response = client.post(LOGIN, {"username": "sales2", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert not logged_in(client)


def test_anonymous_visitor_is_sent_to_login(org):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=/")


def test_logout_ends_the_session(client_for):
    client = client_for("sales1")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not logged_in(client)
    assert client.get("/").status_code == 302


def test_login_post_without_csrf_token_is_refused(org):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "sales1", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert not logged_in(client)


def test_login_post_with_csrf_token_from_the_page_works(org):
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        LOGIN, {"username": "sales1", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.parametrize("username", list(DEMO_USERS))
def test_every_demo_account_logs_in_and_gets_a_token(org, username):
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, username
    assert int(client.session["_auth_user_id"]) == org[username].pk

    response = get_token(Client(), username)
    assert response.status_code == 200
    token = response.json()["token"]
    me = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == username


def test_a_token_sign_in_opens_no_session(org):
    """An API client signs in for a token: no session row is written and no session cookie set
    (a client never sends it back; they piled up), while the web login still gets its list
    column choices in its session."""
    from django.contrib.sessions.models import Session

    from kehu.core.models import ListColumns

    ListColumns.objects.create(user=org["sales1"], table="customers.customertable", hidden=["tags"])
    before = Session.objects.count()
    client = Client()
    response = get_token(client, "sales1")
    assert response.status_code == 200
    assert Session.objects.count() == before
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    web = Client()
    web.post(LOGIN, {"username": "sales1", "password": DEMO_PASSWORD})
    assert web.session["kehu_list_columns"]["tables"] == {"customers.customertable": ["tags"]}


# --- API tokens and /me -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "scope"),
    [
        ("sales1", "self"),
        ("manager1", "dept_and_below"),
        ("admin", "all"),
        ("finance1", "all"),
        ("service1", "self"),
    ],
)
def test_me_with_bearer_token_reports_the_data_scope(api_client, username, scope):
    response = api_client(username).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["data_scope"] == scope


def test_me_describes_the_user(api_client, org):
    body = api_client("sales1").get("/api/v1/me").json()
    assert body["id"] == org["sales1"].pk
    assert body["username"] == "sales1"
    assert body["name"] == "李业务"
    assert body["department"] == {"id": org["sales1"].department_id, "name": "销售一部"}
    assert [r["code"] for r in body["roles"]] == ["salesperson"]
    assert body["is_admin"] is False
    assert "customers.view_customer" in body["permissions"]
    assert "org.view_user" not in body["permissions"]


def test_me_of_admin(api_client):
    body = api_client("admin").get("/api/v1/me").json()
    assert body["is_admin"] is True
    assert body["department"]["name"] == "总经办"


def test_me_works_with_the_web_session(client_for):
    response = client_for("manager1").get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["data_scope"] == "dept_and_below"


def test_token_endpoint_with_wrong_password_is_401_json(org):
    response = get_token(Client(), "sales1", "wrong-password")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"] == "用户名或密码错误"
    assert "token" not in response.json()


def test_token_endpoint_refuses_inactive_user(org):
    org["sales3"].is_active = False
    org["sales3"].save()
    response = get_token(Client(), "sales3")
    assert response.status_code == 401
    assert "token" not in response.json()


def test_bad_token_is_401_json(org):
    response = Client(headers={"Authorization": "Bearer not-a-real-token"}).get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_no_credentials_is_401_json(org):
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Basic c2FsZXMxOmRlbW8xMjM0"])
def test_malformed_authorization_header_is_401(org, header):
    response = Client(headers={"Authorization": header}).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_token_of_a_deactivated_user_stops_working(org):
    token = get_token(Client(), "sales2").json()["token"]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/me").status_code == 200
    org["sales2"].is_active = False
    org["sales2"].save()
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_session_of_a_deactivated_user_stops_working_on_the_api(client_for, org):
    client = client_for("sales2")
    org["sales2"].is_active = False
    org["sales2"].save()
    assert client.get("/api/v1/me").status_code == 401


def test_tokens_are_stored_hashed(org):
    token = get_token(Client(), "sales1").json()["token"]
    assert len(token) >= 32
    row = ApiToken.objects.get(user=org["sales1"])
    stored = [str(v) for v in ApiToken.objects.values_list("key_hash", "prefix", "user_id").get()]
    assert token not in stored
    assert row.key_hash == ApiToken.hash(token)
    assert row.key_hash != token


def test_each_token_request_issues_a_distinct_working_token(org):
    first = get_token(Client(), "sales1").json()["token"]
    second = get_token(Client(), "sales1").json()["token"]
    assert first != second
    for token in (first, second):
        client = Client(headers={"Authorization": f"Bearer {token}"})
        assert client.get("/api/v1/me").json()["username"] == "sales1"


def test_getting_a_token_is_a_sign_in(org):
    assert org["sales1"].last_login is None
    get_token(Client(), "sales1")
    org["sales1"].refresh_from_db()
    assert org["sales1"].last_login is not None


def test_token_records_its_last_use(org):
    raw = issue_token(org["sales1"])
    assert ApiToken.objects.get().last_used_at is None
    Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me")
    assert ApiToken.objects.get().last_used_at is not None


# --- login throttling (django-axes) and the change log ----------------------------------------


def fail(client: Client, username: str, times: int, *, via: str):
    for _ in range(times):
        if via == "api":
            get_token(client, username, "wrong-password")
        else:
            client.post(LOGIN, {"username": username, "password": "wrong-password"})


def test_failure_limit_is_five():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_ENABLED is not False


def test_token_endpoint_locks_after_too_many_failures_even_with_the_right_password(org):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert get_token(client, "sales1", "wrong-password").status_code == 401
    get_token(client, "sales1", "wrong-password")
    response = get_token(client, "sales1")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "锁定" in body["detail"]
    assert "token" not in body
    assert not ApiToken.objects.filter(user=org["sales1"]).exists()


def test_login_form_locks_after_too_many_failures_even_with_the_right_password(org):
    client = Client()
    fail(client, "sales1", settings.AXES_FAILURE_LIMIT, via="web")
    response = client.post(LOGIN, {"username": "sales1", "password": DEMO_PASSWORD})
    assert response.status_code == 429
    content = response.content.decode()
    assert "登录失败次数过多" in content
    assert "锁定" in content
    assert not logged_in(client)


def test_lockout_of_one_account_does_not_block_a_colleague(org):
    client = Client()
    fail(client, "sales1", settings.AXES_FAILURE_LIMIT, via="api")
    assert get_token(client, "sales1").status_code == 429
    assert get_token(client, "sales2").status_code == 200
    response = Client().post(LOGIN, {"username": "sales2", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_web_and_api_failures_count_together(org):
    client = Client()
    fail(client, "sales1", 3, via="web")
    fail(client, "sales1", 2, via="api")
    assert get_token(client, "sales1").status_code == 429


def test_a_successful_login_resets_the_failure_count(org):
    client = Client()
    fail(client, "sales1", settings.AXES_FAILURE_LIMIT - 1, via="api")
    assert get_token(client, "sales1").status_code == 200
    fail(client, "sales1", settings.AXES_FAILURE_LIMIT - 1, via="api")
    assert get_token(client, "sales1").status_code == 200


def test_failed_login_writes_the_change_log(org):
    Client().post(LOGIN, {"username": "sales1", "password": "wrong-password"})
    get_token(Client(), "manager1", "wrong-password")
    rows = ChangeLog.objects.filter(action=Action.LOGIN_FAILED).order_by("id")
    assert [r.object_repr for r in rows] == ["sales1", "manager1"]
    first = rows[0]
    assert first.actor is None
    assert first.object_type == "org.user"
    assert "sales1" in first.message
    # the password tried is never logged
    assert "wrong-password" not in json.dumps(
        [first.message, first.changes, first.snapshot, first.object_repr]
    )


def test_successful_login_writes_no_failure(org):
    Client().post(LOGIN, {"username": "sales1", "password": DEMO_PASSWORD})
    get_token(Client(), "sales1")
    assert not ChangeLog.objects.filter(action=Action.LOGIN_FAILED).exists()
