"""Access control as a structure: every route × every role (SPEC §1, §10, §12.2, §13 "who may act").

MATRIX: 288 routes (156 web routes + 132 API operations) × 9 roles
= 2592 route × role pairs, run as 524 request cases (a route's GET and POST, and the
"own object" variants below) × 9 roles = 4716 tests.

The routes are enumerated, not listed by hand: every named URL of ``django.urls.get_resolver()``
(walked recursively) and every (method, path) of ``kehu.api.api.get_openapi_schema()``. Each one
needs an entry in the ONE table ``EXPECTED`` below — a route without one fails
``test_every_route_has_an_expectation`` (by name) — or a line in ``SKIPPED`` saying why not.

An entry gives the request (method, sample URL kwargs, query, body) and the ``Rule`` that
decides who may make it: the permission(s) needed, the sample object it acts on (a name of
``OBJECTS``: C1 is sales1's customer shared with sales2, P1 a pool customer, V1 viewadd's own
customer …), how the object is named (URL, query, body, batch) and whether it must be the
actor's to manage (owner within the actor's data scope) or only visible. The expected answer of
each role is derived from that rule and from two small declarative tables (``SCOPE``: whose
records each role's data scope covers; ``OBJECTS``: who owns what), never from the code under
test — only the roles' permission sets are read from the database (``kehu/org/roles.py``):

- anonymous → web: 302 to /accounts/login/; API: 401 (public routes excepted);
- lacking a permission → 403 (checked before visibility: a refusal that reveals nothing);
- object named in the URL or query but not visible → 404; visible but not manageable → 403;
- object named in the body: not visible → 400 or 404 (bad input that reveals nothing), visible
  but not manageable → 403;
- object named in a batch: → 200 with the object refused (SPEC §10 batch answers);
- allowed → 2xx/3xx (a write may also answer 400) — never 401/403/404/500, never the login page.

Every refused write (anything but GET) must also change nothing: the rows of the customer,
contact, follow-up, lead, 商机, share, attachment, import, pool, organisation, dictionary,
product and document tables (报价单, 合同, 回款, 回款计划, their line items, approval records and
steps, issued numbers), the 回收站 entries and the change log are compared before and after.

Documents (SPEC §6, §13): Q1/T1/Y1/N1 are sales1's drafts of C1 (TA its approved contract),
QP/TP/YP pending approval, QA/TV/YA approved. 审批/驳回 need, besides the permission, the
approver of the current step: their rules say ``manage="approver"`` and ``OBJECTS`` names the
approvers (quotes and contracts: sales1's department leader manager1; payments: the role 财务,
finance1), an admin approving any step.

After-sales (SPEC §6.2): CS is sales1's customer shared with service1 (售后, scope self, sees
the customers shared with it), VC its vehicle, RD/MD its 维修/保养订单 awaiting dispatch and
RA/MA awaiting acceptance. On these the permission and a visible customer decide (no
management of the customer: ``Documents(manage=False)``); 派工 and 取消 need the change
permission, 验收 the accept permission and either the customer's management or the after-sales
team (``manage="after_sales"``, ``AFTER_SALES``). Their tables are in the fingerprint too.

Roles: admin; manager1 (销售经理, scope 销售部 and below); sales1 (owner of the samples); sales2
(业务员, C1 is shared with them: sees it, manages nothing of it); sales3 (业务员 of 销售二部: sees
nothing of sales1's); service1 (售后, scope self); finance1 (财务, scope all, view permissions
only, plus 审批 and 作废); viewadd (a custom role, scope self, only the view and add permissions
of customers, contacts, follow-ups, leads, 商机 and the four documents — it owns V1/VK/VF/VO/VL
and VQ/VT/VTA/VY/VN, so "manages it but lacks the change/delete/share permission" is tested
too); anonymous.

The database is built once for the module (inside one transaction rolled back at the end); each
test runs in a savepoint, so a write never leaks into the next test.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from enum import Enum
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse

from kehu.core.testing import restore_reference_data

pytestmark = pytest.mark.django_db

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

# Whose records each role's data scope covers (SPEC §1); None: everybody's. viewadd is a member of
# 销售一部, so manager1 (销售部 and below) covers it.
SCOPE: dict[str, set[str] | None] = {
    "admin": None,
    "finance1": None,
    "manager1": {"manager1", "sales1", "sales2", "sales3", "viewadd"},
    "sales1": {"sales1"},
    "sales2": {"sales2"},
    "sales3": {"sales3"},
    "service1": {"service1"},
    "viewadd": {"viewadd"},
}


@dataclass(frozen=True)
class Obj:
    """A sample object: who owns it (None: a pool customer), the customer it hangs on (whose
    shares make it visible), who shared it, who wrote it, or "only its creator" (import jobs)
    or "a settings row" (the permission alone decides); for a document pending approval, the
    approvers of its current step (an admin may approve any step)."""

    owner: str | None = None
    customer: str | None = None
    shared_with: tuple[str, ...] = ()
    author: str | None = None
    creator_only: str | None = None
    setting: bool = False
    approvers: tuple[str, ...] = ()


OBJECTS: dict[str, Obj] = {
    "C1": Obj(owner="sales1", shared_with=("sales2",)),
    "C3": Obj(owner="sales1"),
    "K1": Obj(owner="sales1", customer="C1"),  # a second contact of C1
    "F1": Obj(owner="sales1", customer="C1", author="sales1"),
    "O1": Obj(owner="sales1", customer="C1"),
    "A1": Obj(owner="sales1", customer="C1"),  # an attachment of C1
    "L1": Obj(owner="sales1"),
    "P1": Obj(owner=None),  # in the default pool, released by sales2
    "V1": Obj(owner="viewadd"),
    "VK": Obj(owner="viewadd", customer="V1"),
    "VF": Obj(owner="viewadd", customer="V1", author="viewadd"),
    "VO": Obj(owner="viewadd", customer="V1"),
    "VL": Obj(owner="viewadd"),
    # 报价单 (Q), 合同 (T), 回款 (Y), 回款计划 (N) of C1: a document follows its customer (SPEC
    # §1), so sales2 sees them through C1's share. …1: 未申请; …P: 待审批 at the first step, whose
    # approver is named here (quotes and contracts: the submitter sales1's department leader —
    # 销售一部 has none, so 销售部's manager1; payments: the role 财务, which finance1 holds);
    # …A: 审批通过. TA carries Y1, YP, YA and N1; TV has no payments (its 作废 is not refused).
    "Q1": Obj(owner="sales1", customer="C1"),
    "QP": Obj(owner="sales1", customer="C1", approvers=("manager1",)),
    "QA": Obj(owner="sales1", customer="C1"),
    "T1": Obj(owner="sales1", customer="C1"),
    "TP": Obj(owner="sales1", customer="C1", approvers=("manager1",)),
    "TA": Obj(owner="sales1", customer="C1"),
    "TV": Obj(owner="sales1", customer="C1"),
    "Y1": Obj(owner="sales1", customer="C1"),
    "YP": Obj(owner="sales1", customer="C1", approvers=("finance1",)),
    "YA": Obj(owner="sales1", customer="C1"),
    "N1": Obj(owner="sales1", customer="C1"),
    # viewadd's own documents of V1 (VTA approved by admin; VY and VN on it)
    "VQ": Obj(owner="viewadd", customer="V1"),
    "VT": Obj(owner="viewadd", customer="V1"),
    "VTA": Obj(owner="viewadd", customer="V1"),
    "VY": Obj(owner="viewadd", customer="V1"),
    "VN": Obj(owner="viewadd", customer="V1"),
    # 售后 (SPEC §6.2): CS is sales1's customer shared with service1 (售后 sees the customers
    # shared with it); VC its vehicle, RD/MD its 维修/保养订单 awaiting dispatch, RA/MA awaiting
    # acceptance. After-sales documents need the permission and a visible customer, not its
    # management (kehu.org.authz.is_owned); 验收 also the customer's management or the
    # after-sales team (``manage="after_sales"``).
    "CS": Obj(owner="sales1", shared_with=("service1",)),
    "VC": Obj(owner="sales1", customer="CS"),
    "RD": Obj(owner="sales1", customer="CS"),
    "RA": Obj(owner="sales1", customer="CS"),
    "MD": Obj(owner="sales1", customer="CS"),
    "MA": Obj(owner="sales1", customer="CS"),
    # RW: CS's 维修订单 awaiting payment (待支付), with its 挂账订单: GD 挂账中 (voucher uploaded),
    # GP 支付审批 (approver: the role 财务), GA 已付款 (approved, part of the amount)
    "RW": Obj(owner="sales1", customer="CS"),
    "GD": Obj(owner="sales1", customer="CS"),
    "GP": Obj(owner="sales1", customer="CS", approvers=("finance1",)),
    "GA": Obj(owner="sales1", customer="CS"),
    # TS: CS's approved 整车 contract with 3 vehicles on its line (生成车辆)
    "TS": Obj(owner="sales1", customer="CS"),
    "J1": Obj(creator_only="sales1"),  # sales1's import job (in preview)
    "BJ": Obj(creator_only="sales1"),  # sales1's 全部符合条件的记录 batch job (finished)
    # sales1's deleted customer in the 回收站 (SPEC §13): seen and restored within the data
    # scope of its owner; not shared (an entry follows its customer's owner only)
    "R1": Obj(owner="sales1"),
    "SPARE_USER": Obj(setting=True),
    "SPARE_DEPT": Obj(setting=True),
    "SPARE_ROLE": Obj(setting=True),
    "SPARE_ENTRY": Obj(setting=True),
    "SPARE_PRODUCT": Obj(setting=True),
    "SPARE_STEP": Obj(setting=True),
    "POOL2": Obj(setting=True),
}

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
    "sales.view_quote",
    "sales.add_quote",
    "sales.view_contract",
    "sales.add_contract",
    "sales.view_payment",
    "sales.add_payment",
    "sales.view_paymentplan",
    "sales.add_paymentplan",
]


# --- the declarative table -------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A sample object's primary key (or another attribute, read when the request is made)."""

    name: str
    attr: str = "pk"


@dataclass(frozen=True)
class UserRef:
    username: str  # "@actor": the requesting user (sales1 for anonymous)


ACTOR = UserRef("@actor")


@dataclass(frozen=True)
class TokenRef:
    """The id of the requesting role's own API token (sales1's for anonymous)."""


OWN_TOKEN = TokenRef()


@dataclass(frozen=True)
class Upload:
    kind: str  # "pdf" | "xlsx"


@dataclass(frozen=True)
class Rule:
    """Who may: all of ``perm`` (None: any signed-in user; ``public``: anybody), and, when
    ``object`` is given, that object visible — and manageable when ``manage`` (True: owner within
    the actor's scope; "author": its author or an admin; "approver": the approver of its current
    approval step or an admin; "after_sales": within the actor's scope or the actor one of
    ``AFTER_SALES``). ``via`` says where the request names
    the object: "url"/"query" (hidden → 404), "body" (hidden → 400/404), "batch" (→ 200 with
    the object refused)."""

    perm: str | tuple[str, ...] | None = None
    object: str | None = None
    via: str = "url"
    manage: bool | str = False
    public: bool = False

    @property
    def perms(self) -> tuple[str, ...]:
        if self.perm is None:
            return ()
        return (self.perm,) if isinstance(self.perm, str) else self.perm


