"""报价单, 合同, 回款, 回款计划: the generic page and API tests (kehu/core/testing.py) declared
for the four document types, and who may open their lists and add forms, role by role.

One case base (:class:`DocumentCase`) makes a sample of any type through the document service;
each type says only what differs — its declaration ``key``, the parent a new one names (its
customer, or the approved contract of a payment or plan) and its own fields. The page and API
test mixins are combined once (:class:`DocumentPages`, :class:`DocumentAPI`) and declared per
type in two lines.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.testing import APIViewTestCases, ViewTestCases, customer_for, unique
from kehu.documents import approval
from kehu.documents.services import document_save
from kehu.documents.types import registry
from kehu.org.demo import DEMO_USERS
from kehu.org.roles import BUILTIN_ROLES

NO_ITEMS = {"items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"}  # the line-item formset


class DocumentCase:
    """A document type's samples: made by ``owner`` through the service, each with a unique
    备注 (every document list shows it: the ``label``), on a fresh customer — and for a payment
    or plan, on an approved contract of it."""

    key: ClassVar[str]
    owner, outsider, read_only = "sales1", "sales3", "finance1"

    @property
    def decl(self):
        return registry[self.key]

    @property
    def model(self):
        return self.decl.model

    @property
    def url_name(self) -> str:
        return self.decl.url_name

    @property
    def api_path(self) -> str:
        return f"/api/v1/{self.decl.api_path}"

    # --- what a type declares ------------------------------------------------------------------

    def fields(self, parent) -> dict[str, Any]:
        """The service input of a new document of ``parent`` (besides its 备注)."""
        raise NotImplementedError

    def form(self, obj) -> dict[str, Any]:
        """The page's valid add/edit form, next to ``obj`` (its customer or contract)."""
        raise NotImplementedError

    def body(self, obj) -> dict[str, Any]:
        """The API's valid create body, next to ``obj``."""
        raise NotImplementedError

    def bad_body(self, obj) -> dict[str, Any]:
        """A create body the API refuses (400), its error on ``invalid_field``."""
        raise NotImplementedError

    # --- derived --------------------------------------------------------------------------------

    def parent(self, org):
        return customer_for(org[self.owner])

    def make(self, org, parent=None):
        data = {**self.fields(parent or self.parent(org)), "remark": unique("通用单据备注")}
        return document_save(self.decl, actor=org[self.owner], instance=None, data=data)

    def make_many(self, org, n):
        parent = self.parent(org)
        return [self.make(org, parent) for _ in range(n)]

    def label(self, obj) -> str:
        return obj.remark


class OnApprovedContract(DocumentCase):
    """回款 and 回款计划 name an approved contract (sales1 submits, manager1 approves)."""

    def parent(self, org):
        decl = registry["contract"]
        customer = customer_for(org[self.owner])
        data = {"customer": customer.pk, "name": unique("通用合同"), "amount": "1000000"}
        contract = document_save(decl, actor=org[self.owner], instance=None, data=data)
        approval.submit(decl, actor=org[self.owner], doc=contract)
        return approval.approve(decl, actor=org["manager1"], doc=contract)


class QuoteCase(DocumentCase):
    key = "quote"
    read_only_view_status = 403  # 财务 has no permission on 报价单
    invalid_field = "amount"

    def fields(self, customer):
        return {"customer": customer.pk, "amount": "50000"}

    def form(self, obj):
        return {
            "customer": obj.customer_id,
            "amount": "60000",
            "quoted_at": "2026-11-01T10:00",
            **NO_ITEMS,
        }

    def body(self, obj):
        return {"customer_id": obj.customer_id, "amount": "60000"}

    def bad_body(self, obj):
        return {"customer_id": obj.customer_id, "amount": "-1"}


class ContractCase(DocumentCase):
    key = "contract"
    invalid_field = "name"

    def fields(self, customer):
        return {"customer": customer.pk, "name": unique("通用合同"), "amount": "100000"}

    def form(self, obj):
        return {
            "customer": obj.customer_id,
            "name": unique("页面合同"),
            "kind": "parts",
            "amount": "80000",
            **NO_ITEMS,
        }

    def body(self, obj):
        return {"customer_id": obj.customer_id, "name": unique("接口合同"), "amount": "80000"}

    def bad_body(self, obj):
        return {"customer_id": obj.customer_id, "name": "   ", "amount": "80000"}


