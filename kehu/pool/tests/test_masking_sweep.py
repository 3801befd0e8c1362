"""SPEC §3 masking, swept: a pool customer's raw contact data appears in no output, for nobody.

P1 is a pool customer whose history holds every kind of contact value: created by sales1 with one
phone, its phone changed while private, a second contact added and then changed (mobile and
email) while private, a follow-up, then released to the default pool. Every role (the demo roles,
sales2, a custom role with only view/add permissions, and an anonymous visitor) requests every
page, portrait tab (plain and as the HTMX fragment), API answer, export (.xlsx, every cell read
with openpyxl) and change-log view in ``URLS``; no answer — whatever its status — may contain a
raw phone, mobile or email of P1, neither as typed nor with separators, HTML entities or URL
encoding. One parametrized test over (role, url).

The database is built once for the module inside one transaction rolled back at the end; each
test runs in a savepoint.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from kehu.core.testing import restore_reference_data

pytestmark = pytest.mark.django_db

PHONE = "13912345678"  # the customer's 联系电话 now
PHONE_BEFORE = "13911110000"  # its 联系电话 before a change made while private
MOBILE = "13987654321"  # the second contact's mobile now
MOBILE_BEFORE = "13955550000"  # … before a change made while private
EMAIL = "secret@example.com"
EMAIL_BEFORE = "old-secret@example.com"
RAW = [PHONE, PHONE_BEFORE, MOBILE, MOBILE_BEFORE, EMAIL, EMAIL_BEFORE]
P1_NAME = "掩码公海客户有限公司"

ROLES = [
    "admin",
    "manager1",
    "sales1",
    "sales2",
    "sales3",
    "service1",
    "finance1",
    "viewadd",
    "anonymous",
]
VIEWADD_PERMS = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.view_contact",
    "customers.add_contact",
    "followups.view_followup",
    "followups.add_followup",
    "sales.view_lead",
    "sales.add_lead",
    "sales.view_opportunity",
    "sales.add_opportunity",
]


@dataclass(frozen=True)
class Get:
    """A request of the sweep; ``{P1}``, ``{PK}`` (the second contact) and ``{PF}`` (the
    follow-up) in the path are the sample ids."""

    path: str
    api: bool = False
    htmx: bool = False
    method: str = "GET"
    json: dict[str, Any] | None = field(default=None)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}{' (htmx)' if self.htmx else ''}"


def _portrait_tabs() -> list[str]:
    """Every tab of the 客户画像 (the registry: kehu/customers/tabs.py, the documents' tabs)."""
    import kehu.customers.tabs  # noqa: F401  (registers the customer's own tabs)
    from kehu.core.registry import ordered_portrait_tabs

    return [tab.key for tab in ordered_portrait_tabs()]


def _urls() -> list[Get]:
    pages = [
        "/",
        "/todo/",
        "/pool/",
        f"/pool/?name={P1_NAME[:4]}",
        "/customers/",
        "/customers/?tab=all&per_page=100",
        "/customers/{P1}/",
        "/customers/{P1}/edit/",
        "/customers/duplicate-check/?name=" + P1_NAME[:6],
        "/contacts/",
        "/contacts/?customer_id={P1}",
        "/contacts/{PK}/edit/",
        "/followups/",
        "/opportunities/",
        "/customers/export/?tab=pool",
        "/customers/export/",
        "/audit/",
        "/audit/?object_type=customers.customer&object_id={P1}",
        "/audit/?object_type=customers.contact",
    ]
    urls = [Get(p) for p in pages]
    for tab in _portrait_tabs():
        urls.append(Get(f"/customers/{{P1}}/?tab={tab}"))
        urls.append(Get(f"/customers/{{P1}}/?tab={tab}", htmx=True))
        urls.append(Get(f"/customers/{{P1}}/tabs/{tab}/", htmx=True))  # loaded when opened
    api = [
        "/api/v1/customers?page_size=100",
        f"/api/v1/customers?name={P1_NAME[:4]}",
        "/api/v1/customers/{P1}",
        "/api/v1/pool/customers?page_size=100",
        f"/api/v1/pool/customers?name={P1_NAME[:4]}",
        "/api/v1/contacts?page_size=100",
        "/api/v1/contacts?customer_id={P1}",
        "/api/v1/contacts/{PK}",
        "/api/v1/followups?customer_id={P1}",
        "/api/v1/followups/{PF}",
        "/api/v1/todo",
        "/api/v1/audit?page_size=100",
        "/api/v1/audit?object_type=customers.customer&object_id={P1}",
        "/api/v1/audit?object_type=customers.contact&object_id={PK}",
        "/api/v1/audit?object_type=customers.contact&page_size=100",
        "/api/v1/customers/export?tab=pool",
        "/api/v1/customers/export",
    ]
    urls += [Get(p, api=True) for p in api]
    urls.append(
        Get(
            "/api/v1/customers/duplicate-check",
            api=True,
            method="POST",
            json={"name": P1_NAME[:6]},
        )
    )
    return urls


URLS = _urls()


# --- the module's database ---------------------------------------------------------------------


def build_world() -> SimpleNamespace:
    from django.contrib.auth.models import Permission

    from kehu.customers.models import Customer
    from kehu.customers.services import contact_save, customer_create, customer_update
    from kehu.followups.services import followup_create
    from kehu.org.auth import issue_token
    from kehu.org.demo import DEMO_PASSWORD, seed
    from kehu.org.models import DataScope, Department, Role, User
    from kehu.pool.services import release_customers

    restore_reference_data()
    users = seed()
    role = Role.objects.create(code="sweep_viewadd", name="掩码查看新增", data_scope=DataScope.SELF)
    for name in VIEWADD_PERMS:
        app, codename = name.split(".")
        role.permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    viewadd = User.objects.create_user(
        username="viewadd",
        password=DEMO_PASSWORD,
        name="掩码查看新增员工",
        department=Department.objects.get(name="销售一部"),
    )
    viewadd.roles.add(role)
    users["viewadd"] = viewadd

    sales1 = users["sales1"]
    p1 = customer_create(
        actor=sales1,
        data={"name": P1_NAME, "contact_name": "王秘书", "contact_phone": PHONE_BEFORE},
        confirm_duplicates=True,
    )
    p1 = customer_update(
        actor=sales1,
        customer=p1,
        data={"contact_phone": PHONE},
        version=p1.version,
        partial=True,
        confirm_duplicates=True,
    )
    contact = {"name": "李掩码", "position": "采购经理", "gender": "male", "remark": ""}
    second = contact_save(
        actor=sales1,
        instance=None,
        data={**contact, "customer": p1.pk, "mobile": MOBILE_BEFORE, "email": EMAIL_BEFORE},
    )
    second = contact_save(
        actor=sales1, instance=second, data={**contact, "mobile": MOBILE, "email": EMAIL}
    )
    followup = followup_create(actor=sales1, customer=p1, data={"content": "掩码跟进：约下周拜访"})
    result = release_customers(actor=sales1, ids=[p1.pk], reason="掩码测试")
    assert result.done == [p1.pk], result.refused
    assert Customer.objects.get(pk=p1.pk).owner_id is None

    client = Client()
    clients: dict[tuple[str, bool], Client] = {}
    for username, user in users.items():
        client.cookies.clear()
        client.force_login(user)
        web = Client(raise_request_exception=False)
        web.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[
            settings.SESSION_COOKIE_NAME
        ].value
        clients[username, False] = web
        api = Client(raise_request_exception=False)
        api.defaults["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(user)}"
        clients[username, True] = api
    anonymous = Client(raise_request_exception=False)
    clients["anonymous", False] = clients["anonymous", True] = anonymous
    return SimpleNamespace(
        ids={"P1": p1.pk, "PK": second.pk, "PF": followup.pk}, clients=clients, users=users
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


# --- reading an answer -------------------------------------------------------------------------


def _xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells.extend(str(v) for v in row if v is not None)
    return "\n".join(cells)


def body_text(response) -> str:
    content = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    if content[:2] == b"PK":  # a spreadsheet (zip): what its cells say
        return _xlsx_text(content)
    text = content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        # JSON escapes non-ASCII text (\uXXXX): read it as the client would, too
        with contextlib.suppress(ValueError):
            text += "\n" + json.dumps(json.loads(text), ensure_ascii=False)
    return text


def leaks(text: str) -> list[str]:
    """The raw values found in ``text`` as typed, HTML- or URL-encoded, or with separators."""
    views = {text, html.unescape(text), unquote(text)}
    views |= {re.sub(r"[\s\-\u00a0\u3000.·()（）]", "", v) for v in list(views)}
    return sorted({raw for raw in RAW for v in views if raw in v})


def _request(world, role: str, get: Get):
    client = world.clients[role, get.api]
    path = get.path.format(**world.ids)
    headers = {"HTTP_HX_REQUEST": "true"} if get.htmx else {}
    if get.method == "POST":
        return client.post(path, get.json or {}, content_type="application/json", **headers)
    return client.get(path, **headers)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "index"),
    [pytest.param(role, i, id=f"{role} | {g.label}") for role in ROLES for i, g in enumerate(URLS)],
)
def test_no_raw_contact_data_of_a_pool_customer(world, role, index):
    get = URLS[index]
    response = _request(world, role, get)
    assert response.status_code < 500, f"{get.label} as {role}: {response.status_code}"
    found = leaks(body_text(response))
    assert not found, (
        f"{get.label} as {role} ({response.status_code}) shows raw contact data of the pool "
        f"customer: {found}"
    )


def test_the_sweep_looks_at_the_pool_customer(world):
    """The control: the outputs of the sweep do show P1 and its history, masked, so a raw value
    would be seen; and ``leaks`` finds values written with separators or encoded."""
    from kehu.audit.models import ChangeLog
    from kehu.customers.models import Contact, Customer

    p1 = Customer.objects.get(pk=world.ids["P1"])
    assert p1.contact_phone == PHONE and p1.owner_id is None
    assert Contact.objects.filter(customer=p1, mobile=MOBILE, email=EMAIL).exists()
    history = str(list(ChangeLog.objects.values_list("changes", flat=True)))
    assert all(raw in history for raw in RAW), "the change log should hold every raw value"

    def shown(role: str, path: str, *, api: bool = False) -> str:
        response = _request(world, role, Get(path, api=api))
        assert response.status_code == 200, (path, response.status_code)
        return body_text(response)

    page = shown("sales1", "/pool/")
    assert P1_NAME in page and "139****5678" in page
    contacts = shown("sales3", "/customers/{P1}/?tab=contacts")
    assert "139****4321" in contacts and "s***@example.com" in contacts
    assert "139****5678" in shown("sales1", "/api/v1/pool/customers", api=True)
    log = shown("sales1", "/api/v1/audit?object_type=customers.contact&object_id={PK}", api=True)
    assert "139****4321" in log
    export = shown("sales1", "/api/v1/customers/export?tab=pool", api=True)
    assert P1_NAME in export and "139****5678" in export
    assert leaks(f"tel: 139-1234-5678, {EMAIL.replace('@', '&#64;')}") == sorted([EMAIL, PHONE])
    assert leaks("secret%40example.com 139 8765 4321") == sorted([EMAIL, MOBILE])


ORACLE_SEARCHES = [
    Get("/pool/?phone={x}"),
    Get("/pool/?q={x}"),
    Get("/pool/?q={x}", htmx=True),
    Get("/api/v1/pool/customers?q={x}", api=True),
    Get("/api/v1/pool/customers?phone={x}", api=True),
    Get("/customers/?phone={x}"),
    Get("/api/v1/customers?phone={x}", api=True),
    Get("/api/v1/customers?q={x}", api=True),
    Get("/contacts/?q={x}"),
    Get("/api/v1/contacts?q={x}", api=True),
]


@pytest.mark.parametrize("raw", [PHONE, MOBILE, EMAIL])
@pytest.mark.parametrize("role", ["admin", "sales3"])
@pytest.mark.parametrize(
    "index", range(len(ORACLE_SEARCHES)), ids=[g.label for g in ORACLE_SEARCHES]
)
def test_searching_by_a_masked_value_is_no_oracle(world, role, index, raw):
    """SPEC §3: masked fields are not searchable by their raw value — searching for P1's real
    phone, mobile or email answers exactly as searching for a value nobody has (only 查重 may
    say that a phone exists, with its limited answer)."""
    search = ORACLE_SEARCHES[index]
    decoy = "13900000999" if raw != EMAIL else "nobody@example.com"

    def ask(value: str) -> tuple[int, bool]:
        response = _request(world, role, Get(search.path.replace("{x}", value), search.api))
        assert response.status_code < 500, (search.label, response.status_code)
        return response.status_code, P1_NAME in body_text(response)

    assert ask(raw) == ask(decoy), f"{search.label} as {role} tells whether P1 has {raw}"
