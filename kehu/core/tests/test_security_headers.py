"""Security headers (issue 10 point 8): a Content-Security-Policy the app's own pages satisfy,
``Cache-Control: no-store`` on pages and API answers (they carry phones), ``Referrer-Policy``
and ``X-Content-Type-Options`` — and a scan of the templates so that no future template needs
an inline script the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from kehu.core.middleware import CONTENT_SECURITY_POLICY
from kehu.core.testing import customer_for

KEHU = Path(settings.BASE_DIR) / "kehu"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_secured(response) -> None:
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_the_policy_allows_no_inline_or_eval_script():
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert not any("*" in source for sources in policy.values() for source in sources)


def test_login_page(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert_secured(response)


def test_failed_login_and_the_redirect_to_login(org):
    response = Client().post("/accounts/login/", {"username": "sales1", "password": "wrong-pass"})
    assert response.status_code == 200
    assert_secured(response)
    response = Client().get("/customers/")
    assert response.status_code == 302
    assert_secured(response)


def test_customer_list_page_and_fragment(client_for, org):
    customer_for(org["sales1"], name="安全头测试客户")
    client = client_for("sales1")
    response = client.get("/customers/")
    assert response.status_code == 200
    assert "安全头测试客户" in response.content.decode()
    assert_secured(response)
    fragment = client.get("/customers/", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert_secured(fragment)


def test_customer_portrait(client_for, org):
    customer = customer_for(org["sales1"], name="画像安全头")
    response = client_for("sales1").get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    assert_secured(response)


def test_customer_api_list(api_client, org):
    customer_for(org["sales1"], name="接口安全头")
    response = api_client("sales1").get("/api/v1/customers")
    assert response.status_code == 200
    assert response.json()["items"]
    assert_secured(response)


def test_api_errors(org):
    assert_secured(Client().get("/api/v1/customers"))  # 401
    assert_secured(Client().get("/api/nothing-here"))  # 404


def test_error_pages(client_for, settings):
    settings.DEBUG = False
    response = client_for("admin").get("/customers/999999/")
    assert response.status_code == 404
    assert_secured(response)
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert_secured(response)


def test_the_500_page(client_for, settings, monkeypatch):
    from kehu.core import views_pages

    settings.DEBUG = False

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views_pages.DashboardView, "get", boom)
    client = client_for("sales1")
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert_secured(response)


def test_static_files_keep_their_caching(db):
    response = Client().get("/static/kehu/kehu.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "Content-Security-Policy" not in response
    assert response["X-Content-Type-Options"] == "nosniff"


# --- the templates stay within the policy -----------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
DATA_BLOCK = re.compile(r"""type\s*=\s*["']?application/(ld\+)?json""", re.IGNORECASE)
TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.DOTALL)
EVENT_ATTRIBUTE = re.compile(r"""[\s"'/]on[a-z]+\s*=""", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript\s*:", re.IGNORECASE)
# htmx features that evaluate strings (blocked without 'unsafe-eval'): hx-on, js: values,
# event filters in hx-trigger.
HTMX_EVAL = re.compile(
    r"""hx-on|(hx-vals|hx-vars|hx-headers)\s*=\s*["']\s*(js|javascript)\s*:|hx-vars|"""
    r"""hx-trigger\s*=\s*["'][^"']*\[""",
    re.IGNORECASE,
)


def template_files() -> list[Path]:
    files = sorted(KEHU.glob("templates/**/*.html")) + sorted(KEHU.glob("*/templates/**/*.html"))
    assert len(files) > 30
    return files


def csp_problems(text: str) -> list[str]:
    problems = []
    for attributes, content in SCRIPT.findall(text):
        if content.strip() and not DATA_BLOCK.search(attributes):
            problems.append(f"inline <script>: {content.strip()[:60]!r}")
    for tag in TAG.findall(text):
        if EVENT_ATTRIBUTE.search(tag):
            problems.append(f"event-handler attribute: {tag[:80]!r}")
    if JAVASCRIPT_URL.search(text):
        problems.append("javascript: URL")
    if HTMX_EVAL.search(text):
        problems.append("htmx attribute that needs eval")
    return problems


def test_no_template_needs_inline_script():
    found = {}
    for path in template_files():
        problems = csp_problems(path.read_text(encoding="utf-8"))
        if problems:
            found[str(path.relative_to(KEHU))] = problems
    assert found == {}


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        "<script type='text/javascript'>\n  init();\n</script>",
        '<button class="btn" onclick="go()">x</button>',
        "<body onload='start()'>",
        '<a href="javascript:history.back()">取消</a>',
        '<div hx-on:click="go()"></div>',
        '<div hx-on="click: go()"></div>',
        "<div hx-vals='js:{a: 1}'></div>",
        "<div hx-trigger=\"keyup[key=='Enter']\"></div>",
    ],
)
def test_the_scan_catches(snippet):
    assert csp_problems(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script src=\"{% static 'kehu/kehu.js' %}\"></script>",
        '<script id="d" type="application/json">{"a": 1}</script>',
        '<div hx-trigger="objectSaved from:body" hx-vals=\'{"pk": "1"}\'></div>',
        '<input data-option="x" name="online" placeholder="在线">',
        '<div class="progress-bar" style="width: 5%"></div>',
    ],
)
def test_the_scan_lets_pass(snippet):
    assert csp_problems(snippet) == []


def test_own_scripts_do_not_evaluate_strings():
    for path in sorted((KEHU / "static" / "kehu").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\s*\(|new\s+Function\b|setTimeout\s*\(\s*[\"']", text), path
