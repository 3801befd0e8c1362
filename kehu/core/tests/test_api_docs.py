"""API 文档 (/api/v1/docs) loads Swagger UI from the project's own static files (issue 14.16):
no CDN, so it works offline and where foreign CDNs are unreliable."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

DOCS = "/api/v1/docs"


@pytest.mark.django_db
def test_docs_page_loads_nothing_from_another_host():
    html = Client().get(DOCS).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert any(s.endswith("swagger-ui.css") for s in sources)
    for source in sources:
        assert source.startswith("/static/"), source
        path = source.removeprefix("/static/")
        assert finders.find(path), f"{path} is not among the static files (make assets)"
    assert "cdn" not in html.lower()
    # the settings the init script reads, pointing at the schema
    assert '"url": "/api/v1/openapi.json"' in html
    assert "<script>" not in html  # no inline script (Content-Security-Policy)


@pytest.mark.browser
def test_swagger_ui_renders_offline(page, live_server, screenshot):
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: foreign.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.goto(f"{live_server.url}{DOCS}")
    from playwright.sync_api import expect

    # the schema of the whole API is built on first request: give it time on a busy machine
    expect(page.locator("#swagger-ui .info .title")).to_contain_text("Kehu CRM API", timeout=60_000)
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    screenshot(page, "api-docs-swagger")
    assert foreign == []