@dataclass(frozen=True)
class Case:
    rule: Rule
    method: str = "GET"
    kwargs: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    multipart: bool = False
    label: str = ""


def pk(name: str) -> dict[str, Ref]:
    return {"pk": Ref(name)}


def get(rule: Rule, **kw) -> Case:
    return Case(rule, "GET", **kw)


def post(rule: Rule, **kw) -> Case:
    return Case(rule, "POST", **kw)


def call(method: str, rule: Rule, **kw) -> Case:
    return Case(rule, method, **kw)


SIGNED_IN = Rule()
PUBLIC = Rule(public=True)


def own(perm, obj: str, *, via: str = "url") -> Rule:
    """The object must be visible and the actor's to manage."""
    return Rule(perm, obj, via, manage=True)


def seen(perm, obj: str, *, via: str = "url") -> Rule:
    """The object must be visible."""
    return Rule(perm, obj, via)


def setting(perm: str, obj: str | None = None) -> Rule:
    return Rule(perm, obj)


XLSX_IMPORT = {
    "file": Upload("xlsx"),
    "target": "users",
    "users": [ACTOR],
    "allocation": "even",
    "on_duplicate": "skip",
}
CUSTOMER_FORM = {
    "name": "矩阵新客户有限公司",
    "contact_name": "矩阵联系人",
    "contact_phone": "13700000091",
}


def customer_edit_form(name: str) -> dict[str, Any]:
    return {
        "name": Ref(name, "name"),
        "contact_name": Ref(name, "contact_name"),
        "contact_phone": Ref(name, "contact_phone"),
        "version": Ref(name, "version"),
        "remark": "矩阵修改",
    }


def contact_form(customer: str) -> dict[str, Any]:
    return {
        "customer": Ref(customer),
        "name": "矩阵丙",
        "mobile": "13700000093",
        "gender": "unknown",
    }


def opportunity_form(customer: str) -> dict[str, Any]:
    return {"customer": Ref(customer), "name": "矩阵商机改", "status": "open"}


POOL_FORM = {
    "no_followup_days": "30",
    "not_won_days": "0",
    "level_days": "{}",
    "remind_days": "3",
    "max_owned": "0",
    "daily_claim_limit": "0",
    "reclaim_cooldown_days": "0",
    "lock_limit": "0",
}
LEAD_FORM = {"name": "矩阵新线索", "contact_name": "线索人", "contact_phone": "13700000094"}
PRODUCT_FORM = {
    "name": "矩阵新叉车",
    "category": "vehicle",
    "spec": "MX35",
    "unit": "台",
    "list_price": "100000",
    "is_active": "on",
}


def _get_post(rule: Rule, obj: str, data: dict[str, Any] | None = None) -> tuple[Case, ...]:
    return (
        get(rule, kwargs=pk(obj), label=f"GET {obj}"),
        post(rule, kwargs=pk(obj), data=data or {}, label=f"POST {obj}"),
    )


# --- 报价单, 合同, 回款, 回款计划: one declaration each (kehu/sales/documents.py), so one builder ---

NO_ITEMS = {"items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"}  # the line-item formset


def quote_form(customer: str) -> dict[str, Any]:
    return {
        "customer": Ref(customer),
        "amount": "50000",
        "quoted_at": "2026-11-01T10:00",
        "remark": "矩阵报价",
        **NO_ITEMS,
    }


def contract_form(customer: str) -> dict[str, Any]:
    return {
        "customer": Ref(customer),
        "name": "矩阵新合同",
        "kind": "vehicle",
        "amount": "100000",
        **NO_ITEMS,
    }


def payment_form(contract: str) -> dict[str, Any]:
    return {"contract": Ref(contract), "amount": "1000", "paid_at": "2026-11-01"}


def plan_form(contract: str) -> dict[str, Any]:
    return {
        "contract": Ref(contract),
        "instalment": "2",
        "amount": "1000",
        "due_at": "2030-06-30",
        "remind_days": "3",
    }


@dataclass(frozen=True)
class Documents:
    """One document type's samples (``OBJECTS``) and inputs. ``draft`` (未申请) is read, edited,
    deleted, attached to and submitted, ``pending`` (待审批) withdrawn, approved and rejected,
    ``approved`` voided; ``own_draft`` is viewadd's (it manages it without the change/delete
    permission). A new one names ``parent`` — the customer, or the approved contract of a
    payment or plan — and viewadd's own ``own_parent``."""

    url_name: str  # also the model: sales.<action>_<url_name>
    api_path: str
    parent: str
    own_parent: str
    draft: str
    own_draft: str
    form: Any  # (parent) → the page's add/edit form
    api_body: Any  # (parent) → the API's create body
    pending: str | None = None  # None: no approval (回款计划)
    approved: str | None = None
    app: str = "sales"
    # False: the permission and a visible customer decide (the after-sales documents)
    manage: bool = True

    def perm(self, action: str) -> str:
        return f"{self.app}.{action}_{self.url_name}"

    def own(self, perm, obj: str, *, via: str = "url") -> Rule:
        return Rule(perm, obj, via, manage=self.manage)

    def samples(self) -> tuple[tuple[str, str], ...]:
        both = ((self.draft, self.parent), (self.own_draft, self.own_parent))
        return tuple((doc, parent) for doc, parent in both if doc is not None)

    def approval_cases(self) -> list[tuple[str, str, Rule, str]]:
        """(action, object, rule, comment): 提交/撤回 change the document (its customer theirs to
        manage), 审批/驳回 need the approver of the current step, 作废 the permission alone."""
        view, change = self.perm("view"), self.perm("change")
        approver = Rule((view, f"{self.app}.approve_document"), self.pending, manage="approver")
        void = seen((view, f"{self.app}.void_document"), self.approved)
        cases = [
            ("submit", self.draft, self.own((view, change), self.draft), ""),
            ("submit", self.own_draft, self.own((view, change), self.own_draft), ""),
            ("withdraw", self.pending, self.own((view, change), self.pending), ""),
            ("approve", self.pending, approver, "矩阵同意"),
            ("reject", self.pending, approver, "矩阵驳回"),
            ("void", self.approved, void, "矩阵作废"),
        ]
        return [case for case in cases if case[1] is not None]

    def pages(self) -> dict[str, Case | tuple[Case, ...]]:
        n = self.url_name
        entries: dict[str, Case | tuple[Case, ...]] = {
            f"{n}_list": get(Rule(self.perm("view"))),
            f"{n}_add": (
                get(Rule(self.perm("add"))),
                *(
                    post(
                        self.own(self.perm("add"), parent, via="body"),
                        data=self.form(parent),
                        label=f"POST {parent}",
                    )
                    for _doc, parent in self.samples()
                ),
            ),
            f"{n}_detail": get(seen(self.perm("view"), self.draft), kwargs=pk(self.draft)),
            f"{n}_edit": tuple(
                case
                for doc, parent in self.samples()
                for case in _get_post(self.own(self.perm("change"), doc), doc, self.form(parent))
            ),
            f"{n}_delete": tuple(
                case
                for doc, _parent in self.samples()
                for case in _get_post(self.own(self.perm("delete"), doc), doc)
            ),
            f"{n}_bulk_delete": tuple(
                post(
                    Rule(self.perm("delete"), doc, "batch", manage=self.manage),
                    data={"pk": [Ref(doc)]},
                    label=f"POST {doc}",
                )
                for doc, _parent in self.samples()
            ),
            # an attachment changes the document (POST only: the upload is on its page)
            f"{n}_attach": tuple(
                post(
                    self.own(self.perm("change"), doc),
                    kwargs=pk(doc),
                    data={"attachments": Upload("pdf")},
                    label=f"POST {doc}",
                )
                for doc, _parent in self.samples()
            ),
        }
        if self.pending:
            # the modal (GET) opens for whoever may act, the POST acts
            entries[f"{n}_action"] = tuple(
                case
                for action, doc, rule, comment in self.approval_cases()
                for case in (
                    get(
                        rule,
                        kwargs={"pk": Ref(doc), "name": action},
                        label=f"GET {action} {doc}",
                    ),
                    post(
                        rule,
                        kwargs={"pk": Ref(doc), "name": action},
                        data={"comment": comment},
                        label=f"POST {action} {doc}",
                    ),
                )
            )
        return entries

    def api(self) -> dict[tuple[str, str], Case | tuple[Case, ...]]:
        base = f"/api/v1/{self.api_path}"
        one = base + "/{doc_id}"
        entries: dict[tuple[str, str], Case | tuple[Case, ...]] = {
            ("GET", base): get(Rule(self.perm("view"))),
            ("POST", base): tuple(
                post(
                    self.own(self.perm("add"), parent, via="body"),
                    data=self.api_body(parent),
                    label=parent,
                )
                for _doc, parent in self.samples()
            ),
            ("GET", one): get(
                seen(self.perm("view"), self.draft), kwargs={"doc_id": Ref(self.draft)}
            ),
            ("PATCH", one): tuple(
                call(
                    "PATCH",
                    self.own(self.perm("change"), doc),
                    kwargs={"doc_id": Ref(doc)},
                    data={"remark": "矩阵修改"},
                    label=doc,
                )
                for doc, _parent in self.samples()
            ),
            ("DELETE", one): tuple(
                call(
                    "DELETE",
                    self.own(self.perm("delete"), doc),
                    kwargs={"doc_id": Ref(doc)},
                    label=doc,
                )
                for doc, _parent in self.samples()
            ),
        }
        if self.pending:
            actions: dict[str, list[Case]] = {}
            for action, doc, rule, comment in self.approval_cases():
                actions.setdefault(action, []).append(
                    post(rule, kwargs={"doc_id": Ref(doc)}, data={"comment": comment}, label=doc)
                )
            for action, cases in actions.items():
                entries["POST", f"{one}/{action}"] = tuple(cases) if len(cases) > 1 else cases[0]
            entries["GET", f"{one}/approvals"] = get(
                seen(self.perm("view"), self.pending), kwargs={"doc_id": Ref(self.pending)}
            )
        return entries


DOCUMENTS = [
    Documents(
        "quote",
        "quotes",
        "C1",
        "V1",
        "Q1",
        "VQ",
        quote_form,
        lambda c: {"customer_id": Ref(c), "amount": "50000", "remark": "矩阵API报价"},
        pending="QP",
        approved="QA",
    ),
    Documents(
        "contract",
        "contracts",
        "C1",
        "V1",
        "T1",
        "VT",
        contract_form,
        lambda c: {"customer_id": Ref(c), "name": "矩阵API合同", "amount": "100000"},
        pending="TP",
        approved="TV",
    ),
    Documents(
        "payment",
        "payments",
        "TA",
        "VTA",
        "Y1",
        "VY",
        payment_form,
        lambda t: {"contract_id": Ref(t), "amount": "1000"},
        pending="YP",
        approved="YA",
    ),
    Documents(
        "paymentplan",
        "payment-plans",
        "TA",
        "VTA",
        "N1",
        "VN",
        plan_form,
        lambda t: {"contract_id": Ref(t), "amount": "1000", "due_at": "2030-06-30"},
    ),
]