class PaymentCase(OnApprovedContract):
    key = "payment"
    invalid_field = "amount"

    def fields(self, contract):
        return {"contract": contract.pk, "amount": "1000"}

    def form(self, obj):
        return {"contract": obj.contract_id, "amount": "1200", "paid_at": "2026-11-01"}

    def body(self, obj):
        return {"contract_id": obj.contract_id, "amount": "1200"}

    def bad_body(self, obj):
        return {"contract_id": obj.contract_id, "amount": "0"}


class PaymentPlanCase(OnApprovedContract):
    key = "paymentplan"
    invalid_field = "amount"

    def fields(self, contract):
        return {"contract": contract.pk, "amount": "1000", "due_at": "2030-01-01"}

    def form(self, obj):
        return {
            "contract": obj.contract_id,
            "instalment": "2",
            "amount": "1200",
            "due_at": "2030-06-30",
            "remind_days": "5",
        }

    def body(self, obj):
        return {"contract_id": obj.contract_id, "amount": "1200", "due_at": "2030-06-30"}

    def bad_body(self, obj):
        return {"contract_id": obj.contract_id, "amount": "0", "due_at": "2030-06-30"}


# --- the generic tests, combined once -----------------------------------------------------------


class DocumentPages(
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    max_list_queries = 16  # 15 measured (SQLite and PostgreSQL alike)

    def form_data(self, obj):
        return {**self.form(obj), "remark": unique("页面单据备注")}


class DocumentAPI(
    APIViewTestCases.List,
    APIViewTestCases.Get,
    APIViewTestCases.Create,
    APIViewTestCases.Update,
    APIViewTestCases.Delete,
):
    max_list_queries = 10  # 8-9 measured

    def create_data(self, obj):
        return {**self.body(obj), "remark": unique("接口单据备注")}

    def invalid_create_data(self, obj):
        return self.bad_body(obj)

    def update_data(self, obj):
        return {"remark": unique("改过的备注")}


class TestQuotePages(QuoteCase, DocumentPages):
    pass


class TestQuoteAPI(QuoteCase, DocumentAPI):
    pass


class TestContractPages(ContractCase, DocumentPages):
    pass


class TestContractAPI(ContractCase, DocumentAPI):
    pass


class TestPaymentPages(PaymentCase, DocumentPages):
    pass


class TestPaymentAPI(PaymentCase, DocumentAPI):
    pass


class TestPaymentPlanPages(PaymentPlanCase, DocumentPages):
    pass


class TestPaymentPlanAPI(PaymentPlanCase, DocumentAPI):
    pass


# --- roles × actions ----------------------------------------------------------------------------

ROLES = ["admin", "manager1", "sales1", "sales2", "sales3", "service1", "finance1"]
# (action, the permission's verb, the request): the list page, the add form, the API list
ACTIONS = {
    "list": ("view", lambda decl: reverse(f"{decl.url_name}_list"), False),
    "add": ("add", lambda decl: reverse(f"{decl.url_name}_add"), False),
    "api list": ("view", lambda decl: f"/api/v1/{decl.api_path}", True),
}


def holds(username: str, permission: str) -> bool:
    """Whether the demo user's role grants ``permission`` — read from the declared roles
    (kehu/org/roles.py, kehu/org/demo.py), not from the code under test."""
    role = BUILTIN_ROLES[DEMO_USERS[username][2]]
    return role.get("is_admin", False) or permission in role["perms"]


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("key", ["quote", "contract", "payment", "paymentplan"])
def test_each_role_is_answered_by_its_permission(org, key, username, action):
    """销售经理 and 业务员 view and add all four; 财务 views 合同, 回款 and 回款计划 and adds none;
    售后 views 合同 only (a vehicle's 关联合同): 200 or 403, on the page and the API alike."""
    from kehu.org.auth import issue_token

    decl = registry[key]
    verb, url, api = ACTIONS[action]
    allowed = holds(username, f"{decl.model._meta.app_label}.{verb}_{decl.model._meta.model_name}")
    if api:
        client = Client(headers={"Authorization": f"Bearer {issue_token(org[username])}"})
    else:
        client = Client()
        client.force_login(org[username])
    response = client.get(url(decl))
    assert response.status_code == (200 if allowed else 403), response.content[:300]
