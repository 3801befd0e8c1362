"""The product's own 403/404/500 pages (issue 9 point 7): Chinese, a link back to 首页, the
right status — also with DEBUG on (``make run``), where Django would otherwise answer its
English debug page. HTMX requests get the error modal's fragment; the API keeps its JSON."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory

from kehu.core.errors import NotFound

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Texts of Django's own pages (debug 404/500, the plain "403 Forbidden").
DJANGO_TEXTS = ("Page not found", "Django", "Forbidden", "Not Found", "DEBUG", "Traceback")


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def assert_product_page(response, status: int, message: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for text in DJANGO_TEXTS:
        assert text not in html, text
    assert 'data-testid="error-page"' in html
    assert message in html
    assert "返回首页" in html
    return html


def test_missing_customer_is_the_chinese_404_page_inside_the_layout(client_for, debug):
    response = client_for("admin").get("/customers/999999/")
    html = assert_product_page(response, 404, "页面不存在或无权查看")
    assert "客户不存在或无权查看" in html  # the ApplicationError's own message
    assert "navbar-vertical" in html  # the product's layout: the sidebar
    assert "系统设置" in html


def test_an_unknown_address_is_the_chinese_404_page(client_for, debug):
    response = client_for("sales1").get("/no-such-page/")
    html = assert_product_page(response, 404, "页面不存在或无权查看")
    assert "navbar-vertical" in html


def test_an_unknown_address_for_a_visitor_is_a_standalone_chinese_404(db, debug):
    response = Client().get("/no-such-page/")
    html = assert_product_page(response, 404, "页面不存在或无权查看")
    assert "navbar-vertical" not in html
    assert "tabler.min.css" in html  # the product's own style, served locally
    assert "http://" not in html and "https://" not in html  # no CDN


def test_a_missing_slash_still_redirects(client_for, debug):
    response = client_for("sales1").get("/customers")
    assert response.status_code == 301
    assert response["Location"] == "/customers/"


def test_a_page_needing_a_permission_the_user_lacks_is_the_chinese_403_page(client_for, debug):
    # finance1 has no org.view_user: 员工 (/settings/users/) and 系统设置 (/settings/) refuse.
    for url in ("/settings/users/", "/settings/"):
        response = client_for("finance1").get(url)
        html = assert_product_page(response, 403, "没有权限执行此操作")
        assert "navbar-vertical" in html


def test_an_application_error_403_shows_its_message(rf_user_request, settings):
    from kehu.core.errors import Forbidden
    from kehu.core.middleware import ApplicationErrorMiddleware

    settings.DEBUG = True
    request = rf_user_request("/customers/1/")
    response = ApplicationErrorMiddleware(lambda r: None).process_exception(
        request, Forbidden("只有负责人可以查看")
    )
    html = assert_product_page(response, 403, "没有权限执行此操作")
    assert "只有负责人可以查看" in html


def test_english_http404_messages_are_not_shown(rf_user_request):
    from django.http import Http404

    from kehu.core.middleware import ApplicationErrorMiddleware

    request = rf_user_request("/customers/1/")
    response = ApplicationErrorMiddleware(lambda r: None).process_exception(
        request, Http404("No Customer matches the given query.")
    )
    html = assert_product_page(response, 404, "页面不存在或无权查看")
    assert "matches" not in html


def test_an_htmx_request_gets_the_error_modal(client_for, debug):
    response = client_for("admin").get("/customers/999999/", headers={"HX-Request": "true"})
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="form-error"' in html
    assert "客户不存在或无权查看" in html
    assert "<html" not in html


def test_the_api_still_answers_json(api_client, client_for, debug):
    for client in (api_client("admin"), client_for("admin")):
        response = client.get("/api/v1/customers/999999")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert CHINESE.search(response.json()["detail"])
    response = api_client("admin").get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_api_403_stays_json(api_client, debug):
    # finance1 has no customers.claim_customer.
    response = api_client("finance1").post(
        "/api/v1/pool/claim", data={"ids": [1]}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert CHINESE.search(response.json()["detail"])


def test_the_500_page_is_standalone(db):
    from kehu.core.middleware import server_error

    request = RequestFactory().get("/")
    response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务器出错了" in html and "返回首页" in html
    assert "{%" not in html and "{{" not in html
    assert "/static/" not in html and "http" not in html  # no static file, no CDN


def test_an_unhandled_error_is_the_500_page_when_debug_is_off(client_for, settings, monkeypatch):
    from kehu.core import views_pages

    settings.DEBUG = False

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views_pages.DashboardView, "get", boom)
    client = client_for("sales1")
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert "服务器出错了" in response.content.decode()


@pytest.fixture
def rf_user_request(org):
    """A request of admin as the middleware sees it (user set, not HTMX)."""

    def make(path: str):
        request = RequestFactory().get(path)
        request.user = org["admin"]
        request.htmx = False
        return request

    return make


def test_not_found_error_message_default():
    assert NotFound().message == "对象不存在或无权查看"