# --- 客户车辆, 维修订单, 保养订单 (kehu/aftersales): the same builder, no approval, no viewadd
# sample (it holds no after-sales permission); the permission and a visible customer decide.

# Roles holding the after-sales change permissions: 验收 needs no management of the customer.
AFTER_SALES = {"service1"}


def vehicle_form(customer: str) -> dict[str, Any]:
    return {
        "customer": Ref(customer),
        "name": "矩阵叉车",
        "spec": "3吨",
        "maintenance_interval_days": "90",
    }


def service_order_form(customer: str) -> dict[str, Any]:
    return {
        "customer": Ref(customer),
        "order_kind": "enterprise",
        "service_mode": "onsite",
        "reason": "矩阵维修",
        "amount": "160",
        **NO_ITEMS,
    }


DOCUMENTS += [
    Documents(
        "vehicle",
        "vehicles",
        "CS",
        None,
        "VC",
        None,
        vehicle_form,
        lambda c: {"customer_id": Ref(c), "name": "矩阵API叉车"},
        app="aftersales",
        manage=False,
    ),
    *(
        Documents(
            url_name,
            api_path,
            "CS",
            None,
            draft,
            None,
            service_order_form,
            lambda c: {"customer_id": Ref(c), "amount": "160.00", "reason": "矩阵API"},
            app="aftersales",
            manage=False,
        )
        for url_name, api_path, draft in (
            ("repairorder", "repair-orders", "RD"),
            ("maintenanceorder", "maintenance-orders", "MD"),
        )
    ),
]


def onaccount_form(order: str) -> dict[str, Any]:
    return {"service_order": Ref(order, "choice_key"), "amount": "10", "remark": "矩阵挂账"}


# 挂账订单 (SPEC §6.2): on RW, approved by 财务; the permission and a visible customer decide
DOCUMENTS.append(
    Documents(
        "onaccountorder",
        "on-account-orders",
        "RW",
        None,
        "GD",
        None,
        onaccount_form,
        lambda o: {"repair_order_id": Ref(o), "amount": "10.00"},
        pending="GP",
        approved="GA",
        app="aftersales",
        manage=False,
    )
)
# 生成车辆 from an approved contract: see it (sales.view_contract) and add vehicles
VEHICLES_FROM_CONTRACT = seen(("sales.view_contract", "aftersales.add_vehicle"), "TS")
ON_ACCOUNT_CANCEL = Rule(
    ("aftersales.view_onaccountorder", "aftersales.change_onaccountorder"), "GD"
)
DOCUMENT_PAGES = {k: v for d in DOCUMENTS for k, v in d.pages().items()}
DOCUMENT_API = {k: v for d in DOCUMENTS for k, v in d.api().items()}


def transition_cases(url_name: str, api_path: str, draft: str, awaiting: str):
    """派工 and 取消 of the order awaiting dispatch (view + change), 验收 of the one awaiting
    acceptance (view + accept, and the customer's management or the after-sales team): the
    modal (GET) and the step (POST) on the page, the step in the API."""
    view, change, accept = (f"aftersales.{a}_{url_name}" for a in ("view", "change", "accept"))
    steps = [
        ("派工", draft, "in_progress", Rule((view, change), draft), {"assignee": ACTOR}),
        ("取消", draft, "cancelled", Rule((view, change), draft), {"reason": "矩阵取消"}),
        (
            "验收",
            awaiting,
            "awaiting_payment",
            Rule((view, accept), awaiting, manage="after_sales"),
            {},
        ),
    ]
    page = tuple(
        case
        for label, doc, to, rule, form in steps
        for case in (
            get(rule, kwargs={"pk": Ref(doc), "to": to}, label=f"GET {label} {doc}"),
            post(rule, kwargs={"pk": Ref(doc), "to": to}, data=form, label=f"POST {label} {doc}"),
        )
    )
    api = tuple(
        post(
            rule,
            kwargs={"doc_id": Ref(doc)},
            data={
                "to": to,
                **{("assignee_id" if k == "assignee" else k): v for k, v in form.items()},
            },
            label=f"{label} {doc}",
        )
        for label, doc, to, rule, form in steps
    )
    return (
        {f"{url_name}_transition": page},
        {("POST", f"/api/v1/{api_path}/{{doc_id}}/transition"): api},
    )


TRANSITION_PAGES: dict[str | tuple[str, str], Case | tuple[Case, ...]] = {}
TRANSITION_API: dict[str | tuple[str, str], Case | tuple[Case, ...]] = {}
for _args in (
    ("repairorder", "repair-orders", "RD", "RA"),
    ("maintenanceorder", "maintenance-orders", "MD", "MA"),
):
    _page, _api = transition_cases(*_args)
    TRANSITION_PAGES.update(_page)
    TRANSITION_API.update(_api)
TO_CONTRACT = ("sales.view_quote", "sales.add_contract")
RECYCLE_RESTORE = ("recyclebin.view_recycleentry", "recyclebin.restore_recycleentry")


