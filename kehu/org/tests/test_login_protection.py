"""Login protection (issue 10 point 7): a limit per address across usernames besides the one per
username + address, and the client address from a configured trusted proxy header only.

The login page and the API token endpoint share the throttle (django-axes with
``kehu.org.login_protection.LoginThrottleHandler``; the address from ``kehu.core.client_ip``).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone

from kehu.audit.models import Action, ChangeLog
from kehu.core.client_ip import client_ip
from kehu.org.demo import DEMO_PASSWORD
from kehu.org.login_protection import ADDRESS_LOCKOUT_MESSAGE

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token"
PROXY = "10.0.0.1"
CLIENT_A = "203.0.113.5"
CLIENT_B = "203.0.113.6"


def token(client: Client, username: str, password: str = "wrong-password", **extra):
    body = json.dumps({"username": username, "password": password})
    return client.post(TOKEN, data=body, content_type="application/json", **extra)


def web_login(client: Client, username: str, password: str = "wrong-password", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


@pytest.fixture
def behind_proxy(settings):
    settings.KEHU_TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.KEHU_TRUSTED_PROXY_COUNT = 1
    settings.KEHU_TRUSTED_PROXY_IPS = []
    return settings


def via_proxy(address: str, spoofed: str = "") -> dict[str, str]:
    """What the app sees of a client behind the proxy: the proxy appended the client's address."""
    forwarded = f"{spoofed}, {address}" if spoofed else address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


# --- per address, across usernames ------------------------------------------------------------


def test_the_limits():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT == 20
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME


def test_one_guess_on_each_of_30_usernames_is_refused_after_the_address_limit(org):
    limit = settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT
    client = Client()
    statuses = [token(client, f"guess{i}").status_code for i in range(30)]
    assert statuses == [401] * (limit - 1) + [429] * (30 - limit + 1)

    # Refused for any username from this address, a real one with its right password too.
    response = token(client, "sales1", DEMO_PASSWORD)
    assert response.status_code == 429
    assert response.json()["detail"] == ADDRESS_LOCKOUT_MESSAGE
    assert "token" not in response.json()
    response = web_login(client, "sales2", DEMO_PASSWORD)
    assert response.status_code == 429
    assert ADDRESS_LOCKOUT_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session

    # Another address is not concerned.
    assert token(Client(REMOTE_ADDR="198.51.100.7"), "sales1", DEMO_PASSWORD).status_code == 200


def test_the_login_page_counts_the_same_way(org):
    limit = settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT
    client = Client()
    for i in range(limit - 1):
        response = web_login(client, f"guess{i}")
        assert response.status_code == 200
        assert "用户名或密码错误" in response.content.decode()
    response = web_login(client, "guess-last")
    assert response.status_code == 429
    content = response.content.decode()
    assert "登录失败次数过多" in content
    assert "锁定" in content


