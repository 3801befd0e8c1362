"""API tokens with a lifecycle (issue 10 point 6, SPEC §13): they expire (KEHU_API_TOKEN_DAYS,
default 30), die on sign-out and on a password change, and can be listed and revoked by their
owner (我的令牌, GET/DELETE /api/v1/auth/tokens[/{id}]) and by an administrator
(撤销令牌 on the employees page, DELETE /api/v1/users/{id}/tokens)."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client, override_settings
from django.utils import timezone

from kehu.audit.models import ChangeLog
from kehu.org import services
from kehu.org.auth import issue_token
from kehu.org.demo import DEMO_PASSWORD
from kehu.org.models import ApiToken

TOKEN = "/api/v1/auth/token"
TOKENS = "/api/v1/auth/tokens"
ME = "/api/v1/me"
PAGE = "/accounts/tokens/"
PASSWORD_PAGE = "/accounts/password/"
NEW_PASSWORD = "Neues-Passwort-2026"


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def works(raw: str) -> bool:
    return bearer(raw).get(ME).status_code == 200


def obtain(username: str, **extra) -> dict:
    response = Client(**extra).post(
        TOKEN,
        data=json.dumps({"username": username, "password": DEMO_PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def log_text() -> str:
    rows = ChangeLog._base_manager.values_list(
        "object_repr", "message", "changes", "snapshot", named=False
    )
    return json.dumps(list(rows), ensure_ascii=False, default=str)


# --- lifetime ------------------------------------------------------------------------------------


def test_the_default_lifetime_is_30_days_from_the_environment():
    assert int(os.environ.get("KEHU_API_TOKEN_DAYS", 30)) == settings.KEHU_API_TOKEN_DAYS
    if "KEHU_API_TOKEN_DAYS" not in os.environ:
        assert settings.KEHU_API_TOKEN_DAYS == 30


def test_a_token_expires_after_the_configured_days(org):
    before = timezone.now()
    body = obtain("sales1")
    row = ApiToken.objects.get(pk=body["id"])
    lifetime = timedelta(days=settings.KEHU_API_TOKEN_DAYS)
    assert before + lifetime <= row.expires_at <= timezone.now() + lifetime
    assert body["expires_at"].startswith(str(row.expires_at.year))
    with override_settings(KEHU_API_TOKEN_DAYS=7):
        row = ApiToken.objects.get(pk=obtain("sales1")["id"])
    assert row.expires_at - row.created_at == pytest.approx(timedelta(days=7), abs=timedelta(1))
    assert row.expires_at < timezone.now() + timedelta(days=8)


def test_an_expired_token_answers_401_in_chinese(org):
    raw = issue_token(org["sales1"])
    assert works(raw)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(raw).get(ME)
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌已过期，请重新获取"
    assert response.json()["code"] == "token_expired"


def test_an_expired_token_is_refused_even_with_a_session(org):
    raw = issue_token(org["sales1"])
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client = bearer(raw)
    client.force_login(org["sales1"])
    assert client.get(ME).status_code == 401


def test_an_unknown_or_revoked_token_answers_401_token_invalid(org):
    raw = issue_token(org["sales1"])
    ApiToken.objects.all().delete()
    for token in (raw, "not-a-real-token"):
        response = bearer(token).get(ME)
        assert response.status_code == 401
        assert response.json()["detail"] == "令牌无效"


def test_a_new_token_clears_the_users_expired_ones(org):
    old = issue_token(org["sales1"])
    other = issue_token(org["sales2"])
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(days=1))
    issue_token(org["sales1"])
    assert not ApiToken.objects.filter(key_hash=ApiToken.hash(old)).exists()
    assert ApiToken.objects.filter(key_hash=ApiToken.hash(other)).exists()  # not sales1's


def test_last_use_is_written_at_most_once_a_minute(org):
    raw = issue_token(org["sales1"])
    client = bearer(raw)
    client.get(ME)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    client.get(ME)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get(ME)
    assert ApiToken.objects.get().last_used_at > first - timedelta(minutes=1)


def test_a_token_is_named_after_the_client_or_the_name_given(org):
    assert obtain("sales1", headers={"User-Agent": "curl/8.5\x07"})["name"] == "curl/8.5"
    assert services.token_name("", "a\x00b\tc " + "x" * 200) == ("a b c " + "x" * 200)[:100]
    assert obtain("sales1")["name"] == "API"
    response = Client().post(
        TOKEN,
        data=json.dumps({"username": "sales1", "password": DEMO_PASSWORD, "name": "报表脚本"}),
        content_type="application/json",
    )
    assert response.json()["name"] == "报表脚本"
    assert len(response.json()["token"]) >= 32


# --- sign-out ------------------------------------------------------------------------------------


def test_web_logout_revokes_all_of_the_users_tokens(client_for, org):
    mine = [issue_token(org["sales1"]), issue_token(org["sales1"])]
    theirs = issue_token(org["sales2"])
    client = client_for("sales1")
    assert client.post("/accounts/logout/").status_code == 302
    assert not any(works(raw) for raw in mine)
    assert bearer(mine[0]).get(ME).json()["detail"] == "令牌无效"
    assert works(theirs)
    assert "退出登录：撤销李业务的全部 API 令牌（2个）" in log_text()


def test_api_logout_revokes_the_token_of_the_request_only(org):
    used, other = issue_token(org["sales1"]), issue_token(org["sales1"])
    response = bearer(used).post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert not works(used)
    assert works(other)


def test_api_logout_with_the_session_ends_it_and_revokes_the_tokens(client_for, org):
    raw = issue_token(org["sales1"])
    client = client_for("sales1")
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get(ME).status_code == 401
    assert not works(raw)


# --- password change -----------------------------------------------------------------------------


def test_the_password_change_page_revokes_every_token(client_for, org):
    mine = [issue_token(org["sales1"]), issue_token(org["sales1"])]
    theirs = issue_token(org["sales2"])
    client = client_for("sales1")
    page = client.get(PASSWORD_PAGE)
    assert page.status_code == 200
    assert "原密码" in page.content.decode() and "确认新密码" in page.content.decode()
    response = client.post(
        PASSWORD_PAGE,
        {
            "old_password": DEMO_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert not any(works(raw) for raw in mine)
    assert works(theirs)
    assert client.get(PAGE).status_code == 200  # still signed in on the web
    org["sales1"].refresh_from_db()
    assert org["sales1"].check_password(NEW_PASSWORD)
    assert "修改密码：撤销李业务的全部 API 令牌（2个）" in log_text()


def test_a_wrong_old_password_changes_nothing(client_for, org):
    raw = issue_token(org["sales1"])
    response = client_for("sales1").post(
        PASSWORD_PAGE,
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "原密码不正确" in response.content.decode()
    assert works(raw)


def test_set_password_and_save_revokes_every_token(org):
    user = org["sales1"]
    raw = issue_token(user)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert not works(raw)
    raw = issue_token(user)
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    assert not works(raw)


def test_saving_the_user_without_a_new_password_keeps_the_tokens(org):
    user = org["sales1"]
    raw = issue_token(user)
    user.name = "李业务改"
    user.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    assert works(raw)


class FastPBKDF2(PBKDF2PasswordHasher):
    iterations = 1_000


def test_a_hash_upgrade_at_sign_in_is_not_a_password_change(org):
    raw = issue_token(org["sales1"])  # the stored hash is MD5 (the test hasher)
    hashers = ["kehu.org.tests.test_tokens.FastPBKDF2", settings.PASSWORD_HASHERS[0]]
    with override_settings(PASSWORD_HASHERS=hashers):
        user = type(org["sales1"]).objects.get(pk=org["sales1"].pk)
        old_hash = user.password
        assert user.check_password(DEMO_PASSWORD)
        user.refresh_from_db()
        assert user.password != old_hash and user.password.startswith("pbkdf2_sha256$")
    assert works(raw)


def test_an_administrator_resetting_the_password_revokes_the_tokens(client_for, org):
    raw = issue_token(org["sales1"])
    user = org["sales1"]
    response = client_for("admin").post(
        f"/settings/users/{user.pk}/edit/",
        {
            "username": user.username,
            "name": user.name,
            "department": user.department_id,
            "roles": [r.pk for r in user.roles.all()],
            "is_active": "on",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code in (204, 302), response.content.decode()
    assert not works(raw)


def test_deactivating_a_user_revokes_the_tokens(org):
    raw = issue_token(org["sales1"])
    org["sales1"].is_active = False
    org["sales1"].save()
    org["sales1"].is_active = True
    org["sales1"].save()
    assert not works(raw)


# --- listing and revoking one's own tokens (API) -------------------------------------------------


def test_listing_shows_own_tokens_and_never_the_secret(org):
    raw = issue_token(org["sales1"], name="报表脚本")
    other = issue_token(org["sales1"])
    issue_token(org["sales2"])
    response = bearer(raw).get(TOKENS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {t["name"] for t in body["items"]} == {"报表脚本", "API"}
    item = next(t for t in body["items"] if t["name"] == "报表脚本")
    assert set(item) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "expired",
        "current",
    }
    assert item["current"] is True and item["expired"] is False
    text = response.content.decode()
    for secret in (raw, other, ApiToken.hash(raw), ApiToken.hash(other)):
        assert secret not in text
    assert "key_hash" not in text and '"token"' not in text


def test_delete_own_token(org):
    raw, other = issue_token(org["sales1"]), issue_token(org["sales1"])
    target = ApiToken.objects.get(key_hash=ApiToken.hash(other))
    response = bearer(raw).delete(f"{TOKENS}/{target.pk}")
    assert response.status_code == 204
    assert not works(other)
    assert works(raw)
    text = log_text()
    assert f"API 令牌 #{target.pk}（API）" in text
    for secret in (other, target.key_hash, target.prefix):
        assert secret not in text


def test_delete_someone_elses_token_is_404(org):
    theirs = issue_token(org["sales2"])
    row = ApiToken.objects.get(key_hash=ApiToken.hash(theirs))
    for username in ("sales1", "admin"):  # admins revoke all of a user's tokens instead
        response = bearer(issue_token(org[username])).delete(f"{TOKENS}/{row.pk}")
        assert response.status_code == 404
        assert response.json()["detail"] == "对象不存在或无权查看"
    assert bearer(issue_token(org["sales1"])).delete(f"{TOKENS}/999999").status_code == 404
    assert works(theirs)


# --- administrators ------------------------------------------------------------------------------


def test_admin_revokes_a_users_tokens_through_the_api(org):
    tokens = [issue_token(org["sales1"]), issue_token(org["sales1"])]
    theirs = issue_token(org["sales2"])
    admin = bearer(issue_token(org["admin"]))
    response = admin.delete(f"/api/v1/users/{org['sales1'].pk}/tokens")
    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    assert not any(works(raw) for raw in tokens)
    assert works(theirs)
    assert "管理员撤销：撤销李业务的全部 API 令牌（2个）" in log_text()
    assert admin.delete("/api/v1/users/999999/tokens").status_code == 404


def test_a_salesperson_cannot_revoke_a_colleagues_tokens(org):
    theirs = issue_token(org["sales2"])
    response = bearer(issue_token(org["sales1"])).delete(f"/api/v1/users/{org['sales2'].pk}/tokens")
    assert response.status_code == 403
    assert works(theirs)


def test_admin_revokes_a_users_tokens_on_the_employees_page(client_for, org):
    raw = issue_token(org["sales1"])
    admin = client_for("admin")
    listing = admin.get("/settings/users/").content.decode()
    url = f"/settings/users/{org['sales1'].pk}/revoke-tokens/"
    assert url in listing and "撤销令牌" in listing
    modal = admin.get(url, headers={"HX-Request": "true"})
    assert modal.status_code == 200 and "现有 1 个令牌" in modal.content.decode()
    response = admin.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert (
        "已撤销李业务的 API 令牌：1个"
        in json.loads(response["HX-Trigger"])["objectSaved"]["message"]
    )
    assert not works(raw)
    raw = issue_token(org["sales1"])
    assert client_for("sales2").post(url).status_code == 403
    assert works(raw)


# --- 我的令牌 (web) ------------------------------------------------------------------------------


def test_my_tokens_page_lists_own_tokens_without_the_secret(client_for, org):
    raw = issue_token(org["sales1"], name="报表脚本")
    theirs = issue_token(org["sales2"], name="别人的脚本")
    client = client_for("sales1")
    home = client.get("/").content.decode()
    assert f'href="{PAGE}"' in home and "我的令牌" in home and "修改密码" in home
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "我的令牌" in html and "报表脚本" in html and "撤销" in html
    assert f"{settings.KEHU_API_TOKEN_DAYS} 天后过期" in html
    assert "别人的脚本" not in html
    for secret in (raw, theirs, ApiToken.hash(raw)):
        assert secret not in html
    row = ApiToken.objects.get(key_hash=ApiToken.hash(raw))
    assert f"/accounts/tokens/{row.pk}/revoke/" in html


def test_my_tokens_page_shows_expired_tokens_as_expired(client_for, org):
    issue_token(org["sales1"])
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(hours=1))
    assert "已过期" in client_for("sales1").get(PAGE).content.decode()


def test_revoke_a_token_on_my_tokens_page(client_for, org):
    raw = issue_token(org["sales1"])
    row = ApiToken.objects.get()
    client = client_for("sales1")
    url = f"/accounts/tokens/{row.pk}/revoke/"
    modal = client.get(url, headers={"HX-Request": "true"})
    assert modal.status_code == 200 and "撤销这个令牌" in modal.content.decode()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not works(raw)
    assert "已撤销令牌：API" in client.get(PAGE).content.decode()


def test_revoking_someone_elses_token_on_the_page_is_404(client_for, org):
    theirs = issue_token(org["sales2"])
    row = ApiToken.objects.get()
    for username in ("sales1", "admin"):
        client = client_for(username)
        assert client.get(f"/accounts/tokens/{row.pk}/revoke/").status_code == 404
        assert client.post(f"/accounts/tokens/{row.pk}/revoke/").status_code == 404
    assert works(theirs)


def test_account_pages_need_a_sign_in(org):
    for url in (PAGE, PASSWORD_PAGE, "/accounts/tokens/1/revoke/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