EXPECTED: dict[str | tuple[str, str], Case | tuple[Case, ...]] = {
    # --- pages for every signed-in user ---
    "dashboard": get(SIGNED_IN),
    "todo": get(SIGNED_IN),
    "todo_count": get(SIGNED_IN),  # the 通知代办 badge's count, loaded after the page
    "customer_duplicate_check": get(SIGNED_IN, query={"name": "矩阵客户甲"}),
    "import_template": get(SIGNED_IN),
    # 列: the signed-in user's own choice of a list's columns (issue 14.1)
    "list_columns": (
        get(SIGNED_IN, kwargs={"table": "customers.customertable"}),
        post(
            SIGNED_IN,
            kwargs={"table": "customers.customertable"},
            data={"shown": ["id", "owner", "receivable_total"]},
        ),
    ),
    "api:openapi-json": get(PUBLIC),
    "api:openapi-view": get(PUBLIC),
    # --- settings (系统设置): permissions only admins hold ---
    "settings": get(setting("org.view_user")),
    "user_list": get(setting("org.view_user")),
    "user_add": (
        get(setting("org.add_user")),
        post(
            setting("org.add_user"),
            data={
                "username": "matrix_new",
                "name": "矩阵新员工",
                "password": "Matrix-Pass-2026",
                "is_active": "on",
            },
        ),
    ),
    "user_edit": _get_post(
        setting("org.change_user", "SPARE_USER"),
        "SPARE_USER",
        {"username": "matrix_leaver", "name": "矩阵改名", "is_active": "on"},
    ),
    "user_handover": _get_post(
        setting("org.change_user", "SPARE_USER"), "SPARE_USER", {"successor": UserRef("sales2")}
    ),
    "user_revoke_tokens": _get_post(setting("org.change_user", "SPARE_USER"), "SPARE_USER"),
    # --- the signed-in user's own account pages: own tokens only (another's answers 404) ---
    "token_list": get(SIGNED_IN),
    "token_revoke": (
        get(SIGNED_IN, kwargs={"pk": OWN_TOKEN}, label="GET own"),
        post(SIGNED_IN, kwargs={"pk": OWN_TOKEN}, label="POST own"),
    ),
    "password_change": (
        get(SIGNED_IN),
        post(
            SIGNED_IN,
            data={"old_password": "wrong-password", "new_password1": "x", "new_password2": "y"},
        ),
    ),
    "department_list": get(setting("org.view_department")),
    "department_add": (
        get(setting("org.add_department")),
        post(setting("org.add_department"), data={"name": "矩阵新部门", "sort": "9"}),
    ),
    "department_edit": _get_post(
        setting("org.change_department", "SPARE_DEPT"),
        "SPARE_DEPT",
        {"name": "矩阵测试部改", "sort": "8"},
    ),
    "department_delete": _get_post(setting("org.delete_department", "SPARE_DEPT"), "SPARE_DEPT"),
    "role_list": get(setting("org.view_role")),
    "role_add": (
        get(setting("org.add_role")),
        post(
            setting("org.add_role"),
            data={"name": "矩阵新角色", "code": "matrix_new", "data_scope": "self"},
        ),
    ),
    "role_edit": _get_post(
        setting("org.change_role", "SPARE_ROLE"),
        "SPARE_ROLE",
        {"name": "矩阵备用角色改", "code": "matrix_spare", "data_scope": "all"},
    ),
    "role_delete": _get_post(setting("org.delete_role", "SPARE_ROLE"), "SPARE_ROLE"),
    "dictentry_list": get(setting("basics.view_dictentry")),
    "dictentry_add": (
        get(setting("basics.add_dictentry")),
        post(
            setting("basics.add_dictentry"),
            data={"kind": "tags", "name": "矩阵新标签", "sort": "1", "is_active": "on"},
        ),
    ),
    "dictentry_edit": _get_post(
        setting("basics.change_dictentry", "SPARE_ENTRY"),
        "SPARE_ENTRY",
        {"kind": "tags", "name": "矩阵标签改", "sort": "2", "is_active": "on"},
    ),
    "dictentry_delete": _get_post(setting("basics.delete_dictentry", "SPARE_ENTRY"), "SPARE_ENTRY"),
    # 产品: read by sales and finance (the list, the line items' picker), kept by admins
    "product_list": get(setting("basics.view_product")),
    "product_picker": get(setting("basics.view_product"), query={"q": "矩阵"}),
    "product_add": (
        get(setting("basics.add_product")),
        post(setting("basics.add_product"), data=PRODUCT_FORM),
    ),
    "product_edit": _get_post(
        setting("basics.change_product", "SPARE_PRODUCT"),
        "SPARE_PRODUCT",
        {**PRODUCT_FORM, "name": "矩阵叉车改"},
    ),
    "product_delete": _get_post(setting("basics.delete_product", "SPARE_PRODUCT"), "SPARE_PRODUCT"),
    # 审批流程: admins configure the steps of each document type
    "approvalstep_list": get(setting("documents.view_approvalstep")),
    "approvalstep_add": (
        get(setting("documents.add_approvalstep")),
        post(
            setting("documents.add_approvalstep"),
            data={"doc_type": "contract", "order": "5", "approver_kind": "leader"},
        ),
    ),
    "approvalstep_edit": _get_post(
        setting("documents.change_approvalstep", "SPARE_STEP"),
        "SPARE_STEP",
        {"doc_type": "quote", "order": "1", "approver_kind": "leader"},
    ),
    "approvalstep_delete": _get_post(
        setting("documents.delete_approvalstep", "SPARE_STEP"), "SPARE_STEP"
    ),
    "poolrule_list": get(setting("pool.view_pool")),
    "poolrule_add": (
        get(setting("pool.add_pool")),
        post(setting("pool.add_pool"), data={"name": "矩阵新公海", **POOL_FORM}),
    ),
    "poolrule_edit": _get_post(
        setting("pool.change_pool", "POOL2"), "POOL2", {"name": "矩阵公海二改", **POOL_FORM}
    ),
    "pool_move": (
        get(setting("pool.change_pool"), query={"pk": Ref("P1")}),
        post(
            Rule("pool.change_pool", "P1", "batch"),
            data={"pk": [Ref("P1")], "confirm": "1", "pool": Ref("POOL2")},
        ),
    ),
    "audit_list": get(setting("audit.view_changelog")),
    # --- 回收站: the owner's scope restores, admins also 彻底删除 ---
    "recyclebin_list": get(Rule("recyclebin.view_recycleentry")),
    "recyclebin_restore": _get_post(own(RECYCLE_RESTORE, "R1"), "R1"),
    "recyclebin_delete": _get_post(
        own(("recyclebin.view_recycleentry", "recyclebin.delete_recycleentry"), "R1"), "R1"
    ),
    # --- customers ---
    "customer_list": get(Rule("customers.view_customer")),
    "customer_add": (
        get(Rule("customers.add_customer")),
        post(Rule("customers.add_customer"), data=CUSTOMER_FORM),
    ),
    "customer_detail": (
        get(seen("customers.view_customer", "C1"), kwargs=pk("C1"), label="C1"),
        # SPEC §13: a pool customer's page opens (masked, read-only) for whoever sees the pool
        get(seen("customers.view_customer", "P1"), kwargs=pk("P1"), label="P1"),
    ),
    # 客户画像: one tab over HTMX (日志: no permission of its own), 同比增幅, the 附件 tab's upload
    "customer_tab": tuple(
        get(
            seen("customers.view_customer", name),
            kwargs={"pk": Ref(name), "key": "log"},
            label=name,
        )
        for name in ("C1", "P1")
    ),
    "customer_yoy": tuple(
        get(seen("customers.view_customer", name), kwargs=pk(name), label=name)
        for name in ("C1", "P1")
    ),
    "customer_attachment_upload": tuple(
        post(
            own("customers.change_customer", name),
            kwargs=pk(name),
            data={"files": Upload("pdf")},
            multipart=True,
            label=name,
        )
        for name in ("C1", "V1")
    ),
    "customer_edit": (
        *_get_post(own("customers.change_customer", "C1"), "C1", customer_edit_form("C1")),
        *_get_post(own("customers.change_customer", "V1"), "V1", customer_edit_form("V1")),
    ),
    "customer_delete": (
        *_get_post(own("customers.delete_customer", "C1"), "C1"),
        *_get_post(own("customers.delete_customer", "V1"), "V1"),
    ),
    "customer_bulk_delete": post(
        Rule("customers.delete_customer", "C1", "batch", manage=True), data={"pk": [Ref("C1")]}
    ),
    # 全部符合条件的记录 (a background job): the permission decides; nothing matches → 400
    "customer_bulk_delete_matching": post(
        Rule("customers.delete_customer"), data={"tab": "all", "name": "矩阵无此客户"}
    ),
    "batch_job": get(seen(None, "BJ"), kwargs=pk("BJ")),
    "customer_share": (
        *_get_post(own("customers.share_customer", "C1"), "C1", {"users": [UserRef("sales3")]}),
        *_get_post(own("customers.share_customer", "V1"), "V1", {"users": [UserRef("sales3")]}),
    ),
    "customer_lock": (
        *(
            post(
                own("customers.change_customer", name),
                kwargs=pk(name),
                data={"locked": "1"},
                label=f"POST {name}",
            )
            for name in ("C1", "V1")
        ),
    ),
    "customer_release": (
        get(Rule("customers.release_customer"), query={"pk": Ref("C1")}),
        post(
            Rule("customers.release_customer", "C1", "batch", manage=True),
            data={"pk": [Ref("C1")], "confirm": "1", "reason": "矩阵"},
            label="POST C1",
        ),
        post(
            Rule("customers.release_customer", "V1", "batch", manage=True),
            data={"pk": [Ref("V1")], "confirm": "1", "reason": "矩阵"},
            label="POST V1",
        ),
    ),
    "customer_transfer": (
        get(Rule("customers.transfer_customer"), query={"pk": Ref("C1")}),
        post(
            Rule("customers.transfer_customer", "C1", "batch", manage=True),
            data={
                "pk": [Ref("C1")],
                "confirm": "1",
                "users": [UserRef("sales2")],
                "allocation": "even",
            },
        ),
    ),
    "customer_merge": post(
        Rule("customers.merge_customer", "C1", "body", manage=True),
        data={"pk": [Ref("C1"), Ref("C3")], "confirm": "1", "keep": Ref("C1")},
    ),
    "customer_export": get(Rule("customers.export_customer")),
    "attachment_download": get(seen("customers.view_customer", "A1"), kwargs=pk("A1")),
    # --- import ---
    "import_start": (
        get(Rule("customers.import_customer")),
        post(Rule("customers.import_customer"), data=XLSX_IMPORT),
    ),
    "import_detail": get(seen("customers.import_customer", "J1"), kwargs=pk("J1")),
    "import_confirm": post(seen("customers.import_customer", "J1"), kwargs=pk("J1"), data={}),
    "import_errors": get(seen("customers.import_customer", "J1"), kwargs=pk("J1")),
    # --- pool ---
    "pool_list": get(Rule("customers.view_pool")),
    "pool_claim": post(Rule("customers.claim_customer", "P1", "batch"), data={"pk": [Ref("P1")]}),
    # --- contacts ---
    "contact_list": get(Rule("customers.view_contact")),
    "contact_add": (
        get(Rule("customers.add_contact")),
        post(
            own("customers.add_contact", "C1", via="body"), data=contact_form("C1"), label="POST C1"
        ),
        post(
            own("customers.add_contact", "V1", via="body"), data=contact_form("V1"), label="POST V1"
        ),
    ),
    "contact_edit": (
        *_get_post(
            own("customers.change_contact", "K1"),
            "K1",
            {"customer": Ref("C1"), "name": "矩阵乙改", "mobile": "13700000002", "gender": "male"},
        ),
        *_get_post(
            own("customers.change_contact", "VK"),
            "VK",
            {"customer": Ref("V1"), "name": "矩阵己改", "mobile": "13700000012", "gender": "male"},
        ),
    ),
    "contact_delete": (
        *_get_post(own("customers.delete_contact", "K1"), "K1"),
        *_get_post(own("customers.delete_contact", "VK"), "VK"),
    ),
    # --- follow-ups ---
    "followup_list": get(Rule("followups.view_followup")),
    "followup_add": (
        *_get_post(own("followups.add_followup", "C1"), "C1", {"content": "矩阵跟进"}),
        *_get_post(own("followups.add_followup", "V1"), "V1", {"content": "矩阵跟进"}),
    ),
    # 编辑跟进记录: its author (or an admin) corrects it (issue 14.15)
    "followup_edit": tuple(
        case
        for name in ("F1", "VF")
        for case in _get_post(
            Rule("followups.change_followup", name, manage="author"),
            name,
            {"content": "矩阵修改跟进"},
        )
    ),
    # --- leads ---
    "lead_list": get(Rule("sales.view_lead")),
    "lead_add": (
        get(Rule("sales.add_lead")),
        post(Rule("sales.add_lead"), data=LEAD_FORM),
    ),
    "lead_detail": (
        get(seen("sales.view_lead", "L1"), kwargs=pk("L1")),
        post(
            own(("sales.view_lead", "followups.add_followup"), "L1"),
            kwargs=pk("L1"),
            data={"content": "线索跟进"},
        ),
    ),
    "lead_edit": (
        *_get_post(own("sales.change_lead", "L1"), "L1", LEAD_FORM),
        *_get_post(own("sales.change_lead", "VL"), "VL", LEAD_FORM),
    ),
    "lead_delete": (
        *_get_post(own("sales.delete_lead", "L1"), "L1"),
        *_get_post(own("sales.delete_lead", "VL"), "VL"),
    ),
    "lead_bulk_delete": (
        post(
            Rule("sales.delete_lead", "L1", "batch", manage=True),
            data={"pk": [Ref("L1")]},
            label="POST L1",
        ),
        post(
            Rule("sales.delete_lead", "VL", "batch", manage=True),
            data={"pk": [Ref("VL")]},
            label="POST VL",
        ),
    ),
    "lead_convert": (
        *_get_post(own(("sales.change_lead", "customers.add_customer"), "L1"), "L1"),
        *_get_post(own(("sales.change_lead", "customers.add_customer"), "VL"), "VL"),
    ),
    "lead_invalid": (
        *_get_post(own("sales.change_lead", "L1"), "L1", {"reason": "矩阵无效"}),
        *_get_post(own("sales.change_lead", "VL"), "VL", {"reason": "矩阵无效"}),
    ),
    # --- 商机 ---
    "opportunity_list": get(Rule("sales.view_opportunity")),
    "opportunity_add": (
        get(Rule("sales.add_opportunity")),
        post(
            own("sales.add_opportunity", "C1", via="body"),
            data=opportunity_form("C1"),
            label="POST C1",
        ),
        post(
            own("sales.add_opportunity", "V1", via="body"),
            data=opportunity_form("V1"),
            label="POST V1",
        ),
    ),
    "opportunity_detail": get(seen("sales.view_opportunity", "O1"), kwargs=pk("O1")),
    "opportunity_edit": (
        *_get_post(own("sales.change_opportunity", "O1"), "O1", opportunity_form("C1")),
        *_get_post(own("sales.change_opportunity", "VO"), "VO", opportunity_form("V1")),
    ),
    "opportunity_delete": (
        *_get_post(own("sales.delete_opportunity", "O1"), "O1"),
        *_get_post(own("sales.delete_opportunity", "VO"), "VO"),
    ),
    # --- 报价单, 合同, 回款, 回款计划 (the pages each declaration gets: DOCUMENTS above) ---
    **DOCUMENT_PAGES,
    # 维修订单, 保养订单: 派工 / 取消 / 验收
    **TRANSITION_PAGES,
    "onaccountorder_cancel": _get_post(ON_ACCOUNT_CANCEL, "GD", {"reason": "矩阵取消"}),
    # an empty POST: "请至少选择一台车辆" (400) for whoever may, nothing created
    "vehicle_from_contract": _get_post(VEHICLES_FROM_CONTRACT, "TS"),
    "quote_to_contract": (
        # the modal opens only for whoever may make the contract (the customer theirs)
        get(own(TO_CONTRACT, "Q1"), kwargs=pk("Q1"), label="GET Q1"),
        *(
            post(
                own(TO_CONTRACT, name),
                kwargs=pk(name),
                data={"name": "矩阵转合同", "kind": "vehicle"},
                label=f"POST {name}",
            )
            for name in ("Q1", "VQ")
        ),
    ),
    "paymentplan_extend": tuple(
        case
        for name in ("N1", "VN")
        for case in (
            # as quote_to_contract: the modal and the change for its manager only
            get(own("sales.change_paymentplan", name), kwargs=pk(name), label=f"GET {name}"),
            post(
                own("sales.change_paymentplan", name),
                kwargs=pk(name),
                data={"due_at": "2031-06-30", "remark": "矩阵延期"},
                label=f"POST {name}",
            ),
        )
    ),
    # === the API (SPEC §10.1) ===
    ("POST", "/api/v1/auth/token"): post(
        PUBLIC, data={"username": "sales1", "password": "demo1234"}
    ),
    ("POST", "/api/v1/auth/logout"): post(SIGNED_IN),
    ("GET", "/api/v1/auth/tokens"): get(SIGNED_IN),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): call(
        "DELETE", SIGNED_IN, kwargs={"token_id": OWN_TOKEN}
    ),
    ("DELETE", "/api/v1/users/{user_id}/tokens"): call(
        "DELETE",
        setting("org.change_user", "SPARE_USER"),
        kwargs={"user_id": Ref("SPARE_USER")},
    ),
    ("GET", "/api/v1/me"): get(SIGNED_IN),
    ("GET", "/api/v1/users"): get(SIGNED_IN),
    ("GET", "/api/v1/departments"): get(SIGNED_IN),
    ("GET", "/api/v1/dicts/{kind}"): get(SIGNED_IN, kwargs={"kind": "levels"}),
    ("GET", "/api/v1/regions"): get(SIGNED_IN),
    ("GET", "/api/v1/regions/parse"): get(SIGNED_IN, query={"address": "福建省厦门市思明区"}),
    # 产品 (settings rows: the permission alone decides)
    ("GET", "/api/v1/products"): get(setting("basics.view_product")),
    ("POST", "/api/v1/products"): post(
        setting("basics.add_product"),
        data={"name": "矩阵API叉车", "spec": "MX20", "list_price": "88000.00"},
    ),
    ("GET", "/api/v1/products/{product_id}"): get(
        setting("basics.view_product", "SPARE_PRODUCT"),
        kwargs={"product_id": Ref("SPARE_PRODUCT")},
    ),
    ("PATCH", "/api/v1/products/{product_id}"): call(
        "PATCH",
        setting("basics.change_product", "SPARE_PRODUCT"),
        kwargs={"product_id": Ref("SPARE_PRODUCT")},
        data={"list_price": "99000.00", "remark": "矩阵修改"},
    ),
    ("DELETE", "/api/v1/products/{product_id}"): call(
        "DELETE",
        setting("basics.delete_product", "SPARE_PRODUCT"),
        kwargs={"product_id": Ref("SPARE_PRODUCT")},
    ),
    ("GET", "/api/v1/todo"): get(SIGNED_IN),
    # 回收站 (SPEC §13)
    ("GET", "/api/v1/recycle-bin"): get(Rule("recyclebin.view_recycleentry")),
    ("POST", "/api/v1/recycle-bin/{entry_id}/restore"): post(
        own(RECYCLE_RESTORE, "R1"), kwargs={"entry_id": Ref("R1")}, data={}
    ),
    ("GET", "/api/v1/audit"): (
        get(SIGNED_IN, label="own actions"),
        get(
            seen(None, "C1", via="query"),
            query={"object_type": "customers.customer", "object_id": Ref("C1")},
            label="C1",
        ),
    ),
    # customers
    ("GET", "/api/v1/customers"): get(Rule("customers.view_customer")),
    ("POST", "/api/v1/customers"): post(
        Rule("customers.add_customer"),
        data={
            "name": "矩阵API客户有限公司",
            "contact_name": "API联系人",
            "contact_phone": "13700000092",
        },
    ),
    ("GET", "/api/v1/customers/{customer_id}"): (
        get(seen("customers.view_customer", "C1"), kwargs={"customer_id": Ref("C1")}, label="C1"),
        get(seen("customers.view_customer", "P1"), kwargs={"customer_id": Ref("P1")}, label="P1"),
    ),
    **{
        ("GET", f"/api/v1/customers/{{customer_id}}/{what}"): tuple(
            get(
                seen("customers.view_customer", name),
                kwargs={"customer_id": Ref(name)},
                label=name,
            )
            for name in ("C1", "P1")
        )
        for what in ("portrait", "yoy")
    },
    ("PATCH", "/api/v1/customers/{customer_id}"): tuple(
        call(
            "PATCH",
            own("customers.change_customer", name),
            kwargs={"customer_id": Ref(name)},
            data={"version": Ref(name, "version"), "remark": "矩阵修改"},
            label=name,
        )
        for name in ("C1", "V1")
    ),
    ("DELETE", "/api/v1/customers/{customer_id}"): tuple(
        call(
            "DELETE",
            own("customers.delete_customer", name),
            kwargs={"customer_id": Ref(name)},
            label=name,
        )
        for name in ("C1", "V1")
    ),
    ("POST", "/api/v1/customers/batch-delete"): post(
        Rule("customers.delete_customer", "C1", "batch", manage=True), data={"ids": [Ref("C1")]}
    ),
    ("POST", "/api/v1/customers/batch-delete-matching"): post(
        Rule("customers.delete_customer"), data={"filters": {"name": "矩阵无此客户"}}
    ),
    ("GET", "/api/v1/batch-jobs/{job_id}"): get(seen(None, "BJ"), kwargs={"job_id": Ref("BJ")}),
    ("POST", "/api/v1/customers/duplicate-check"): post(SIGNED_IN, data={"name": "矩阵客户甲"}),
    ("POST", "/api/v1/customers/{customer_id}/share"): tuple(
        post(
            own("customers.share_customer", name),
            kwargs={"customer_id": Ref(name)},
            data={"user_ids": [UserRef("sales3")]},
            label=name,
        )
        for name in ("C1", "V1")
    ),
    # an attachment changes the customer (SPEC §9: files of customers)
    ("POST", "/api/v1/customers/{customer_id}/attachments"): tuple(
        post(
            own("customers.change_customer", name),
            kwargs={"customer_id": Ref(name)},
            data={"file": Upload("pdf")},
            multipart=True,
            label=name,
        )
        for name in ("C1", "V1")
    ),
    ("GET", "/api/v1/customers/export"): get(Rule("customers.export_customer")),
    ("POST", "/api/v1/customers/to-pool"): tuple(
        post(
            Rule("customers.release_customer", name, "batch", manage=True),
            data={"ids": [Ref(name)], "reason": "矩阵"},
            label=name,
        )
        for name in ("C1", "V1")
    ),
    ("POST", "/api/v1/customers/transfer"): post(
        Rule("customers.transfer_customer", "C1", "batch", manage=True),
        data={"ids": [Ref("C1")], "user_ids": [UserRef("sales2")], "allocation": "even"},
    ),
    ("GET", "/api/v1/pool/customers"): get(Rule("customers.view_pool")),
    ("POST", "/api/v1/pool/claim"): post(
        Rule("customers.claim_customer", "P1", "batch"), data={"ids": [Ref("P1")]}
    ),
    # import
    ("GET", "/api/v1/customers/import-template"): get(SIGNED_IN),
    ("POST", "/api/v1/customers/imports"): post(
        Rule("customers.import_customer"),
        data={"file": Upload("xlsx"), "target": "users", "user_ids": ACTOR},
        multipart=True,
    ),
    ("POST", "/api/v1/customers/imports/{job_id}/confirm"): post(
        seen("customers.import_customer", "J1"), kwargs={"job_id": Ref("J1")}, data={}
    ),
    ("GET", "/api/v1/customers/imports/{job_id}"): get(
        seen("customers.import_customer", "J1"), kwargs={"job_id": Ref("J1")}
    ),
    ("GET", "/api/v1/customers/imports/{job_id}/errors"): get(
        seen("customers.import_customer", "J1"), kwargs={"job_id": Ref("J1")}
    ),
    # contacts
    ("GET", "/api/v1/contacts"): get(Rule("customers.view_contact")),
    ("POST", "/api/v1/contacts"): tuple(
        post(
            own("customers.add_contact", name, via="body"),
            data={"customer_id": Ref(name), "name": "矩阵丙", "mobile": "13700000093"},
            label=name,
        )
        for name in ("C1", "V1")
    ),
    ("GET", "/api/v1/contacts/{contact_id}"): get(
        seen("customers.view_contact", "K1"), kwargs={"contact_id": Ref("K1")}
    ),
    ("PATCH", "/api/v1/contacts/{contact_id}"): tuple(
        call(
            "PATCH",
            own("customers.change_contact", name),
            kwargs={"contact_id": Ref(name)},
            data={"name": "矩阵改名"},
            label=name,
        )
        for name in ("K1", "VK")
    ),
    ("DELETE", "/api/v1/contacts/{contact_id}"): tuple(
        call(
            "DELETE",
            own("customers.delete_contact", name),
            kwargs={"contact_id": Ref(name)},
            label=name,
        )
        for name in ("K1", "VK")
    ),
    # follow-ups
    ("GET", "/api/v1/followups"): get(Rule("followups.view_followup")),
    ("POST", "/api/v1/followups"): tuple(
        post(
            own("followups.add_followup", name, via="body"),
            data={"customer_id": Ref(name), "content": "API跟进"},
            label=name,
        )
        for name in ("C1", "V1")
    ),
    ("GET", "/api/v1/followups/{followup_id}"): get(
        seen("followups.view_followup", "F1"), kwargs={"followup_id": Ref("F1")}
    ),
    ("PATCH", "/api/v1/followups/{followup_id}"): tuple(
        call(
            "PATCH",
            Rule("followups.change_followup", name, manage="author"),
            kwargs={"followup_id": Ref(name)},
            data={"content": "矩阵修改跟进"},
            label=name,
        )
        for name in ("F1", "VF")
    ),
    ("DELETE", "/api/v1/followups/{followup_id}"): tuple(
        call(
            "DELETE",
            Rule("followups.delete_followup", name, manage="author"),
            kwargs={"followup_id": Ref(name)},
            label=name,
        )
        for name in ("F1", "VF")
    ),
    # leads
    ("GET", "/api/v1/leads"): get(Rule("sales.view_lead")),
    ("POST", "/api/v1/leads"): post(
        Rule("sales.add_lead"),
        data={"name": "矩阵API线索", "contact_name": "线索人", "contact_phone": "13700000095"},
    ),
    ("GET", "/api/v1/leads/{lead_id}"): get(
        seen("sales.view_lead", "L1"), kwargs={"lead_id": Ref("L1")}
    ),
    ("PATCH", "/api/v1/leads/{lead_id}"): tuple(
        call(
            "PATCH",
            own("sales.change_lead", name),
            kwargs={"lead_id": Ref(name)},
            data=data,
            label=f"{name} {what}",
        )
        for name in ("L1", "VL")
        for what, data in (
            ("edit", {"remark": "矩阵修改"}),
            ("invalidate", {"status": "invalid", "invalid_reason": "矩阵无效"}),
        )
    ),
    ("DELETE", "/api/v1/leads/{lead_id}"): tuple(
        call("DELETE", own("sales.delete_lead", name), kwargs={"lead_id": Ref(name)}, label=name)
        for name in ("L1", "VL")
    ),
    ("POST", "/api/v1/leads/{lead_id}/convert"): tuple(
        post(
            own(("sales.change_lead", "customers.add_customer"), name),
            kwargs={"lead_id": Ref(name)},
            data={},
            label=name,
        )
        for name in ("L1", "VL")
    ),
    # 商机
    ("GET", "/api/v1/opportunities"): get(Rule("sales.view_opportunity")),
    ("POST", "/api/v1/opportunities"): tuple(
        post(
            own("sales.add_opportunity", name, via="body"),
            data={"customer_id": Ref(name), "name": "矩阵API商机"},
            label=name,
        )
        for name in ("C1", "V1")
    ),
    ("GET", "/api/v1/opportunities/{opportunity_id}"): get(
        seen("sales.view_opportunity", "O1"), kwargs={"opportunity_id": Ref("O1")}
    ),
    ("PATCH", "/api/v1/opportunities/{opportunity_id}"): tuple(
        call(
            "PATCH",
            own("sales.change_opportunity", name),
            kwargs={"opportunity_id": Ref(name)},
            data={"name": "矩阵商机改"},
            label=name,
        )
        for name in ("O1", "VO")
    ),
    ("DELETE", "/api/v1/opportunities/{opportunity_id}"): tuple(
        call(
            "DELETE",
            own("sales.delete_opportunity", name),
            kwargs={"opportunity_id": Ref(name)},
            label=name,
        )
        for name in ("O1", "VO")
    ),
    # 报价单, 合同, 回款, 回款计划
    **DOCUMENT_API,
    **TRANSITION_API,
    ("POST", "/api/v1/contracts/{doc_id}/vehicles"): post(
        VEHICLES_FROM_CONTRACT, kwargs={"doc_id": Ref("TS")}, data={}
    ),
    ("POST", "/api/v1/on-account-orders/{doc_id}/cancel"): post(
        ON_ACCOUNT_CANCEL, kwargs={"doc_id": Ref("GD")}, data={"reason": "矩阵取消"}
    ),
}

