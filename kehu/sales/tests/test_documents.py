"""报价单, 合同, 回款, 回款计划: approvals, the receivables ledger and bad input (issue 11)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from kehu.audit.models import ChangeLog
from kehu.basics.models import Product
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Customer
from kehu.documents import approval
from kehu.documents.models import ApprovalRecord, ApprovalStatus, ApprovalStep, ApproverKind
from kehu.documents.services import document_delete, document_save
from kehu.documents.types import registry
from kehu.ledger.services import drifts
from kehu.sales.models import Contract, Payment, PaymentPlan, Quote

QUOTE, CONTRACT, PAYMENT, PLAN = (
    registry[k] for k in ("quote", "contract", "payment", "paymentplan")
)


@pytest.fixture
def customer(make_customer):
    return make_customer("sales1")


def contract(org, customer, amount="300000", kind="vehicle", *, approved=False, **data):
    doc = document_save(
        CONTRACT,
        actor=org["sales1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "整车销售合同",
            "kind": kind,
            "amount": amount,
            **data,
        },
    )
    if approved:
        approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
        approval.approve(CONTRACT, actor=org["manager1"], doc=doc)
        doc.refresh_from_db()
    return doc


def payment(org, doc, amount, *, approved=False, **data):
    pay = document_save(
        PAYMENT,
        actor=org["sales1"],
        instance=None,
        data={"contract": doc.pk, "amount": amount, **data},
    )
    if approved:
        approval.submit(PAYMENT, actor=org["sales1"], doc=pay)
        approval.approve(PAYMENT, actor=org["finance1"], doc=pay)
        pay.refresh_from_db()
    return pay


def figures(customer) -> tuple[str, Decimal, Decimal]:
    c = Customer.objects.get(pk=customer.pk)
    return c.status, c.receivable_vehicle, c.receivable_total


def test_approving_a_contract_bills_its_kind_and_makes_the_customer_won(org, customer):
    doc = contract(org, customer, "300000")
    assert figures(customer) == ("open", Decimal("0.00"), Decimal("0.00"))  # a draft bills nothing
    approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
    assert figures(customer) == ("open", Decimal("0.00"), Decimal("0.00"))  # pending neither
    approval.approve(CONTRACT, actor=org["manager1"], doc=doc, comment="同意")
    assert figures(customer) == ("won", Decimal("300000.00"), Decimal("300000.00"))
    parts = contract(org, customer, "1200.50", "parts", approved=True)
    c = Customer.objects.get(pk=customer.pk)
    assert c.receivable_parts == Decimal("1200.50") and c.receivable_total == Decimal("301200.50")
    assert parts.approval_status == ApprovalStatus.APPROVED and parts.approved_at is not None
    history = [
        r.action for r in ApprovalRecord.objects.filter(doc_type="contract", document_id=doc.pk)
    ]
    assert history == ["submit", "approve"]
    assert (
        ChangeLog.objects.filter(
            object_type="sales.contract", object_id=doc.pk, action="approve"
        ).count()
        == 2
    )
    assert drifts() == []


def test_approving_a_payment_lowers_the_receivable_and_voiding_reverses_exactly(org, customer):
    doc = contract(org, customer, "300000", approved=True)
    pay = payment(org, doc, "100000.25", approved=True)
    assert figures(customer) == ("won", Decimal("199999.75"), Decimal("199999.75"))
    with pytest.raises(ApplicationError, match="请填写作废原因"):
        approval.void(PAYMENT, actor=org["finance1"], doc=pay, reason=" ")
    approval.void(PAYMENT, actor=org["finance1"], doc=pay, reason="录错金额")
    assert figures(customer) == ("won", Decimal("300000.00"), Decimal("300000.00"))
    with pytest.raises(ApplicationError, match="已作废"):
        approval.void(PAYMENT, actor=org["finance1"], doc=pay, reason="再来一次")
    approval.void(CONTRACT, actor=org["manager1"], doc=doc, reason="合同取消")
    assert figures(customer)[1:] == (Decimal("0.00"), Decimal("0.00"))
    assert drifts() == []


def test_a_contract_with_live_payments_cannot_be_voided(org, customer):
    doc = contract(org, customer, "1000", approved=True)
    payment(org, doc, "400", approved=True)
    with pytest.raises(ApplicationError, match="请先撤回或作废这些回款"):
        approval.void(CONTRACT, actor=org["manager1"], doc=doc, reason="取消")
    assert figures(customer)[1] == Decimal("600.00")


def test_overpayment_is_refused_with_the_amount_left(org, customer):
    doc = contract(org, customer, "1000", approved=True)
    payment(org, doc, "600")  # a draft already promises 600
    with pytest.raises(ApplicationError) as err:
        payment(org, doc, "400.01")
    assert "最多还能登记 400.00" in err.value.errors["amount"][0]
    assert Payment.objects.filter(contract=doc).count() == 1
    payment(org, doc, "400")  # exactly the rest is fine


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payments_that_together_overpay_one_is_refused(org, customer):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers anyway)")
    doc = contract(org, customer, "1000", approved=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def pay():
        try:
            barrier.wait()
            payment(org, doc, "600")
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(exc.errors.get("amount", [exc.message])[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == 2
    assert Payment.objects.filter(contract=doc).count() == 1


@pytest.mark.django_db(transaction=True)
def test_numbers_are_unique_under_concurrent_creation(org, customer):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    barrier = threading.Barrier(6)
    numbers: list[str] = []

    def create():
        try:
            barrier.wait()
            for _ in range(5):
                numbers.append(
                    document_save(
                        QUOTE,
                        actor=org["sales1"],
                        instance=None,
                        data={"customer": customer.pk, "amount": "1"},
                    ).number
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == 30 and len(set(numbers)) == 30
    assert all(n.startswith("BJ") and len(n) == 20 for n in numbers)


def test_a_deleted_documents_number_is_never_issued_again(org, customer, monkeypatch):
    first = document_save(QUOTE, actor=org["sales1"], instance=None, data={"customer": customer.pk})
    number = first.number
    document_delete(QUOTE, actor=org["sales1"], instance=first)
    draws = iter([int(number[-4:]), int(number[-4:]), 1234])
    monkeypatch.setattr("kehu.documents.numbering.secrets.randbelow", lambda n: next(draws))
    monkeypatch.setattr(
        "kehu.documents.numbering.timezone.localtime",
        lambda: __import__("datetime").datetime.strptime(number[2:16], "%Y%m%d%H%M%S"),
    )
    again = document_save(QUOTE, actor=org["sales1"], instance=None, data={"customer": customer.pk})
    assert again.number == number[:16] + "1234"


def test_pending_and_approved_documents_cannot_be_edited_or_deleted(org, customer):
    doc = contract(org, customer, "500")
    approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
    doc.refresh_from_db()
    for state in ("pending", "approved"):
        with pytest.raises(ApplicationError, match="不能修改"):
            document_save(
                CONTRACT, actor=org["sales1"], instance=doc, data={"name": "改名", "amount": "1"}
            )
        with pytest.raises(ApplicationError):
            document_delete(CONTRACT, actor=org["sales1"], instance=doc)
        assert Contract.objects.get(pk=doc.pk).amount == Decimal("500.00")
        if state == "pending":
            approval.approve(CONTRACT, actor=org["manager1"], doc=doc)
            doc.refresh_from_db()


def test_only_the_configured_approver_of_the_current_step_may_approve(org, customer):
    doc = contract(org, customer, "800")
    approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
    for outsider in ("sales1", "sales2", "sales3", "finance1", "service1"):
        with pytest.raises(Forbidden):
            approval.approve(CONTRACT, actor=org[outsider], doc=doc)
    assert Contract.objects.get(pk=doc.pk).approval_status == "pending"
    # a two-step flow: the leader, then finance1 by name
    ApprovalStep.objects.create(doc_type="contract", order=1, approver_kind=ApproverKind.LEADER)
    step2 = ApprovalStep.objects.create(
        doc_type="contract", order=2, approver_kind=ApproverKind.USERS
    )
    step2.users.set([org["finance1"]])
    approval.approve(CONTRACT, actor=org["manager1"], doc=doc)
    doc.refresh_from_db()
    assert doc.approval_status == "pending" and doc.approval_step == 1
    assert figures(customer)[2] == Decimal("0.00")  # nothing billed before the last step
    with pytest.raises(Forbidden, match="人员："):
        approval.approve(CONTRACT, actor=org["manager1"], doc=doc)
    approval.approve(CONTRACT, actor=org["finance1"], doc=doc)
    assert figures(customer)[2] == Decimal("800.00")


def test_payments_go_to_finance_by_default(org, customer):
    doc = contract(org, customer, "800", approved=True)
    pay = payment(org, doc, "100")
    approval.submit(PAYMENT, actor=org["sales1"], doc=pay)
    with pytest.raises(Forbidden):
        approval.approve(PAYMENT, actor=org["manager1"], doc=pay)
    approval.approve(PAYMENT, actor=org["finance1"], doc=pay)
    assert figures(customer)[2] == Decimal("700.00")


def test_withdraw_reject_and_resubmit(org, customer):
    doc = contract(org, customer, "900")
    approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
    approval.withdraw(CONTRACT, actor=org["sales1"], doc=doc)
    doc.refresh_from_db()
    assert doc.approval_status == "draft"
    document_save(
        CONTRACT, actor=org["sales1"], instance=doc, data={"name": "整车销售合同", "amount": "950"}
    )
    approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
    with pytest.raises(ApplicationError, match="请填写驳回原因"):
        approval.reject(CONTRACT, actor=org["manager1"], doc=doc, comment="")
    approval.reject(CONTRACT, actor=org["manager1"], doc=doc, comment="价格太低")
    doc.refresh_from_db()
    assert doc.approval_status == "rejected"
    with pytest.raises(ApplicationError, match="不能审批"):
        approval.approve(CONTRACT, actor=org["manager1"], doc=doc)
    saved = document_save(
        CONTRACT, actor=org["sales1"], instance=doc, data={"name": "整车销售合同", "amount": "990"}
    )
    approval.submit(CONTRACT, actor=org["sales1"], doc=saved)
    approval.approve(CONTRACT, actor=org["manager1"], doc=saved)
    assert figures(customer)[1] == Decimal("990.00")
    actions = list(
        ApprovalRecord.objects.filter(doc_type="contract", document_id=doc.pk).values_list(
            "action", flat=True
        )
    )
    assert actions == ["submit", "withdraw", "submit", "reject", "submit", "approve"]


def test_line_items_are_computed_server_side_and_convert_to_a_contract(org, customer):
    product = Product.objects.create(
        name="3吨柴油叉车", spec="CPCD30", unit="台", list_price=Decimal("98000")
    )
    quote = document_save(
        QUOTE,
        actor=org["sales1"],
        instance=None,
        data={
            "customer": customer.pk,
            "amount": "1",  # ignored: items decide
            "items": [
                {"product": product.pk, "quantity": "2", "discount": "1000.50"},
                {"name": "货叉加长", "quantity": "1.5", "unit_price": "1200"},
            ],
        },
    )
    assert quote.amount == Decimal("196799.50")  # 2 × 98,000 − 1,000.50 + 1.5 × 1,200
    items = list(quote.items.all())
    assert (items[0].name, items[0].unit_price, items[0].amount) == (
        "3吨柴油叉车",
        Decimal("98000.00"),
        Decimal("194999.50"),
    )
    from kehu.sales.services import quote_to_contract

    made = quote_to_contract(actor=org["sales1"], quote=quote, data={"kind": "vehicle"})
    assert made.approval_status == "draft" and made.quote_id == quote.pk
    assert made.amount == quote.amount and made.items.count() == 2
    assert made.number.startswith("HT")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-1"}, "amount", "不能为负数"),
        ({"amount": "十万"}, "amount", "必须是数字"),
        ({"amount": "1.234"}, "amount", "最多两位小数"),
        ({"amount": "1e400"}, "amount", ""),
        ({"kind": "truck"}, "kind", "合同类型无效"),
        ({"name": "  "}, "name", "请填写合同名称"),
        (
            {"items": [{"name": "叉车", "quantity": "0", "unit_price": "1"}]},
            "items.1.quantity",
            "数量必须大于0",
        ),
        (
            {"items": [{"name": "叉车", "quantity": "1", "unit_price": "1", "discount": "2"}]},
            "items.1.discount",
            "优惠金额不能大于",
        ),
        ({"items": [{"quantity": "1", "unit_price": "1"}]}, "items.1.name", "请选择产品或填写品名"),
        ({"items": [{"product": 999999, "quantity": "1"}]}, "items.1.product", "产品不存在"),
    ],
)
def test_bad_contract_input_gets_a_chinese_error_and_changes_nothing(
    org, customer, data, field, message
):
    payload = {"customer": customer.pk, "name": "合同", "kind": "vehicle", "amount": "100", **data}
    before = (Contract.objects.count(), ChangeLog.objects.count())
    with pytest.raises(ApplicationError) as err:
        document_save(CONTRACT, actor=org["sales1"], instance=None, data=payload)
    assert field in err.value.errors and message in err.value.errors[field][0]
    assert (Contract.objects.count(), ChangeLog.objects.count()) == before


def test_a_disabled_product_cannot_be_put_on_a_line(org, customer):
    product = Product.objects.create(name="停产叉车", spec="X1", list_price=1, is_active=False)
    with pytest.raises(ApplicationError) as err:
        document_save(
            QUOTE,
            actor=org["sales1"],
            instance=None,
            data={"customer": customer.pk, "items": [{"product": product.pk, "quantity": 1}]},
        )
    assert "已停用" in err.value.errors["items.1.product"][0]
    assert not Quote.objects.exists()


def test_payments_on_hidden_draft_or_foreign_contracts_are_refused(org, customer, make_customer):
    draft = contract(org, customer, "100")
    with pytest.raises(ApplicationError, match="合同审批通过后才能登记回款"):
        payment(org, draft, "10")
    theirs = make_customer("sales3")
    hidden = document_save(
        CONTRACT,
        actor=org["sales3"],
        instance=None,
        data={"customer": theirs.pk, "name": "他人合同", "amount": "100"},
    )
    with pytest.raises(ApplicationError) as err:
        payment(org, hidden, "10")
    assert err.value.errors["contract"] == ["合同不存在或无权查看"]
    approved = contract(org, customer, "100", approved=True)
    other_plan = document_save(
        PLAN,
        actor=org["sales1"],
        instance=None,
        data={"contract": draft.pk, "amount": "10", "due_at": "2026-12-31"},
    )
    with pytest.raises(ApplicationError) as err:
        payment(org, approved, "10", plan=other_plan.pk)
    assert "不属于该合同" in err.value.errors["plan"][0]
    assert not Payment.objects.exists()


def test_a_plan_is_paid_through_its_payment_and_can_be_extended(org, customer):
    from datetime import date

    from kehu.sales.services import plan_extend

    doc = contract(org, customer, "30000", approved=True)
    plan = document_save(
        PLAN,
        actor=org["sales1"],
        instance=None,
        data={
            "contract": doc.pk,
            "instalment": 1,
            "amount": "10000",
            "due_at": "2026-12-02",
            "remind_days": 3,
        },
    )
    plan_extend(actor=org["sales1"], plan=plan, due_at=date(2026, 12, 20), remark="客户资金周转")
    plan.refresh_from_db()
    assert (plan.due_at, plan.extensions) == (date(2026, 12, 20), 1)
    with pytest.raises(ApplicationError, match="必须晚于原回款日期"):
        plan_extend(actor=org["sales1"], plan=plan, due_at=date(2026, 12, 1))
    payment(org, doc, "10000", approved=True, plan=plan.pk)
    plan.refresh_from_db()
    assert plan.settled_at is not None
    with pytest.raises(ApplicationError, match="已回款"):
        plan_extend(actor=org["sales1"], plan=plan, due_at=date(2027, 1, 1))
    with pytest.raises(ApplicationError, match="已登记回款"):
        document_delete(PLAN, actor=org["sales1"], instance=plan)
    assert PaymentPlan.objects.filter(pk=plan.pk).exists()


def test_due_plans_and_pending_approvals_reach_the_todo(org, customer, client_for):
    from django.utils import timezone

    doc = contract(org, customer, "5000", approved=True)
    soon = timezone.localdate() + __import__("datetime").timedelta(days=2)
    later = timezone.localdate() + __import__("datetime").timedelta(days=20)
    due = document_save(
        PLAN,
        actor=org["sales1"],
        instance=None,
        data={"contract": doc.pk, "amount": "100", "due_at": soon, "remind_days": 3},
    )
    document_save(
        PLAN,
        actor=org["sales1"],
        instance=None,
        data={"contract": doc.pk, "amount": "100", "due_at": later, "remind_days": 3},
    )
    pending = contract(org, customer, "700")
    approval.submit(CONTRACT, actor=org["sales1"], doc=pending)
    body = client_for("sales1").get("/api/v1/todo").json()
    assert [p["id"] for p in body["payment_plans_due"]] == [due.pk]
    assert body["approvals"] == []
    body = client_for("manager1").get("/api/v1/todo").json()
    assert [a["number"] for a in body["approvals"]] == [pending.number]
    page = client_for("manager1").get("/todo/").content.decode()
    assert pending.number in page and "待我审批" in page


def test_a_customer_with_documents_cannot_be_deleted(org, customer):
    from kehu.customers.services import customer_delete

    document_save(QUOTE, actor=org["sales1"], instance=None, data={"customer": customer.pk})
    with pytest.raises(ApplicationError, match="该客户有报价单"):
        customer_delete(actor=org["sales1"], customer=customer)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_merge_moves_documents_and_figures_through_the_ledger(org, make_customer):
    from kehu.customers.merge import merge_customers

    a, b = (
        make_customer("sales1", name="合并甲有限公司"),
        make_customer("sales1", name="合并乙有限公司"),
    )
    contract(org, a, "100", approved=True)
    doc_b = contract(org, b, "250", "lease", approved=True)
    payment(org, doc_b, "50", approved=True)
    kept = merge_customers(actor=org["manager1"], keep_id=a.pk, ids=[a.pk, b.pk])
    kept = Customer.objects.get(pk=kept.pk)
    assert (kept.receivable_vehicle, kept.receivable_lease, kept.receivable_total) == (
        Decimal("100.00"),
        Decimal("200.00"),
        Decimal("300.00"),
    )
    assert Contract.objects.filter(customer=kept).count() == 2 and drifts() == []


def test_reconcile_reports_and_fixes_drift(org, customer, capsys):
    from django.core.management import call_command

    contract(org, customer, "100", approved=True)
    Customer.objects.filter(pk=customer.pk).update(receivable_vehicle=Decimal("1"))
    with pytest.raises(SystemExit):
        call_command("reconcile_receivables")
    assert "整车订单 1.00 → 100.00" in capsys.readouterr().out
    call_command("reconcile_receivables", "--fix")
    assert drifts() == [] and figures(customer)[2] == Decimal("100.00")


def test_a_stale_customer_save_cannot_undo_an_approval(org, customer):
    stale = Customer.objects.get(pk=customer.pk)
    contract(org, customer, "100", approved=True)
    stale.remark = "编辑备注"
    stale.save()
    assert figures(customer) == ("won", Decimal("100.00"), Decimal("100.00"))


def test_a_won_customer_leaves_the_pool_countdown(org, customer):
    from kehu.pool.models import Pool

    Pool.objects.filter(is_default=True).update(not_won_days=30, exempt_won=True)
    from kehu.pool import rules

    rules.refresh_return_due([customer.pk])
    assert Customer.objects.get(pk=customer.pk).pool_return_at is not None
    contract(org, customer, "100", approved=True)
    assert Customer.objects.get(pk=customer.pk).pool_return_at is None


def test_the_list_tabs_split_mine_from_my_subordinates(org, make_customer, client_for):
    mine = make_customer("manager1", name="经理自己的客户有限公司")
    theirs = make_customer("sales1", name="下属的客户有限公司")
    for owner, customer in (("manager1", mine), ("sales1", theirs)):
        document_save(
            CONTRACT,
            actor=org[owner],
            instance=None,
            data={"customer": customer.pk, "name": f"{customer.name}合同", "amount": "1"},
        )
    client = client_for("manager1")
    page = client.get("/contracts/?tab=mine").content.decode()
    assert "经理自己的客户有限公司合同" in page and "下属的客户有限公司合同" not in page
    page = client.get("/contracts/?tab=subordinates").content.decode()
    assert "下属的客户有限公司合同" in page and "经理自己的客户有限公司合同" not in page
    page = client.get("/contracts/").content.decode()
    assert "下属的客户有限公司合同" in page and "经理自己的客户有限公司合同" in page
