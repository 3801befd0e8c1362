"""Production start (issue 10, point 10): the app starts with DEBUG off and a SECRET_KEY.

Everything runs in subprocesses exactly as a deployment would: ``collectstatic`` (whitenoise's
CompressedManifestStaticFilesStorage, which used to fail on the vendored files' references to
missing ``.map`` files), ``check --deploy --fail-level WARNING``, ``migrate``, then the ``web``
command of the ``Procfile`` (gunicorn) on a free port, fetched over HTTP.

The subprocesses use their own SQLite database, var dir and STATIC_ROOT in a temporary
directory whatever DATABASE_URL says: the suite runs the same in the PostgreSQL and the SQLite
legs of CI, and never touches the test database or the checkout's ``var/`` and
``staticfiles/``. Each gunicorn runs in its own process group, killed when the test ends,
whether it passed or not.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

BASE_DIR = Path(__file__).resolve().parents[3]
MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]
# Whatever the calling shell or CI exports that would change the production settings under test
# (and every KEHU_* variable).
INHERITED_SETTINGS = {
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "HOST",
    "PORT",
}
HASHED_CSS = re.compile(r'href="(/static/vendor/tabler/tabler\.min\.[0-9a-f]{12}\.css)"')
USERNAME = "opsadmin"


@dataclass
class Site:
    root: Path
    env: dict[str, str]
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def manage(self, *args: str, timeout: int = 120, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*MANAGE, *args],
            cwd=BASE_DIR,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    if not (BASE_DIR / "kehu" / "static" / "vendor" / ".built").exists():
        pytest.fail("kehu/static/vendor is not built: run `make assets` (make test does)")
    root = tmp_path_factory.mktemp("production")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in INHERITED_SETTINGS and not k.startswith("KEHU_")
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        KEHU_VAR_DIR=str(root / "var"),
        KEHU_STATIC_ROOT=str(root / "static"),
        # Our own SQLite database regardless of DATABASE_URL (see the module docstring).
        DATABASE_URL=f"sqlite:///{root / 'kehu.sqlite3'}",
    )
    site = Site(root=root, env=env)
    _ok(site.manage("collectstatic", "--noinput", "-v0", timeout=300))
    assert (root / "static" / "staticfiles.json").exists()
    _ok(site.manage("migrate", "--noinput", "-v0", timeout=300))
    _ok(
        site.manage(
            "createsuperuser",
            "--noinput",
            f"--username={USERNAME}",
            "--email=ops@example.com",
            DJANGO_SUPERUSER_PASSWORD=site.password,
        )
    )
    return site


def test_check_deploy_is_clean_with_https_flag(site: Site) -> None:
    result = _ok(site.manage("check", "--deploy", "--fail-level", "WARNING", KEHU_HTTPS="1"))
    assert "no issues" in result.stdout + result.stderr
    # Without the flag (plain http, e.g. `SECRET_KEY=… make run` on localhost) the check says
    # what a real deployment would be missing.
    plain = site.manage("check", "--deploy", "--fail-level", "WARNING")
    assert plain.returncode != 0
    for warning in ("security.W008", "security.W012", "security.W016", "security.W004"):
        assert warning in plain.stderr


# --- gunicorn as in the Procfile ---------------------------------------------------------------


def _procfile_command(name: str) -> str:
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise AssertionError(f"no {name!r} process in the Procfile")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(site: Site, **env: str) -> Iterator[int]:
    port = _free_port()
    log_path = site.root / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", "exec " + _procfile_command("web")],
            cwd=BASE_DIR,
            env={**site.env, **env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the master and its workers
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"gunicorn exited {process.returncode}:\n{log_path.read_text()}"
                )
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert time.monotonic() < deadline, f"gunicorn did not listen:\n{log_path.read_text()}"
            time.sleep(0.2)
        yield port
    except BaseException:
        print(log_path.read_text(errors="replace"))  # shown by pytest on failure
        raise
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
    # Workers left behind by a master that died abruptly.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for header in self.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return {name: morsel.value for name, morsel in jar.items()}

    def set_cookie(self, name: str) -> str:
        return next(h for h in self.headers.get_all("Set-Cookie") or [] if h.startswith(name + "="))


def fetch(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def _serves_the_app(port: int, site: Site, proxy: dict[str, str], origin: str) -> Response:
    """Login page with hashed static files, the login wall, and a real login round trip."""
    login = fetch(port, "/accounts/login/", headers=proxy)
    assert login.status == 200, login.text
    assert "登录账号" in login.text and "用户名" in login.text
    css = HASHED_CSS.search(login.text)
    assert css, "the login page does not link the hashed (manifest) tabler.min.css"
    static = fetch(port, css.group(1), headers={**proxy, "Accept-Encoding": "gzip"})
    assert static.status == 200
    assert static.headers["Content-Type"].startswith("text/css")
    assert static.headers["Content-Encoding"] == "gzip"  # whitenoise's precompressed file
    assert "immutable" in static.headers["Cache-Control"]

    wall = fetch(port, "/customers/", headers=proxy)
    assert wall.status == 302
    assert wall.headers["Location"].startswith("/accounts/login/?next=/customers/")

    csrf = login.cookies()["csrftoken"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    signed_in = fetch(
        port,
        "/accounts/login/",
        method="POST",
        headers={**proxy, "Origin": origin, "Referer": f"{origin}/accounts/login/"},
        cookies={"csrftoken": csrf},
        form={"csrfmiddlewaretoken": token, "username": USERNAME, "password": site.password},
    )
    assert signed_in.status == 302, signed_in.text
    assert signed_in.headers["Location"] == "/"
    session = signed_in.cookies()["sessionid"]
    customers = fetch(port, "/customers/", headers=proxy, cookies={"sessionid": session})
    assert customers.status == 200
    return signed_in


def test_gunicorn_behind_an_https_reverse_proxy(site: Site) -> None:
    with gunicorn(site, KEHU_HTTPS="1") as port:
        # What the reverse proxy terminating TLS adds (docs/deploy.md).
        proxy = {"X-Forwarded-Proto": "https"}
        signed_in = _serves_the_app(port, site, proxy, origin=f"https://127.0.0.1:{port}")
        assert "; secure" in signed_in.set_cookie("sessionid").lower()
        page = fetch(port, "/accounts/login/", headers=proxy)
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        # Plain http straight to the app server is sent to https.
        plain = fetch(port, "/accounts/login/")
        assert plain.status == 301
        assert plain.headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"


def test_gunicorn_over_plain_http_on_localhost(site: Site) -> None:
    """`SECRET_KEY=… make run` without KEHU_HTTPS: DEBUG off, served on http://127.0.0.1."""
    with gunicorn(site) as port:
        signed_in = _serves_the_app(port, site, {}, origin=f"http://127.0.0.1:{port}")
        assert "; secure" not in signed_in.set_cookie("sessionid").lower()
        page = fetch(port, "/accounts/login/")
        assert "Strict-Transport-Security" not in page.headers