# Routes deliberately left out of the matrix, each with the reason.
SKIPPED: dict[str, str] = {
    "login": "the sign-in page itself: public by design (SPEC §10.2)",
    "logout": "signing out: a POST any visitor may make, ends the session the matrix reuses",
    "set_language": "Django's i18n/setlang/: public by design, changes only a cookie",
    "api:api-root": "django-ninja's /api/v1/ root: answers 404 to everybody, no content",
    "^api/": "the catch-all JSON 404 under /api/ (kehu.urls.api_not_found): not a route",
}

# List pages and the API lists of the same rows: one rule (SPEC §10 "same visibility").
LIST_PAIRS = [
    ("customer_list", ("GET", "/api/v1/customers")),
    ("contact_list", ("GET", "/api/v1/contacts")),
    ("followup_list", ("GET", "/api/v1/followups")),
    ("lead_list", ("GET", "/api/v1/leads")),
    ("opportunity_list", ("GET", "/api/v1/opportunities")),
    *((f"{d.url_name}_list", ("GET", f"/api/v1/{d.api_path}")) for d in DOCUMENTS),
    ("product_list", ("GET", "/api/v1/products")),
    ("pool_list", ("GET", "/api/v1/pool/customers")),
    ("customer_export", ("GET", "/api/v1/customers/export")),
    ("recyclebin_list", ("GET", "/api/v1/recycle-bin")),
]


