"""Shared fixtures for the whole kehu package: the browser-test harness.

Browser tests are marked ``@pytest.mark.browser`` and drive Debian's chromium through
Playwright's sync API (Playwright never downloads a browser here). They run when
``KEHU_BROWSER_TESTS=1`` or when the chromium binary exists; with ``KEHU_BROWSER_TESTS=1`` and
no chromium they fail, so CI cannot silently skip them.

Fixtures: ``browser`` (one chromium per session), ``page`` (a fresh context per test, desktop
1400x900, zh-CN), ``demo_users`` (the demo organisation of ``kehu.org.demo``, with the migrated
regions and dictionaries restored by ``reference_data`` if a flush removed them), ``login`` and
``screenshot`` (both return helper functions). Screenshots go to ``$KEHU_ARTIFACTS``
(default ``test-artifacts/`` in the checkout, git-ignored); a failing browser test leaves one
there too.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KEHU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(
    os.environ.get("KEHU_ARTIFACTS") or Path(__file__).resolve().parent.parent / "test-artifacts"
)
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

# Set once Playwright has started: its sync API keeps an asyncio loop marked as running in
# this thread until the session ends (see the ``_playwright_loop_isolation`` fixture).
_playwright_started = False


def _browser_tests_required() -> bool:
    return os.environ.get("KEHU_BROWSER_TESTS", "").strip().lower() in {"1", "true", "yes", "on"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") is None:
        return
    if os.path.exists(CHROMIUM):
        return
    if _browser_tests_required():
        pytest.fail(
            f"KEHU_BROWSER_TESTS=1 but there is no chromium at {CHROMIUM}: "
            "install it with `apt-get install chromium fonts-noto-cjk` (.ci/run does).",
            pytrace=False,
        )
    pytest.skip(f"browser test: no chromium at {CHROMIUM} (set KEHU_BROWSER_TESTS=1 to require it)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Keep each phase's report on the item, so that ``page`` can screenshot a failed test.
    report = yield
    setattr(item, f"kehu_report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _playwright_loop_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep Playwright's event loop out of the tests that do not use the browser.

    Between its calls Playwright's sync API leaves its loop marked as running in the main
    thread, so Django's ORM raises SynchronousOnlyOperation unless DJANGO_ALLOW_ASYNC_UNSAFE is
    set (``browser`` sets it for the rest of the session). The other tests that run after a
    browser test get a thread without a running loop and without that override, as usual.
    """
    if not _playwright_started or request.node.get_closest_marker("browser") is not None:
        yield
        return
    loop = asyncio._get_running_loop()
    allow = os.environ.pop(ASYNC_UNSAFE, None)
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)
        if allow is not None:
            os.environ[ASYNC_UNSAFE] = allow


@pytest.fixture(scope="session")
def browser():
    global _playwright_started
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    # The ORM runs in this thread (fixtures, assertions) while Playwright's loop is running here.
    os.environ[ASYNC_UNSAFE] = "true"
    playwright = sync_playwright().start()
    _playwright_started = True
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
        _playwright_started = False
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context per test. Uncaught JavaScript errors, Content-Security-Policy
    violations and static files that fail to load make the test fail; a failed test leaves a
    screenshot in the artifacts folder."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    # Whatever the Content-Security-Policy blocks (an inline script, eval, a foreign source).
    page.on(
        "console",
        lambda msg: (
            problems.append(f"CSP violation: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"static file {r.status}: {r.url}")
            if "/static/" in r.url and r.status >= 400
            else None
        ),
    )
    page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"static file failed ({r.failure}): {r.url}")
            if "/static/" in r.url
            else None
        ),
    )
    yield page
    report = getattr(request.node, "kehu_report_call", None)
    if report is not None and report.failed:
        _save_screenshot(page, f"FAILED-{request.node.name}")
    context.close()
    if problems:
        pytest.fail("the page had problems:\n" + "\n".join(problems), pytrace=False)


def _save_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    # Transitions (the modal fade) are fast-forwarded: the picture shows the settled state.
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """``screenshot(page, name)`` saves a full-page PNG ``<name>.png`` and returns its path."""
    return _save_screenshot


@pytest.fixture
def reference_data(request: pytest.FixtureRequest) -> None:
    """The reference data the migrations load: the 省/市/区 table and the default dictionaries.

    A transactional test (``live_server``, ``transactional_db``) ends with a flush that empties
    every table, migrated data included, so the next tests would find neither regions nor
    dictionaries. This puts them back when they are missing (with the migrations' own code), and
    is a cheap no-op otherwise. Serialized rollback would work too but reloads the whole database
    object by object before every test, which is much slower.
    """
    if "live_server" in request.fixturenames or "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    from kehu.core.testing import restore_reference_data

    restore_reference_data()


@pytest.fixture
def demo_users(request: pytest.FixtureRequest):
    """The demo organisation (``kehu.org.demo.seed()``): {username: User}, password demo1234.

    With ``live_server`` the data must be committed for the server thread to see it, so the
    test gets the transactional database; otherwise the ordinary rolled-back one. Either way the
    migrated reference data (regions, dictionaries) is there (see ``reference_data``).
    """
    if "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    request.getfixturevalue("reference_data")
    from kehu.org.demo import seed

    return seed()


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, live_server, username, password="demo1234")`` signs in through the login
    page and waits until it has left it."""
    from playwright.sync_api import expect

    from kehu.org.demo import DEMO_PASSWORD

    def do_login(page, live_server, username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        page.locator("button[type=submit]").click()
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
        page.wait_for_load_state()  # scripts and styles in before the test clicks on

    return do_login


def _leave_picker(select) -> None:
    """Close the Tom Select over ``select`` for good before the test clicks below it.

    Choosing an option calls Tom Select's ``focus()``, which reopens the dropdown from a
    ``setTimeout(…, 0)``; under load that timer can fire after a plain ``blur()``/``close()``
    and leave the dropdown open over the form (and a remote load answering late reopens it).
    Waiting for the pending timers first (a later timer of the same delay runs after them), then
    blurring and closing, again until it has stayed closed over a few checks, avoids the race.
    """
    import time

    close = """e => new Promise(resolve => setTimeout(() => {
        e.tomselect.blur(); e.tomselect.close();
        requestAnimationFrame(() => requestAnimationFrame(() => {
            e.tomselect.blur(); e.tomselect.close(); resolve();
        }));
    }, 50))"""
    state = """e => {
        const t = e.tomselect;
        return t.isOpen || t.isFocused || t.dropdown.offsetParent !== null;
    }"""
    # A late remote load or focus timer can reopen it once more on a loaded machine: close again
    # until it has stayed closed for three checks in a row.
    closed_checks, deadline = 0, time.monotonic() + 15
    while closed_checks < 3:
        if select.evaluate(state):
            closed_checks = 0
            assert time.monotonic() < deadline, "the picker's dropdown keeps reopening"
            select.evaluate(close)
        else:
            closed_checks += 1
        time.sleep(0.1)


@pytest.fixture
def leave_picker() -> Callable[..., None]:
    """``leave_picker(select_locator)`` closes its Tom Select dropdown for good (see above)."""
    return _leave_picker
