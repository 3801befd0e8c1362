"""Random sequences of document operations leave no drift (SPEC §6.3, issue 11).

A hypothesis state machine creates contracts and payments on several customers, submits,
approves, rejects, withdraws, voids and merges customers in any order; after every step each
customer's stored 待收款金额 (per kind and total) and 状态 must equal the recomputation from the
documents (:func:`kehu.ledger.services.drifts`). Runs on whichever database the suite uses
(PostgreSQL and SQLite in CI). Bounded so the default ``make test`` stays quick.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kehu.core.errors import ApplicationError
from kehu.customers.models import Customer
from kehu.documents import approval
from kehu.documents.services import document_save
from kehu.documents.types import registry
from kehu.ledger.services import drifts
from kehu.sales.models import Contract, Payment

CONTRACT, PAYMENT = registry["contract"], registry["payment"]
KINDS = ["vehicle", "parts", "used_vehicle", "lease"]
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@pytest.mark.django_db
def test_random_document_operations_leave_no_drift(org, make_customer):
    sales1, manager1, finance1 = org["sales1"], org["manager1"], org["finance1"]

    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.customers = [make_customer("sales1").pk for _ in range(3)]

        # --- helpers ---------------------------------------------------------------------------

        def _pick(self, model, data, **filters):
            filters.setdefault("customer_id__in", self.customers)
            ids = list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
            return model.objects.get(pk=data.draw(st.sampled_from(ids))) if ids else None

        def _try(self, fn, *args, **kwargs):
            # a refused step (wrong state, overpayment, …) must change nothing either
            with contextlib.suppress(ApplicationError):
                fn(*args, **kwargs)

        # --- rules -----------------------------------------------------------------------------

        @rule(data=st.data(), kind=st.sampled_from(KINDS), amount=amounts)
        def create_contract(self, data, kind, amount):
            customer = data.draw(st.sampled_from(self.customers))
            document_save(
                CONTRACT,
                actor=sales1,
                instance=None,
                data={"customer": customer, "name": "随机合同", "kind": kind, "amount": amount},
            )

        @rule(data=st.data(), kind=st.sampled_from(KINDS), amount=amounts)
        def signed_contract(self, data, kind, amount):
            """Create, submit and approve in one step (so later steps find approved ones)."""
            customer = data.draw(st.sampled_from(self.customers))
            doc = document_save(
                CONTRACT,
                actor=sales1,
                instance=None,
                data={"customer": customer, "name": "签约合同", "kind": kind, "amount": amount},
            )
            approval.submit(CONTRACT, actor=sales1, doc=doc)
            approval.approve(CONTRACT, actor=manager1, doc=doc)

        @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
        def received_payment(self, data, share):
            """A payment of part of an approved contract, created, submitted and approved."""
            doc = self._pick(Contract, data, approval_status="approved")
            if doc is None:
                return
            amount = (doc.amount * share / 100).quantize(Decimal("0.01")) or Decimal("0.01")
            try:
                pay = document_save(
                    PAYMENT,
                    actor=sales1,
                    instance=None,
                    data={"contract": doc.pk, "amount": amount},
                )
            except ApplicationError:
                return  # more than what is left: refused, nothing changed
            approval.submit(PAYMENT, actor=sales1, doc=pay)
            approval.approve(PAYMENT, actor=finance1, doc=pay)

        @rule(data=st.data(), amount=amounts)
        def pay(self, data, amount):
            doc = self._pick(Contract, data, approval_status="approved")
            if doc is not None:
                self._try(
                    document_save,
                    PAYMENT,
                    actor=sales1,
                    instance=None,
                    data={"contract": doc.pk, "amount": amount},
                )

        @rule(data=st.data(), model=st.sampled_from([Contract, Payment]))
        def submit(self, data, model):
            doc = self._pick(model, data, approval_status__in=["draft", "rejected"])
            if doc is not None:
                self._try(approval.submit, _decl(model), actor=sales1, doc=doc)

        @rule(data=st.data(), model=st.sampled_from([Contract, Payment]))
        def approve(self, data, model):
            doc = self._pick(model, data, approval_status="pending")
            if doc is not None:
                actor = manager1 if model is Contract else finance1
                self._try(approval.approve, _decl(model), actor=actor, doc=doc)

        @rule(data=st.data(), model=st.sampled_from([Contract, Payment]))
        def reject(self, data, model):
            doc = self._pick(model, data, approval_status="pending")
            if doc is not None:
                actor = manager1 if model is Contract else finance1
                approval.reject(_decl(model), actor=actor, doc=doc, comment="不同意")

        @rule(data=st.data(), model=st.sampled_from([Contract, Payment]))
        def withdraw(self, data, model):
            doc = self._pick(model, data, approval_status="pending")
            if doc is not None:
                approval.withdraw(_decl(model), actor=sales1, doc=doc)

        @rule(data=st.data(), model=st.sampled_from([Contract, Payment]))
        def void(self, data, model):
            doc = self._pick(model, data, approval_status="approved")
            if doc is not None:
                actor = manager1 if model is Contract else finance1
                self._try(approval.void, _decl(model), actor=actor, doc=doc, reason="作废")

        @rule(data=st.data())
        def merge(self, data):
            if len(self.customers) < 2:
                return
            from kehu.customers.merge import merge_customers

            pair = data.draw(
                st.lists(st.sampled_from(self.customers), min_size=2, max_size=2, unique=True)
            )
            kept = merge_customers(actor=manager1, ids=pair, keep_id=pair[0])
            self.customers = [c for c in self.customers if c != pair[1]]
            assert kept.pk == pair[0]

        @rule()
        def new_customer(self):
            if len(self.customers) < 4:
                self.customers.append(make_customer("sales1").pk)

        @invariant()
        def no_drift(self):
            found = drifts(self.customers)
            assert found == [], [d.describe() for d in found]
            for c in Customer.objects.filter(pk__in=self.customers):
                kinds = sum(
                    (getattr(c, f"receivable_{k}") for k in [*KINDS, "repair", "maintenance"]),
                    Decimal("0.00"),
                )
                assert c.receivable_total == kinds

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def _decl(model):
    return CONTRACT if model is Contract else PAYMENT


# --- service orders (维修订单, 保养订单: kehu/aftersales/flow.py) ---------------------------------

SERVICE_TARGETS = [
    "awaiting_dispatch",
    "in_progress",
    "awaiting_acceptance",
    "awaiting_payment",
    "completed",
    "cancelled",
]
service_amounts = st.one_of(st.just(Decimal("0.00")), amounts)


@pytest.mark.django_db
def test_random_service_order_operations_leave_no_drift(org, make_customer):
    """The same invariant for service orders: created with any amount (0 too), edited while
    editable, moved to any state in any order (wrong steps refused, changing nothing), paid by
    回款 and 挂账订单 (approved or left pending; too much refused) and those voided, cancelled
    before or after billing (refused while payments stand), deleted, their customers merged — next to approved contracts, so a
    customer's other kinds stay untouched."""
    from kehu.aftersales import flow
    from kehu.aftersales.models import MaintenanceOrder, RepairOrder
    from kehu.aftersales.services import order_paid

    admin, sales1, manager1 = org["admin"], org["sales1"], org["manager1"]
    seen: set[str] = set()  # the steps taken, to show the run reached billing and reversal
    decls = {RepairOrder: registry["repairorder"], MaintenanceOrder: registry["maintenanceorder"]}

    class ServiceLedger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.customers = [make_customer("sales1").pk for _ in range(3)]

        def _pick(self, model, data, **filters):
            filters.setdefault("customer_id__in", self.customers)
            ids = list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
            return model.objects.get(pk=data.draw(st.sampled_from(ids))) if ids else None

        @rule(
            data=st.data(),
            model=st.sampled_from([RepairOrder, MaintenanceOrder]),
            amount=service_amounts,
        )
        def create_order(self, data, model, amount):
            customer = data.draw(st.sampled_from(self.customers))
            document_save(
                decls[model],
                actor=admin,
                instance=None,
                data={"customer": customer, "amount": amount, "reason": "随机"},
            )

        @rule(
            data=st.data(),
            model=st.sampled_from([RepairOrder, MaintenanceOrder]),
            to=st.sampled_from(SERVICE_TARGETS),
            acceptor=st.sampled_from(["admin", "sales1"]),
        )
        def move(self, data, model, to, acceptor):
            order = self._pick(model, data)
            if order is None:
                return
            actor = sales1 if acceptor == "sales1" and to == "awaiting_payment" else admin
            with contextlib.suppress(ApplicationError):  # a wrong step changes nothing
                flow.transition(decls[model], actor=actor, order=order, to=to, reason="随机")

        @rule(
            data=st.data(),
            model=st.sampled_from([RepairOrder, MaintenanceOrder]),
            goal=st.sampled_from(["awaiting_payment", "completed", "cancelled", "in_progress"]),
            acceptor=st.sampled_from(["admin", "sales1"]),
        )
        def walk(self, data, model, goal, acceptor):
            """The forward steps from the order's state to ``goal`` (取消 after billing), so that
            billing, payment and the reversal happen often, not only by chance."""
            unpaid = (
                {"payments__isnull": True, "onaccount_orders__isnull": True}
                if goal == "cancelled"
                else {}
            )
            order = self._pick(model, data, status__in=SERVICE_TARGETS[:4], **unpaid)
            if order is None:
                return
            forward = ["in_progress", "awaiting_acceptance", "awaiting_payment", "completed"]
            path = (
                forward[:3] + ["cancelled"]
                if goal == "cancelled"
                else forward[: forward.index(goal) + 1]
            )
            for to in path:
                step = flow.step_for(order.status, to)
                if step is None or step.key == "reassign":
                    continue  # already past it
                if step.key == "complete" and order.amount > 0:
                    self._pay(order, order.amount - order_paid(order), approve=True)
                    order.refresh_from_db()
                    seen.add("paid_in_full" if order.status == "completed" else "paid_part")
                    continue
                actor = sales1 if step.key == "accept" and acceptor == "sales1" else admin
                billed = order.billed
                if step.key == "cancel" and billed and order_paid(order) > 0:
                    with pytest.raises(ApplicationError):  # refused while payments stand
                        flow.transition(decls[model], actor=actor, order=order, to=to, reason="x")
                    seen.add("cancel_refused")
                    continue
                order = flow.transition(
                    decls[model], actor=actor, order=order, to=to, reason="随机"
                )
                seen.add("cancel_billed" if step.key == "cancel" and billed else step.key)

        @rule(
            data=st.data(),
            model=st.sampled_from([RepairOrder, MaintenanceOrder]),
            amount=service_amounts,
        )
        def edit(self, data, model, amount):
            order = self._pick(model, data)
            if order is None:
                return
            decl = decls[model]
            with contextlib.suppress(ApplicationError):  # not editable from 待支付 on
                document_save(
                    decl,
                    actor=admin,
                    instance=order,
                    data={**decl.current_data(order), "amount": amount},
                )

        @rule(data=st.data(), model=st.sampled_from([RepairOrder, MaintenanceOrder]))
        def delete(self, data, model):
            from kehu.documents.services import document_delete

            order = self._pick(model, data)
            if order is not None:
                with contextlib.suppress(ApplicationError):
                    document_delete(decls[model], actor=admin, instance=order)

        def _pay(self, order, amount, *, approve, on_account=False):
            """A 回款 (or 挂账订单 with its voucher) against ``order``, submitted; approved by
            财务 when ``approve``. Refusals (too much, wrong state) change nothing."""
            from django.core.files.base import ContentFile

            from kehu.core.attachments import attach_files

            field = "repair_order" if isinstance(order, RepairOrder) else "maintenance_order"
            decl = registry["onaccount" if on_account else "payment"]
            with contextlib.suppress(ApplicationError):
                doc = document_save(
                    decl, actor=admin, instance=None, data={field: order.pk, "amount": amount}
                )
                if on_account:
                    attach_files(actor=admin, obj=doc, files=[ContentFile(b"v", name="凭证.pdf")])
                approval.submit(decl, actor=admin, doc=doc)
                if approve:
                    approval.approve(decl, actor=org["finance1"], doc=doc)

        @rule(
            data=st.data(),
            model=st.sampled_from([RepairOrder, MaintenanceOrder]),
            share=st.sampled_from(["all", "half", "too_much"]),
            approve=st.booleans(),
            on_account=st.booleans(),
        )
        def pay(self, data, model, share, approve, on_account):
            """回款 / 挂账订单 of what is left, half of it, or too much (refused) against an
            order 待支付."""
            order = self._pick(model, data, status="awaiting_payment")
            if order is None:  # take one there first, so that paying happens often
                order = self._pick(model, data, status__in=SERVICE_TARGETS[:3])
                if order is None:
                    return
                for to in ("in_progress", "awaiting_acceptance", "awaiting_payment"):
                    step = flow.step_for(order.status, to)
                    if step is not None and step.key != "reassign":
                        order = flow.transition(decls[model], actor=admin, order=order, to=to)
            left = order.amount - order_paid(order)
            amount = {
                "all": left,
                "half": (left / 2).quantize(Decimal("0.01")),
                "too_much": left + Decimal("0.01"),
            }[share]
            self._pay(order, amount, approve=approve, on_account=on_account)
            order.refresh_from_db()
            seen.add("onaccount" if on_account else "payment")
            if order.status == "completed" and order.amount > 0:
                seen.add("paid_in_full")

        @rule(data=st.data(), on_account=st.booleans())
        def void_paid(self, data, on_account):
            """作废 an approved 回款 / 挂账订单 of a service order (its order back to 待支付)."""
            decl = registry["onaccount" if on_account else "payment"]
            filters = {"approval_status": "approved", "customer_id__in": self.customers}
            if not on_account:
                filters["contract__isnull"] = True
            doc = self._pick(decl.model, data, **filters)
            if doc is not None:
                approval.void(decl, actor=admin, doc=doc, reason="随机作废")
                seen.add("void_paid")

        @rule(data=st.data(), kind=st.sampled_from(KINDS), amount=amounts)
        def signed_contract(self, data, kind, amount):
            customer = data.draw(st.sampled_from(self.customers))
            doc = document_save(
                CONTRACT,
                actor=sales1,
                instance=None,
                data={"customer": customer, "name": "签约合同", "kind": kind, "amount": amount},
            )
            approval.submit(CONTRACT, actor=sales1, doc=doc)
            approval.approve(CONTRACT, actor=manager1, doc=doc)

        @rule(data=st.data())
        def merge(self, data):
            if len(self.customers) < 2:
                return
            from kehu.customers.merge import merge_customers

            pair = data.draw(
                st.lists(st.sampled_from(self.customers), min_size=2, max_size=2, unique=True)
            )
            merge_customers(actor=manager1, ids=pair, keep_id=pair[0])
            self.customers = [c for c in self.customers if c != pair[1]]

        @invariant()
        def no_drift(self):
            found = drifts(self.customers)
            assert found == [], [d.describe() for d in found]

    run_state_machine_as_test(
        ServiceLedger,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    assert {"accept", "paid_in_full", "cancel_billed", "payment", "onaccount", "void_paid"} <= (
        seen
    ), seen