# --- enumerating the routes --------------------------------------------------------------------


def _schema_paths() -> set[tuple[str, str]]:
    from kehu.api import api

    schema = api.get_openapi_schema()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    }


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        else:
            yield prefix + str(p.pattern), p.name, namespace


def _as_schema_path(pattern: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def enumerate_routes() -> tuple[set[str], set[tuple[str, str]]]:
    """(web route keys, API operation keys). URLs of the API's namespace that serve one of its
    operations are API operations; the API's other URLs (schema, docs, root) are web routes."""
    operations = _schema_paths()
    operation_paths = {path for _method, path in operations}
    web: set[str] = set()
    for pattern, name, namespace in _walk(get_resolver().url_patterns):
        if namespace == "api" and _as_schema_path(pattern) in operation_paths:
            continue
        if name is None:
            web.add(pattern)
        else:
            web.add(f"{namespace}:{name}" if namespace else name)
    return web, operations


def _cases(entry: Case | tuple[Case, ...]) -> tuple[Case, ...]:
    return entry if isinstance(entry, tuple) else (entry,)


def _key_label(key: str | tuple[str, str]) -> str:
    return key if isinstance(key, str) else f"{key[0]} {key[1]}"


def _matrix() -> list[Any]:
    params = []
    for key, entry in EXPECTED.items():
        cases = _cases(entry)
        for index, case in enumerate(cases):
            label = _key_label(key)
            if len(cases) > 1:
                label += f" [{case.label or case.method}]"
            for role in ROLES:
                params.append(pytest.param(key, index, role, id=f"{label} | {role}"))
    return params


MATRIX = _matrix()


# --- the module's database ---------------------------------------------------------------------


def _xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "客户名称",
            "法人/经营者",
            "统一社会信用代码",
            "开户银行",
            "收款账号",
            "生产产品",
            "原材料类型",
            "联系人",
            "联系电话",
            "备注",
            "详细地址",
        ]
    )
    ws.append(["矩阵导入客户有限公司", "", "", "", "", "", "", "导入联系人", "13700000096", "", ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX_BYTES = _xlsx_bytes()


def _upload(kind: str) -> SimpleUploadedFile:
    if kind == "xlsx":
        return SimpleUploadedFile("矩阵导入.xlsx", XLSX_BYTES)
    return SimpleUploadedFile("矩阵合同.pdf", b"%PDF-1.4 matrix test file\n")


def build_documents(users: dict[str, Any], objs: dict[str, Any]) -> None:
    """The documents of ``OBJECTS``, made and moved through approval by the services."""
    from kehu.documents import approval
    from kehu.documents.services import document_save
    from kehu.documents.types import registry

    def document(key: str, actor: str, data: dict[str, Any], *, submit="", approve=""):
        decl = registry[key]
        doc = document_save(decl, actor=users[actor], instance=None, data=data)
        if submit:
            doc = approval.submit(decl, actor=users[submit], doc=doc)
        if approve:
            doc = approval.approve(decl, actor=users[approve], doc=doc)
        return doc

    quote = {"customer": objs["C1"].pk, "amount": "50000"}
    objs["Q1"] = document("quote", "sales1", quote)
    objs["QP"] = document("quote", "sales1", quote, submit="sales1")
    objs["QA"] = document("quote", "sales1", quote, submit="sales1", approve="manager1")
    contract = {"customer": objs["C1"].pk, "name": "矩阵合同", "amount": "100000"}
    objs["T1"] = document("contract", "sales1", contract)
    objs["TP"] = document("contract", "sales1", contract, submit="sales1")
    objs["TA"] = document("contract", "sales1", contract, submit="sales1", approve="manager1")
    objs["TV"] = document("contract", "sales1", contract, submit="sales1", approve="manager1")
    payment = {"contract": objs["TA"].pk, "amount": "1000"}
    objs["Y1"] = document("payment", "sales1", payment)
    objs["YP"] = document("payment", "sales1", payment, submit="sales1")
    objs["YA"] = document("payment", "sales1", payment, submit="sales1", approve="finance1")
    plan = {"contract": objs["TA"].pk, "amount": "20000", "due_at": "2030-01-01"}
    objs["N1"] = document("paymentplan", "sales1", plan)
    v1 = objs["V1"].pk
    objs["VQ"] = document("quote", "viewadd", {"customer": v1, "amount": "30000"})
    own_contract = {"customer": v1, "name": "矩阵自有合同", "amount": "100000"}
    objs["VT"] = document("contract", "viewadd", own_contract)
    # viewadd may not submit (no change permission): admin submits and approves
    objs["VTA"] = document("contract", "viewadd", own_contract, submit="admin", approve="admin")
    objs["VY"] = document("payment", "viewadd", {"contract": objs["VTA"].pk, "amount": "1000"})
    objs["VN"] = document(
        "paymentplan",
        "viewadd",
        {"contract": objs["VTA"].pk, "amount": "20000", "due_at": "2030-01-01"},
    )


def build_after_sales(users: dict[str, Any], objs: dict[str, Any]) -> None:
    """CS (sales1's, shared with service1), its vehicle and its orders, through the services."""
    from kehu.aftersales import flow
    from kehu.customers.services import customer_create, customer_share
    from kehu.documents.services import document_save
    from kehu.documents.types import registry

    service1 = users["service1"]
    cs = objs["CS"] = customer_create(
        actor=users["sales1"],
        data={
            "name": "矩阵售后客户有限公司",
            "contact_name": "售后联系人",
            "contact_phone": "13700000010",
        },
        confirm_duplicates=True,
    )
    customer_share(actor=users["sales1"], customer=cs, user_ids=[service1.pk])
    objs["VC"] = document_save(
        registry["vehicle"],
        actor=service1,
        instance=None,
        data={"customer": cs.pk, "name": "矩阵叉车"},
    )
    for key, draft, awaiting in (("repairorder", "RD", "RA"), ("maintenanceorder", "MD", "MA")):
        decl = registry[key]
        data = {"customer": cs.pk, "amount": "160.00", "reason": "矩阵"}
        objs[draft] = document_save(decl, actor=service1, instance=None, data=data)
        order = document_save(decl, actor=service1, instance=None, data=data)
        for to in ("in_progress", "awaiting_acceptance"):
            order = flow.transition(decl, actor=service1, order=order, to=to)
        objs[awaiting] = order
    build_on_account(users, objs)


def build_on_account(users: dict[str, Any], objs: dict[str, Any]) -> None:
    """RW (CS's 维修订单 待支付, 160.00) and its 挂账订单 GD/GP/GA (10.00 each, vouchers attached)."""
    from django.core.files.base import ContentFile

    from kehu.aftersales import flow
    from kehu.core.attachments import attach_files
    from kehu.documents import approval
    from kehu.documents.services import document_save
    from kehu.documents.types import registry

    service1, repair, onaccount = users["service1"], registry["repairorder"], registry["onaccount"]
    order = document_save(
        repair,
        actor=service1,
        instance=None,
        data={"customer": objs["CS"].pk, "amount": "160.00", "reason": "矩阵"},
    )
    for to in ("in_progress", "awaiting_acceptance", "awaiting_payment"):
        order = flow.transition(repair, actor=service1, order=order, to=to)
    objs["RW"] = order
    for name in ("GD", "GP", "GA"):
        doc = document_save(
            onaccount,
            actor=service1,
            instance=None,
            data={"repair_order": order.pk, "amount": "10.00"},
        )
        attach_files(actor=service1, obj=doc, files=[ContentFile(b"v", name="凭证.pdf")])
        if name != "GD":
            approval.submit(onaccount, actor=service1, doc=doc)
        if name == "GA":
            approval.approve(onaccount, actor=users["finance1"], doc=doc)
        objs[name] = doc
    contract = document_save(
        registry["contract"],
        actor=users["sales1"],
        instance=None,
        data={
            "customer": objs["CS"].pk,
            "name": "矩阵整车合同",
            "kind": "vehicle",
            "items": [{"name": "矩阵叉车", "quantity": "3", "unit_price": "1000"}],
        },
    )
    approval.submit(registry["contract"], actor=users["sales1"], doc=contract)
    objs["TS"] = approval.approve(registry["contract"], actor=users["manager1"], doc=contract)


def build_world() -> SimpleNamespace:
    from django.contrib.auth.models import Permission

    from kehu.basics.models import DictEntry, DictKind, Product
    from kehu.core.attachments import attach_files
    from kehu.customers.services import (
        contact_save,
        customer_create,
        customer_delete,
        customer_share,
    )
    from kehu.followups.services import followup_create
    from kehu.imports.services import import_create, run_preview
    from kehu.org.auth import issue_token
    from kehu.org.demo import DEMO_PASSWORD, seed
    from kehu.org.models import ApiToken, DataScope, Department, Role, User
    from kehu.pool.models import Pool
    from kehu.pool.services import release_customers
    from kehu.recyclebin.models import RecycleEntry
    from kehu.sales.services import lead_save, opportunity_save

    restore_reference_data()
    users = seed()
    role = Role.objects.create(
        code="matrix_viewadd", name="矩阵查看新增", data_scope=DataScope.SELF
    )
    for name in VIEWADD_PERMS:
        app, codename = name.split(".")
        role.permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    viewadd = User.objects.create_user(
        username="viewadd",
        password=DEMO_PASSWORD,
        name="矩阵查看新增员工",
        department=Department.objects.get(name="销售一部"),
    )
    viewadd.roles.add(role)
    users["viewadd"] = viewadd
    users = {k: User.objects.get(pk=v.pk) for k, v in users.items()}

    def customer(actor: str, name: str, phone: str):
        return customer_create(
            actor=users[actor],
            data={"name": name, "contact_name": f"{name[:2]}联系人", "contact_phone": phone},
            confirm_duplicates=True,
        )

    objs: dict[str, Any] = {}
    objs["C1"] = customer("sales1", "矩阵客户甲有限公司", "13700000001")
    objs["K1"] = contact_save(
        actor=users["sales1"],
        instance=None,
        data={"customer": objs["C1"].pk, "name": "矩阵乙", "mobile": "13700000002"},
    )
    objs["F1"] = followup_create(
        actor=users["sales1"], customer=objs["C1"], data={"content": "矩阵电话沟通"}
    )
    objs["O1"] = opportunity_save(
        actor=users["sales1"],
        instance=None,
        data={"customer": objs["C1"].pk, "name": "矩阵商机"},
    )
    (objs["A1"],) = attach_files(actor=users["sales1"], obj=objs["C1"], files=[_upload("pdf")])
    customer_share(actor=users["sales1"], customer=objs["C1"], user_ids=[users["sales2"].pk])
    objs["C3"] = customer("sales1", "矩阵客户丙有限公司", "13700000003")
    objs["L1"] = lead_save(
        actor=users["sales1"],
        instance=None,
        data={"name": "矩阵线索", "contact_name": "线索甲", "contact_phone": "13700000004"},
    )
    objs["P1"] = customer("sales2", "矩阵公海客户有限公司", "13700000005")
    result = release_customers(actor=users["sales2"], ids=[objs["P1"].pk], reason="矩阵")
    assert result.done == [objs["P1"].pk], result.refused
    va = users["viewadd"]
    objs["V1"] = customer("viewadd", "矩阵自有客户有限公司", "13700000006")
    objs["VK"] = contact_save(
        actor=va,
        instance=None,
        data={"customer": objs["V1"].pk, "name": "矩阵己", "mobile": "13700000007"},
    )
    objs["VF"] = followup_create(actor=va, customer=objs["V1"], data={"content": "矩阵自有跟进"})
    objs["VO"] = opportunity_save(
        actor=va, instance=None, data={"customer": objs["V1"].pk, "name": "矩阵自有商机"}
    )
    objs["VL"] = lead_save(
        actor=va,
        instance=None,
        data={"name": "矩阵自有线索", "contact_name": "线索乙", "contact_phone": "13700000008"},
    )
    build_documents(users, objs)
    build_after_sales(users, objs)
    binned = customer("sales1", "矩阵回收客户有限公司", "13700000009")
    customer_delete(actor=users["sales1"], customer=binned)
    objs["R1"] = RecycleEntry.objects.get(object_type="customers.customer", object_id=binned.pk)
    objs["J1"] = import_create(
        actor=users["sales1"],
        upload=_upload("xlsx"),
        target="users",
        user_ids=[users["sales1"].pk],
    )
    run_preview(objs["J1"].pk)  # the worker's check and preview, queued on commit
    from kehu.core.models import BatchJob

    objs["BJ"] = BatchJob.objects.create(
        created_by=users["sales1"], action="customers.delete", label="批量删除客户", status="done"
    )
    objs["SPARE_USER"] = User.objects.create_user(
        username="matrix_leaver", password=DEMO_PASSWORD, name="矩阵待离职"
    )
    objs["SPARE_DEPT"] = Department.objects.create(name="矩阵测试部", sort=99)
    objs["SPARE_ROLE"] = Role.objects.create(
        code="matrix_spare", name="矩阵备用角色", data_scope=DataScope.SELF
    )
    objs["SPARE_ENTRY"] = DictEntry.objects.create(kind=DictKind.TAG, name="矩阵标签", sort=99)
    objs["SPARE_PRODUCT"] = Product.objects.create(name="矩阵叉车", spec="MX30", list_price=100000)
    # the quote flow configured as its default (one step, the department leader)
    from kehu.documents.models import ApprovalStep

    objs["SPARE_STEP"] = ApprovalStep.objects.create(doc_type="quote", order=1)
    objs["POOL2"] = Pool.objects.create(name="矩阵公海二")

    sessions, tokens, perms, token_ids = {}, {}, {}, {}
    client = Client()
    for username, user in users.items():
        client.cookies.clear()
        client.force_login(user)
        sessions[username] = client.cookies[settings.SESSION_COOKIE_NAME].value
        tokens[username] = issue_token(user)
        token_ids[username] = ApiToken.objects.get(key_hash=ApiToken.hash(tokens[username])).pk
        fresh = User.objects.get(pk=user.pk)
        perms[username] = None if fresh.is_admin else set(fresh.get_all_permissions())
    return SimpleNamespace(
        users=users,
        ids={k: v.pk for k, v in objs.items()},
        models={k: type(v) for k, v in objs.items()},
        sessions=sessions,
        tokens=tokens,
        token_ids=token_ids,
        perms=perms,
        clients={},
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        yield build_world()
        transaction.set_rollback(True)


# --- deriving the expected answer --------------------------------------------------------------


class Want(Enum):
    LOGIN = "302 to /accounts/login/"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    INPUT_REFUSED = "400 or 404 (the body names an object the role cannot see)"
    BATCH_REFUSED = "200 with the object refused"
    ALLOWED = "2xx/3xx (400 allowed for a write)"


def has_perm(world, role: str, perm: str) -> bool:
    held = world.perms[role]
    return held is None or perm in held


def visible(world, role: str, name: str) -> bool:
    obj = OBJECTS[name]
    if obj.setting:
        return True
    if obj.creator_only:
        return role in (obj.creator_only, "admin")
    if obj.owner is None:  # a pool customer: whoever sees the pool (SPEC §1)
        return has_perm(world, role, "customers.view_pool")
    scope = SCOPE[role]
    if scope is None or obj.owner in scope:
        return True
    shares = OBJECTS[obj.customer].shared_with if obj.customer else obj.shared_with
    return role in shares


def manages(role: str, name: str, manage: bool | str) -> bool:
    obj = OBJECTS[name]
    if not manage or obj.setting or obj.creator_only or obj.owner is None:
        return True
    if manage == "author":
        return role in ("admin", obj.author)
    if manage == "approver":
        return role == "admin" or role in obj.approvers
    if manage == "after_sales" and role in AFTER_SALES:
        return True
    scope = SCOPE[role]
    return scope is None or obj.owner in scope


def expected(world, key, case: Case, role: str) -> Want:
    rule = case.rule
    if rule.public:
        return Want.ALLOWED
    if role == "anonymous":
        return Want.LOGIN if isinstance(key, str) else Want.UNAUTHORIZED
    if not all(has_perm(world, role, p) for p in rule.perms):
        return Want.FORBIDDEN
    if rule.object is None:
        return Want.ALLOWED
    is_visible = visible(world, role, rule.object)
    is_managed = is_visible and manages(role, rule.object, rule.manage)
    if rule.via == "batch":
        return Want.ALLOWED if is_managed else Want.BATCH_REFUSED
    if not is_visible:
        return Want.INPUT_REFUSED if rule.via == "body" else Want.NOT_FOUND
    return Want.ALLOWED if is_managed else Want.FORBIDDEN


# --- making the request --------------------------------------------------------------------------


def resolve(value: Any, world, role: str) -> Any:
    if isinstance(value, Ref):
        if value.attr == "pk":
            return world.ids[value.name]
        model = world.models[value.name]
        return getattr(model.objects.get(pk=world.ids[value.name]), value.attr)
    if isinstance(value, TokenRef):
        return world.token_ids["sales1" if role == "anonymous" else role]
    if isinstance(value, UserRef):
        username = value.username
        if username == "@actor":
            username = "sales1" if role == "anonymous" else role
        return world.users[username].pk
    if isinstance(value, Upload):
        return _upload(value.kind)
    if isinstance(value, dict):
        return {k: resolve(v, world, role) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, world, role) for v in value]
    return value


def url_of(key, case: Case, world, role: str) -> str:
    kwargs = resolve(case.kwargs, world, role)
    url = reverse(key, kwargs=kwargs or None) if isinstance(key, str) else key[1].format(**kwargs)
    query = resolve(case.query, world, role)
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def client_for(world, role: str, api: bool) -> Client:
    """One client per role and kind for the whole module: a new ``Client`` loads the middleware
    again (WhiteNoise scans every static file), which would cost more than the request."""
    client = world.clients.get((role, api))
    if client is not None:
        return client
    client = world.clients[role, api] = Client(raise_request_exception=False)
    if role == "anonymous":
        return client
    if api:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[role]}"
    else:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def send(client: Client, key, case: Case, world, role: str):
    url = url_of(key, case, world, role)
    data = resolve(case.data, world, role)
    if case.method == "GET":
        return client.get(url)
    if isinstance(key, str) or case.multipart:
        return client.generic(case.method, url) if data is None else client.post(url, data)
    body = json.dumps(data if data is not None else {})
    return client.generic(case.method, url, body, content_type="application/json")


FINGERPRINT_SQL: list[tuple[str, str]] = []


def _fingerprint_sql() -> list[tuple[str, str]]:
    """One plain SELECT per table a write could touch (sessions, tokens and last_login aside)."""
    if FINGERPRINT_SQL:
        return FINGERPRINT_SQL
    from django.db import connection

    from kehu.aftersales.models import (
        MaintenanceOrder,
        MaintenanceOrderItem,
        OnAccountOrder,
        RepairOrder,
        RepairOrderItem,
        Vehicle,
    )
    from kehu.audit.models import ChangeLog
    from kehu.basics.models import DictEntry, Product
    from kehu.core.models import Attachment
    from kehu.customers.models import Contact, Customer, CustomerShare
    from kehu.documents.models import ApprovalRecord, ApprovalStep, IssuedNumber
    from kehu.followups.models import FollowUp
    from kehu.imports.models import ImportJob
    from kehu.org.models import Department, Role, User
    from kehu.pool.models import Pool
    from kehu.recyclebin.models import RecycleEntry
    from kehu.sales.models import (
        Contract,
        ContractItem,
        Lead,
        Opportunity,
        Payment,
        PaymentPlan,
        Quote,
        QuoteItem,
    )

    models = [
        Customer,
        Customer.tags.through,
        Contact,
        CustomerShare,
        FollowUp,
        Lead,
        Opportunity,
        Quote,
        QuoteItem,
        Contract,
        ContractItem,
        Payment,
        PaymentPlan,
        Vehicle,
        RepairOrder,
        RepairOrderItem,
        MaintenanceOrder,
        MaintenanceOrderItem,
        OnAccountOrder,
        ApprovalRecord,
        ApprovalStep,
        ApprovalStep.users.through,
        IssuedNumber,
        Attachment,
        ImportJob,
        Pool,
        Pool.departments.through,
        Role,
        Role.permissions.through,
        Department,
        DictEntry,
        Product,
        User,
        User.roles.through,
        RecycleEntry,
    ]
    quote = connection.ops.quote_name
    for model in models:
        opts = model._meta
        columns = [f.column for f in opts.concrete_fields if f.attname != "last_login"]
        sql = "SELECT {} FROM {} ORDER BY {}".format(
            ", ".join(quote(c) for c in columns), quote(opts.db_table), quote(opts.pk.column)
        )
        FINGERPRINT_SQL.append((opts.label, sql))
    opts = ChangeLog._meta
    FINGERPRINT_SQL.append(
        (opts.label, f"SELECT {quote(opts.pk.column)} FROM {quote(opts.db_table)} ORDER BY 1")
    )
    return FINGERPRINT_SQL


def fingerprint() -> dict[str, Any]:
    """Every row of the tables a refused write must leave alone."""
    from django.db import connection

    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for label, sql in _fingerprint_sql():
            cursor.execute(sql)
            out[label] = cursor.fetchall()
    return out


def describe(response) -> str:
    body = b"" if getattr(response, "streaming", False) else response.content
    text = body[:400].decode("utf-8", "replace")
    extra = f" → {response.get('Location')}" if response.get("Location") else ""
    exc = getattr(response, "exc_info", None)
    if exc:
        extra += f" (exception {exc[0].__name__}: {exc[1]})"
    return f"{response.status_code}{extra}: {text!r}"


def check(response, want: Want, write: bool) -> str | None:
    """None when ``response`` is the wanted answer, else what is wrong."""
    status = response.status_code
    location = response.get("Location") or ""
    if status >= 500:
        return f"server error, wanted {want.value}"
    if want is Want.LOGIN:
        if status == 302 and location.startswith(settings.LOGIN_URL):
            return None
    elif want is Want.UNAUTHORIZED:
        if status == 401:
            return None
    elif want is Want.FORBIDDEN:
        if status == 403:
            return None
    elif want is Want.NOT_FOUND:
        if status == 404:
            return None
    elif want is Want.INPUT_REFUSED:
        if status in (400, 404):
            return None
    elif want is Want.BATCH_REFUSED:
        if status == 200:
            return None
    elif want is Want.ALLOWED:
        redirect_to_login = 300 <= status < 400 and location.startswith(settings.LOGIN_URL)
        if (200 <= status < 400 or (write and status == 400)) and not redirect_to_login:
            return None
    return f"wanted {want.value}"


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "index", "role"), MATRIX)
def test_access(world, key, index, role):
    case = _cases(EXPECTED[key])[index]
    want = expected(world, key, case, role)
    write = case.method != "GET"
    client = client_for(world, role, api=not isinstance(key, str))
    before = fingerprint() if write and want is not Want.ALLOWED else None
    response = send(client, key, case, world, role)
    problems = []
    problem = check(response, want, write)
    if problem:
        problems.append(f"{problem}; got {describe(response)}")
    if before is not None:
        after = fingerprint()
        changed = sorted(k for k in before if before[k] != after[k])
        if changed:
            problems.append(f"the refused write still changed {changed}")
    assert not problems, f"{case.method} as {role}: " + " AND ".join(problems)