def test_web_and_api_failures_count_together_per_address(org):
    limit = settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT
    client = Client()
    for i in range(limit // 2):
        web_login(client, f"web{i}")
    for i in range(limit - limit // 2 - 1):
        assert token(client, f"api{i}").status_code == 401
    assert token(client, "one-more").status_code == 429


def test_per_username_and_address_stays_at_five(org):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert token(client, "sales1").status_code == 401
    assert token(client, "sales1").status_code == 429
    response = token(client, "sales1", DEMO_PASSWORD)
    assert response.status_code == 429
    assert response.json()["detail"] == "登录失败次数过多，账号已被临时锁定，请15分钟后再试"
    # The address as a whole is far from its limit: a colleague there still signs in.
    assert token(client, "sales2", DEMO_PASSWORD).status_code == 200


def test_a_successful_sign_in_does_not_wipe_the_address_count(org):
    """An attacker with one valid account cannot reset the address between rounds of guesses."""
    limit = settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT
    client = Client()
    for i in range(limit - 1):
        assert token(client, f"guess{i}").status_code == 401
    assert token(client, "sales1", DEMO_PASSWORD).status_code == 200
    assert token(client, "guess-after").status_code == 429


def test_a_successful_sign_in_forgets_the_users_own_mistakes(org):
    """Typos followed by the right password do not add up towards the address limit."""
    limit = settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT
    client = Client()
    for username in ("sales1", "sales2", "sales3", "manager1", "finance1", "service1"):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert token(client, username).status_code == 401
        assert token(client, username, DEMO_PASSWORD).status_code == 200
    assert limit <= 6 * (settings.AXES_FAILURE_LIMIT - 1)  # would have been over without reset
    assert token(client, "admin", DEMO_PASSWORD).status_code == 200


def test_the_address_lock_ends_after_the_cool_off(org):
    client = Client()
    for i in range(settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT):
        token(client, f"guess{i}")
    assert token(client, "sales1", DEMO_PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    )
    assert token(client, "sales1", DEMO_PASSWORD).status_code == 200


def test_the_address_limit_is_configurable(org, settings):
    settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    client = Client()
    statuses = [token(client, f"guess{i}").status_code for i in range(10)]
    assert statuses == [401] * 7 + [429] * 3


def test_an_address_limit_of_zero_turns_it_off(org, settings):
    settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT = 0
    client = Client()
    assert {token(client, f"guess{i}").status_code for i in range(30)} == {401}
    assert token(client, "sales1", DEMO_PASSWORD).status_code == 200


# --- the client address -----------------------------------------------------------------------


def test_a_spoofed_forwarded_for_is_ignored_without_the_trusted_setting(org):
    assert settings.KEHU_TRUSTED_PROXY_HEADER == ""
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        token(client, "sales1", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    response = token(client, "sales1", DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_a_fresh_forwarded_for_per_guess_does_not_escape_the_address_limit(org):
    client = Client()
    for i in range(settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT):
        token(client, f"guess{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert token(client, "guess-x", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429


def test_behind_the_proxy_two_clients_are_told_apart(org, behind_proxy):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token(client, "sales1", **via_proxy(CLIENT_A))
    # A locked itself out of sales1 ...
    assert token(client, "sales1", DEMO_PASSWORD, **via_proxy(CLIENT_A)).status_code == 429
    # ... B, behind the same proxy, is not locked out of it.
    assert token(client, "sales1", DEMO_PASSWORD, **via_proxy(CLIENT_B)).status_code == 200
    response = web_login(Client(), "sales1", DEMO_PASSWORD, **via_proxy(CLIENT_B))
    assert response.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT_A}


def test_behind_the_proxy_the_address_limit_is_per_client(org, behind_proxy):
    client = Client()
    for i in range(settings.KEHU_LOGIN_ADDRESS_FAILURE_LIMIT):
        token(client, f"guess{i}", **via_proxy(CLIENT_A))
    assert token(client, "sales1", DEMO_PASSWORD, **via_proxy(CLIENT_A)).status_code == 429
    assert token(client, "sales1", DEMO_PASSWORD, **via_proxy(CLIENT_B)).status_code == 200


def test_behind_the_proxy_what_the_client_put_in_front_is_ignored(org, behind_proxy):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        token(client, "sales1", **via_proxy(CLIENT_A, spoofed=f"198.51.100.{i}"))
    spoofed = via_proxy(CLIENT_A, spoofed=CLIENT_B)
    assert token(client, "sales1", DEMO_PASSWORD, **spoofed).status_code == 429


def test_the_correct_password_of_a_locked_user_works_from_another_address(org):
    locked = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(locked, "sales1")
    assert web_login(locked, "sales1", DEMO_PASSWORD).status_code == 429

    other = Client(REMOTE_ADDR="198.51.100.2")
    assert web_login(other, "sales1", DEMO_PASSWORD).status_code == 302
    assert int(other.session["_auth_user_id"]) == org["sales1"].pk
    assert token(Client(REMOTE_ADDR="198.51.100.3"), "sales1", DEMO_PASSWORD).status_code == 200
    # ... and the lock at the first address stays.
    assert web_login(locked, "sales1", DEMO_PASSWORD).status_code == 429


def test_the_change_log_records_the_client_address(org, behind_proxy):
    token(Client(), "sales1", **via_proxy(CLIENT_A, spoofed="198.51.100.1"))
    row = ChangeLog.objects.get(action=Action.LOGIN_FAILED)
    assert row.remote_addr == CLIENT_A


# --- kehu.core.client_ip ----------------------------------------------------------------------


def request_with(**meta):
    request = RequestFactory().get("/")
    request.META.update(meta)
    return request


def test_client_ip_without_the_setting_is_remote_addr(settings):
    settings.KEHU_TRUSTED_PROXY_HEADER = ""
    assert client_ip(request_with(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="1.2.3.4")) == (
        "192.0.2.9"
    )


@pytest.mark.parametrize(
    ("header", "count", "forwarded", "expected"),
    [
        ("HTTP_X_FORWARDED_FOR", 1, "203.0.113.5", "203.0.113.5"),
        ("X-Forwarded-For", 1, "1.1.1.1, 203.0.113.5", "203.0.113.5"),
        ("HTTP_X_FORWARDED_FOR", 2, "1.1.1.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        ("HTTP_X_FORWARDED_FOR", 2, "203.0.113.5", "10.0.0.1"),  # too few hops: the peer
        ("HTTP_X_FORWARDED_FOR", 1, "not-an-address", "10.0.0.1"),
        ("HTTP_X_FORWARDED_FOR", 1, "", "10.0.0.1"),
        ("HTTP_X_FORWARDED_FOR", 1, "203.0.113.5:4711", "203.0.113.5"),
        ("HTTP_X_FORWARDED_FOR", 1, "[2001:db8::1]:4711", "2001:db8::1"),
        ("HTTP_X_FORWARDED_FOR", 1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_from_the_trusted_header(settings, header, count, forwarded, expected):
    settings.KEHU_TRUSTED_PROXY_HEADER = header
    settings.KEHU_TRUSTED_PROXY_COUNT = count
    settings.KEHU_TRUSTED_PROXY_IPS = []
    request = request_with(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_client_ip_with_a_single_value_header(settings):
    settings.KEHU_TRUSTED_PROXY_HEADER = "X-Real-IP"
    settings.KEHU_TRUSTED_PROXY_COUNT = 1
    settings.KEHU_TRUSTED_PROXY_IPS = []
    request = request_with(
        REMOTE_ADDR=PROXY, HTTP_X_REAL_IP=CLIENT_A, HTTP_X_FORWARDED_FOR="1.1.1.1"
    )
    assert client_ip(request) == CLIENT_A


def test_client_ip_honours_the_header_only_from_the_trusted_proxies(settings):
    settings.KEHU_TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.KEHU_TRUSTED_PROXY_COUNT = 1
    settings.KEHU_TRUSTED_PROXY_IPS = ["10.0.0.0/8", "192.0.2.10"]
    assert client_ip(request_with(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT_A)) == CLIENT_A
    assert (
        client_ip(request_with(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=CLIENT_A)) == CLIENT_A
    )
    # Straight to the app server, around the proxy: the header is the client's own word.
    direct = request_with(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR=CLIENT_A)
    assert client_ip(direct) == "198.51.100.4"