def test_every_route_has_an_expectation():
    web, api = enumerate_routes()
    enumerated: set[Any] = web | api
    missing = sorted(_key_label(k) for k in enumerated - set(EXPECTED) - set(SKIPPED))
    assert not missing, f"routes without an entry in EXPECTED (or SKIPPED): {missing}"


def test_expected_has_no_stale_entries():
    web, api = enumerate_routes()
    stale = sorted(_key_label(k) for k in set(EXPECTED) - web - api)
    assert not stale, f"EXPECTED names routes that no longer exist: {stale}"
    stale_skips = sorted(set(SKIPPED) - web)
    assert not stale_skips, f"SKIPPED names routes that no longer exist: {stale_skips}"
    assert not set(SKIPPED) & set(EXPECTED), "a route is both skipped and expected"


def test_docstring_states_the_matrix_size():
    web, api = enumerate_routes()
    routes = [k for k in EXPECTED]
    n_web = sum(1 for k in routes if isinstance(k, str))
    n_api = len(routes) - n_web
    cases = sum(len(_cases(e)) for e in EXPECTED.values())
    stated = (
        f"MATRIX: {len(routes)} routes ({n_web} web routes + {n_api} API operations) × "
        f"{len(ROLES)} roles\n= {len(routes) * len(ROLES)} route × role pairs, run as "
        f"{cases} request cases"
    )
    doc = " ".join(__doc__.split())
    assert " ".join(stated.split()) in doc, f"update the module docstring: {stated}"
    assert f"× {len(ROLES)} roles = {cases * len(ROLES)} tests" in doc
    assert len(MATRIX) == cases * len(ROLES)
    assert (n_web, n_api) == (len(web - set(SKIPPED)), len(api))


def test_list_pages_and_api_lists_share_one_rule():
    """SPEC §10: the API answers like the pages — a role refused a list page (403) is refused the
    same rows by the API, e.g. 售后 has no lead or follow-up permission, so /leads/ and
    GET /api/v1/leads both answer 403."""
    for page, api_key in LIST_PAIRS:
        assert _cases(EXPECTED[page])[0].rule == _cases(EXPECTED[api_key])[0].rule, page


def test_matrix_roles_are_what_the_module_says(world):
    """The derivation rests on these facts of the demo data; if they change, fix the tables."""
    from kehu.customers.models import Customer, CustomerShare
    from kehu.org.models import User

    c1 = Customer.objects.get(pk=world.ids["C1"])
    assert c1.owner.username == "sales1"
    assert list(CustomerShare.objects.filter(customer=c1).values_list("user__username", flat=True))
    assert Customer.objects.get(pk=world.ids["P1"]).owner_id is None
    assert User.objects.get(username="viewadd").data_scope == "self"
    finance = world.perms["finance1"]
    assert finance is not None
    writes = [p for p in finance if p.split(".")[1].startswith(("add_", "change_", "delete_"))]
    assert not [p for p in writes if p.startswith(("customers.", "followups.", "sales."))]
    # the approvers OBJECTS names: who (an admin aside) may approve each pending sample
    from kehu.documents.approval import may_approve

    for name, obj in OBJECTS.items():
        if obj.approvers:
            doc = world.models[name].objects.get(pk=world.ids[name])
            users = [u for u in world.users if u != "admin" and may_approve(world.users[u], doc)]
            assert users == list(obj.approvers), name


# --- the findings of issue 9 that need more than a status --------------------------------------


HIDDEN_CUSTOMER_READERS = ["sales3", "viewadd"]


@pytest.mark.parametrize("route", ["contact_add", "opportunity_add"])
@pytest.mark.parametrize("role", HIDDEN_CUSTOMER_READERS)
def test_add_form_does_not_name_a_hidden_customer(world, route, role):
    """``?customer=<id>`` preselects the customer of an add form: for a customer the user cannot
    see it answers 404 in Chinese, exactly like a missing or malformed id, and shows nothing of
    it (not its name); never a 500."""
    from kehu.customers.models import Customer

    name = Customer.objects.get(pk=world.ids["C1"]).name
    client = client_for(world, role, api=False)
    url = reverse(route)
    hidden = client.get(f"{url}?customer={world.ids['C1']}")
    assert hidden.status_code == 404, describe(hidden)
    assert name not in hidden.content.decode()
    assert "客户不存在或无权查看" in hidden.content.decode()
    form = contact_form("C1") if route == "contact_add" else opportunity_form("C1")
    posted = client.post(url, resolve(form, world, role))
    assert posted.status_code in (400, 403, 404), describe(posted)
    assert name not in posted.content.decode()
    for bad in ("abc", "-1", "99999999999999999999999", "1e3"):
        response = client.get(f"{url}?customer={bad}")
        assert response.status_code == 404, f"?customer={bad}: {describe(response)}"
        assert "客户不存在或无权查看" in response.content.decode()
    # the control: the owner sees the name preselected
    own_page = client_for(world, "sales1", api=False).get(f"{url}?customer={world.ids['C1']}")
    assert name in own_page.content.decode()


def _normalised(response, *ids: int) -> str:
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    for pk_ in ids:
        text = re.sub(rf"\b{pk_}\b", "<ID>", text)
    return text


CLAIM_MISSING_ID = 987654321


def test_claiming_a_hidden_private_customer_answers_like_a_missing_one_api(world):
    """领取 of a private customer the user cannot see must not reveal that it exists (no
    "已被他人领取" oracle): the API's answer is the one for an id that does not exist."""
    hidden = world.ids["C1"]
    api = client_for(world, "sales3", api=True)
    a = api.post("/api/v1/pool/claim", {"ids": [hidden]}, content_type="application/json")
    b = api.post("/api/v1/pool/claim", {"ids": [CLAIM_MISSING_ID]}, content_type="application/json")
    assert a.status_code == b.status_code, (describe(a), describe(b))
    if a.status_code == 200:
        reasons_a = [r["reason"] for r in a.json()["refused"]]
        reasons_b = [r["reason"] for r in b.json()["refused"]]
        assert reasons_a == reasons_b, f"hidden C1: {reasons_a}; missing id: {reasons_b}"
    assert "已被他人领取" not in json.dumps(a.json(), ensure_ascii=False)


def test_claiming_a_hidden_private_customer_answers_like_a_missing_one_web(world):
    """The same through the pool page's 领取 (the batch result modal)."""
    hidden = world.ids["C1"]
    web = client_for(world, "sales3", api=False)
    a = web.post(reverse("pool_claim"), {"pk": [hidden]})
    b = web.post(reverse("pool_claim"), {"pk": [CLAIM_MISSING_ID]})
    assert a.status_code == b.status_code, (describe(a), describe(b))
    assert "已被他人领取" not in a.content.decode()
    assert _normalised(a, hidden, CLAIM_MISSING_ID) == _normalised(b, hidden, CLAIM_MISSING_ID)
