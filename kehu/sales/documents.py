"""报价单, 合同, 回款, 回款计划: four declarations of the document layer (kehu.documents).

Each gives its model, its own fields' rules, its list columns and search filters; the layer
gives pages, API, approvals, portrait tab, log and attachments. The ledger hooks live here:
a contract approved bills its kind, a payment approved pays it, 作废 reverses exactly.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import django_filters
import django_tables2 as tables
from django import forms
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from pydantic import Field

from kehu.basics.models import DictEntry, DictKind
from kehu.core.api import Id
from kehu.core.errors import ApplicationError, FieldError
from kehu.core.money import clean_money, money_display
from kehu.core.tables import MoneyColumn
from kehu.customers.forms import customer_picker_field, fill_customer_picker
from kehu.customers.validation import clean_dict_entry
from kehu.documents.fields import day as _day
from kehu.documents.fields import field as _field
from kehu.documents.fields import raise_errors as _errors
from kehu.documents.fields import text as _name
from kehu.documents.fields import user as _user
from kehu.documents.fields import visible_document as _visible
from kehu.documents.fields import when as _when
from kehu.documents.filters import DocumentFilterSet
from kehu.documents.forms import DocumentForm
from kehu.documents.models import ApprovalStatus
from kehu.documents.tables import DocumentTable
from kehu.documents.types import DocumentType, register
from kehu.ledger import ageing
from kehu.ledger import services as ledger

from .models import (
    Contract,
    ContractItem,
    ContractKind,
    Opportunity,
    Payment,
    PaymentPlan,
    Quote,
    QuoteItem,
)

ZERO = Decimal("0.00")
MAX_REMIND_DAYS = 30
COUNTED = (ApprovalStatus.DRAFT, ApprovalStatus.PENDING, ApprovalStatus.APPROVED)
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _user_label(user) -> str:
    return "" if user is None else str(user)


# --- 报价单 --------------------------------------------------------------------------------------


class QuoteFilterSet(DocumentFilterSet):
    search_fields = ("number", "customer__name", "opportunity__name")

    class Meta(DocumentFilterSet.Meta):
        model = Quote


class QuoteTable(DocumentTable):
    """The seed's 报价单列表: ID 报价单号 商机名称 客户名称 客户预算 报价金额 报价人 报价时间 审批状态
    备注 创建时间 操作."""

    url_name = "quote"
    number = tables.Column(verbose_name="报价单号", order_by=("number",))
    opportunity = tables.Column(verbose_name="商机名称", orderable=False)
    budget = MoneyColumn(verbose_name="客户预算", orderable=False)
    amount = MoneyColumn(verbose_name="报价金额", order_by=("amount", "id"))
    quoter = tables.Column(verbose_name="报价人", orderable=False)
    quoted_at = tables.DateTimeColumn(
        verbose_name="报价时间", format="Y-m-d H:i:s", order_by=("quoted_at", "id")
    )

    class Meta(DocumentTable.Meta):
        model = Quote
        fields = [
            "select",
            "number",
            "opportunity",
            "customer",
            "budget",
            "amount",
            "quoter",
            "quoted_at",
            "approval_status",
            "remark",
            "created_at",
            "actions",
        ]
        sequence = fields
        order_by = ("-created_at",)


class QuoteForm(DocumentForm):
    has_items = True
    customer = customer_picker_field()
    budget = forms.CharField(label="客户预算", required=False)
    amount = forms.CharField(label="报价金额", required=False, help_text="有明细时按明细合计")

    class Meta:
        model = Quote
        fields = ["opportunity", "budget", "amount", "quoted_at", "remark"]
        widgets = {"quoted_at": DATETIME, "remark": forms.TextInput(attrs={"col": "col-12"})}

    field_order = ["customer", "opportunity", "budget", "amount", "quoted_at", "remark"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_quote_%s")
        super().__init__(*args, **kwargs)
        self.fields["opportunity"].required = False
        self.fields["opportunity"].queryset = Opportunity.objects.none()
        if self.instance and self.instance.pk:
            del self.fields["customer"]
            self.fields["opportunity"].queryset = Opportunity.objects.filter(
                customer_id=self.instance.customer_id
            )
            return
        self.fields["customer"].required = True
        self.fields["customer"].error_messages["required"] = "请选择客户"
        fill_customer_picker(self)
        chosen = self.initial.get("customer") or (
            self.data.get("customer") if self.is_bound else None
        )
        if chosen and str(chosen).isdigit():
            self.fields["opportunity"].queryset = Opportunity.objects.filter(customer_id=chosen)
        if not self.is_bound:
            self.initial.setdefault("quoted_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))


@register
class QuoteType(DocumentType):
    key, model, prefix, label = "quote", Quote, "BJ", "报价单"
    api_path, url_name, tab_key, tab_label = "quotes", "quote", "quotes", "报价单列表"
    item_model = QuoteItem
    filterset_class, table_class, form_class = QuoteFilterSet, QuoteTable, QuoteForm
    tab_order = 20
    api_fields = {
        "customer_id": (Id, ...),
        "opportunity_id": (Id | None, None),
        "budget": (Decimal | str | None, Field(None, description='"500000.00" or a number')),
        "amount": (Decimal | str | None, Field(None, description="without items; else their sum")),
        "quoted_at": (datetime | None, None),
    }
    out_fields = ("opportunity", "budget", "amount", "quoter", "quoted_at")
    search_fields = ("number", "customer__name", "opportunity__name")
    select_related = ("customer", "customer__owner", "creator", "opportunity", "quoter")
    api_orderings = ("created_at", "number", "amount", "quoted_at")

    def clean(self, *, actor, data, instance, customer):
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        opportunity = data.get("opportunity")
        if opportunity not in (None, ""):
            pk = getattr(opportunity, "pk", opportunity)
            found = (
                Opportunity.objects.filter(pk=pk, customer=customer).first()
                if str(pk).isdigit() and len(str(pk)) < 19
                else None
            )
            if found is None:
                errors["opportunity"] = ["商机不存在或不属于该客户"]
            cleaned["opportunity"] = found
        else:
            cleaned["opportunity"] = None
        cleaned["budget"] = _field(errors, "budget", clean_money, data.get("budget"), "客户预算")
        cleaned["amount"] = _field(errors, "amount", clean_money, data.get("amount"), "报价金额")
        cleaned["quoted_at"] = _field(errors, "quoted_at", _when, data.get("quoted_at"), "报价时间")
        if cleaned["quoted_at"] is None:
            cleaned["quoted_at"] = instance.quoted_at if instance else timezone.now()
        if instance is None:
            cleaned["quoter"] = actor
        _errors(errors)
        return cleaned

    def detail_fields(self, doc):
        return [
            ("商机名称", doc.opportunity.name if doc.opportunity else "—"),
            ("客户预算", money_display(doc.budget)),
            ("报价金额", money_display(doc.amount)),
            ("报价人", _user_label(doc.quoter)),
            ("报价时间", timezone.localtime(doc.quoted_at).strftime("%Y-%m-%d %H:%M:%S")),
        ]

    def extra_actions(self, user, doc):
        from kehu.org.authz import can

        if can(user, "add", Contract(customer=doc.customer)):
            return [("转合同", reverse("quote_to_contract", args=[doc.pk]), "btn-outline-primary")]
        return []

    def submit_refusal(self, doc):
        if doc.amount <= 0:
            return "报价金额必须大于0，请填写报价金额或明细"
        return None


# --- 合同 ----------------------------------------------------------------------------------------


class ContractFilterSet(DocumentFilterSet):
    q = django_filters.CharFilter(label="合同编号/名称/客户", method="search")
    kind = django_filters.ChoiceFilter(label="合同类型", choices=ContractKind.choices)
    ageing = django_filters.ChoiceFilter(
        label="账龄（未收）", choices=ageing.CHOICES, method="filter_ageing"
    )
    search_fields = ("number", "name", "customer__name")

    class Meta(DocumentFilterSet.Meta):
        model = Contract

    def filter_ageing(self, queryset, name, value):
        """首页's 应收账龄 buckets: open approved contracts of that age (kehu/ledger/ageing.py)."""
        return ageing.in_bucket(ageing.open_contracts(queryset), value, timezone.localdate())


class ContractTable(DocumentTable):
    """The seed's 合同: 操作 合同编号 合同名称 合同金额 备注 签约时间 质保结束时间 签约人 审批状态."""

    url_name = "contract"
    number = tables.Column(verbose_name="合同编号", order_by=("number",))
    name = tables.Column(verbose_name="合同名称", order_by=("name", "id"))
    kind = tables.Column(verbose_name="合同类型", order_by=("kind", "id"))
    amount = MoneyColumn(verbose_name="合同金额", order_by=("amount", "id"))
    paid = MoneyColumn(verbose_name="已回款", orderable=False, empty_values=())
    signed_at = tables.DateTimeColumn(
        verbose_name="签约时间", format="Y-m-d H:i", order_by=("signed_at", "id")
    )
    warranty_end_at = tables.DateTimeColumn(
        verbose_name="质保结束时间", format="Y-m-d H:i", orderable=False
    )
    signer = tables.Column(verbose_name="签约人", orderable=False)

    class Meta(DocumentTable.Meta):
        model = Contract
        fields = [
            "select",
            "actions",
            "number",
            "name",
            "kind",
            "customer",
            "amount",
            "paid",
            "remark",
            "signed_at",
            "warranty_end_at",
            "signer",
            "approval_status",
            "created_at",
        ]
        sequence = fields
        order_by = ("-created_at",)

    def render_paid(self, record):
        return money_display(getattr(record, "paid_total", None) or ZERO)


class ContractForm(DocumentForm):
    has_items = True
    customer = customer_picker_field()
    amount = forms.CharField(label="合同金额", required=False, help_text="有明细时按明细合计")

    class Meta:
        model = Contract
        fields = ["name", "kind", "amount", "signed_at", "warranty_end_at", "signer", "remark"]
        widgets = {
            "signed_at": DATETIME,
            "warranty_end_at": DATETIME,
            "signer": forms.Select(attrs={"data-picker": "1"}),
            "remark": forms.TextInput(attrs={"col": "col-12"}),
        }

    field_order = ["customer", "name", "kind", "amount", "signed_at", "warranty_end_at", "signer"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_contract_%s")
        super().__init__(*args, **kwargs)
        from kehu.org.models import User

        self.fields["signer"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["signer"].required = False
        self.fields["name"].required = True
        self.fields["name"].validators = []
        self.fields["name"].error_messages["required"] = "请填写合同名称"
        if self.instance and self.instance.pk:
            del self.fields["customer"]
            return
        self.fields["customer"].required = True
        self.fields["customer"].error_messages["required"] = "请选择客户"
        fill_customer_picker(self)
        if not self.is_bound and self.user is not None:
            self.initial.setdefault("signer", self.user.pk)
            self.initial.setdefault("signed_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))


def approved_paid_of_contract():
    """The approved 回款 total of the outer query's contract (``OuterRef("pk")``), for a
    ``Subquery``: NULL when nothing was paid."""
    from django.db.models import OuterRef

    return (
        Payment.objects.filter(contract=OuterRef("pk"), approval_status=ApprovalStatus.APPROVED)
        .order_by()
        .values("contract")
        .annotate(s=Sum("amount"))
        .values("s")
    )


def paid_total(contract, *, states=COUNTED) -> Decimal:
    """回款 of ``contract`` in ``states`` (未申请, 待审批 and 审批通过 by default: what is already
    promised against its amount)."""
    return (
        Payment.objects.filter(contract=contract, approval_status__in=states).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )


@register
class ContractType(DocumentType):
    key, model, prefix, label = "contract", Contract, "HT", "合同"
    api_path, url_name, tab_key, tab_label = "contracts", "contract", "contracts", "合同"
    item_model = ContractItem
    filterset_class, table_class, form_class = ContractFilterSet, ContractTable, ContractForm
    tab_order = 30
    api_fields = {
        "customer_id": (Id, ...),
        "name": (str, Field(..., max_length=100)),
        "kind": (
            str,
            Field(
                "vehicle",
                description="vehicle 整车销售 / parts 配件销售 / used_vehicle 二手车 / lease 租赁",
            ),
        ),
        "amount": (Decimal | str | None, Field(None, description="without items; else their sum")),
        "signed_at": (datetime | None, None),
        "warranty_end_at": (datetime | None, None),
        "signer_id": (Id | None, None),
    }
    out_fields = ("name", "kind", "amount", "signed_at", "warranty_end_at", "signer", "quote")
    search_fields = ("number", "name", "customer__name")
    select_related = ("customer", "customer__owner", "creator", "signer")
    api_orderings = ("created_at", "number", "amount", "signed_at")

    def list_queryset(self, queryset):
        # 已回款 of each row: a correlated subquery, computed for the page's rows only — a join
        # with every contract's payments and GROUP BY made the list read all of them (13 s
        # over 1,000,000 contracts).
        from django.db.models import Subquery

        return queryset.annotate(paid_total=Subquery(approved_paid_of_contract()))

    def clean(self, *, actor, data, instance, customer):
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        cleaned["name"] = _field(
            errors, "name", _name, data.get("name"), "合同名称", 100, required=True
        )
        kind = data.get("kind") or ContractKind.VEHICLE
        if kind not in ContractKind.values:
            errors["kind"] = [
                "合同类型无效（vehicle 整车销售 / parts 配件销售 / used_vehicle 二手车 / lease 租赁）"
            ]
        cleaned["kind"] = kind
        cleaned["amount"] = _field(errors, "amount", clean_money, data.get("amount"), "合同金额")
        cleaned["signed_at"] = _field(errors, "signed_at", _when, data.get("signed_at"), "签约时间")
        cleaned["warranty_end_at"] = _field(
            errors, "warranty_end_at", _when, data.get("warranty_end_at"), "质保结束时间"
        )
        cleaned["signer"] = _field(errors, "signer", _user, data.get("signer"), "签约人")
        if (
            cleaned["signed_at"]
            and cleaned["warranty_end_at"]
            and cleaned["warranty_end_at"] < cleaned["signed_at"]
        ):
            errors["warranty_end_at"] = ["质保结束时间不能早于签约时间"]
        if data.get("quote") not in (None, ""):
            cleaned["quote"] = _field(
                errors, "quote", _visible, Quote, actor, data.get("quote"), "报价单", customer
            )
        _errors(errors)
        return cleaned

    def detail_fields(self, doc):
        def when(v):
            return timezone.localtime(v).strftime("%Y-%m-%d %H:%M") if v else "—"

        approved = paid_total(doc, states=(ApprovalStatus.APPROVED,))
        return [
            ("合同名称", doc.name),
            ("合同类型", doc.get_kind_display()),
            ("合同金额", money_display(doc.amount)),
            ("已回款（审批通过）", money_display(approved)),
            ("未回款", money_display(doc.amount - approved)),
            ("签约时间", when(doc.signed_at)),
            ("质保结束时间", when(doc.warranty_end_at)),
            ("签约人", _user_label(doc.signer)),
            ("来源报价单", doc.quote.number if doc.quote else "—"),
        ]

    def submit_refusal(self, doc):
        if doc.amount <= 0:
            return "合同金额必须大于0，请填写合同金额或明细"
        return None

    def on_approved(self, doc):
        from kehu.pool import rules as pool_rules

        if ledger.post(customer_id=doc.customer_id, kind=doc.kind, billed=doc.amount):
            pool_rules.refresh_return_due([doc.customer_id])  # 已成交客户不回收 applies now

    def void_refusal(self, doc):
        if Payment.objects.filter(
            contract=doc, approval_status__in=(ApprovalStatus.PENDING, ApprovalStatus.APPROVED)
        ).exists():
            return "该合同有待审批或审批通过的回款，请先撤回或作废这些回款"
        return None

    def on_voided(self, doc):
        ledger.post(customer_id=doc.customer_id, kind=doc.kind, billed=-doc.amount)

    def delete_refusal(self, doc):
        if doc.payments.exists() or doc.plans.exists():
            return "该合同已有回款或回款计划，不能删除"
        return None

    def extra_actions(self, user, doc):
        from kehu.org.authz import can

        found = []
        if doc.approval_status == ApprovalStatus.APPROVED and can(
            user, "add", Payment(customer=doc.customer)
        ):
            found.append(
                ("登记回款", reverse("payment_add") + f"?contract={doc.pk}", "btn-primary")
            )
        if doc.approval_status != ApprovalStatus.VOID and can(
            user, "add", PaymentPlan(customer=doc.customer)
        ):
            found.append(("添加回款计划", reverse("paymentplan_add") + f"?contract={doc.pk}", ""))
        if doc.approval_status == ApprovalStatus.APPROVED and user.has_perm("sales.view_contract"):
            # 生成车辆 (kehu/aftersales): one vehicle per unit of its vehicle lines
            from kehu.aftersales.models import Vehicle
            from kehu.aftersales.services import contract_vehicle_units

            if can(user, "add", Vehicle(customer=doc.customer)) and contract_vehicle_units(doc):
                url = reverse("vehicle_from_contract", args=[doc.pk])
                found.append(("生成车辆", url, ""))
        return found

    def related_tables(self, request, doc):
        from kehu.documents.views import related_sections

        hidden = ("contract", "contract_name")
        return related_sections(
            request,
            doc,
            [
                ("payment", "回款信息", "contract", hidden),
                ("paymentplan", "回款计划", "contract", hidden),
            ],
        )


# --- 回款计划 ------------------------------------------------------------------------------------


class PaymentPlanFilterSet(DocumentFilterSet):
    q = django_filters.CharFilter(label="合同编号/名称/客户", method="search")
    due = django_filters.ChoiceFilter(
        label="到期",
        choices=[("due", "待回款（已到提醒日）"), ("overdue", "已逾期"), ("settled", "已回款")],
        method="filter_due",
    )
    search_fields = ("contract__number", "contract__name", "customer__name")

    class Meta(DocumentFilterSet.Meta):
        model = PaymentPlan

    def filter_due(self, queryset, name, value):
        today = timezone.localdate()
        if value == "settled":
            return queryset.filter(settled_at__isnull=False)
        queryset = queryset.filter(settled_at__isnull=True)
        if value == "overdue":
            return queryset.filter(due_at__lt=today)
        return due_plans(queryset, today)


def due_plans(queryset, today: date):
    """Plans not yet paid whose reminder day (回款日期 − 提前几天提醒, 0–30 days) has come."""
    cond = Q()
    for days in range(0, MAX_REMIND_DAYS + 1):
        cond |= Q(remind_days=days, due_at__lte=today + timedelta(days=days))
    return queryset.filter(settled_at__isnull=True).filter(cond)


class PaymentPlanTable(DocumentTable):
    """The seed's 回款计划: 回款期数 合同名称 合同金额 本期回款金额 回款日期 提前几天提醒 延期次数
    计划回款方式 备注 创建时间 操作 (回款 续费 删除)."""

    url_name = "paymentplan"
    instalment = tables.Column(verbose_name="回款期数", order_by=("instalment", "id"))
    contract_name = tables.Column(
        verbose_name="合同名称", accessor="contract__name", orderable=False
    )
    contract_amount = MoneyColumn(
        verbose_name="合同金额", accessor="contract__amount", orderable=False
    )
    amount = MoneyColumn(verbose_name="本期回款金额", order_by=("amount", "id"))
    due_at = tables.DateColumn(verbose_name="回款日期", format="Y-m-d", order_by=("due_at", "id"))
    remind_days = tables.Column(verbose_name="提前几天提醒", orderable=False)
    extensions = tables.Column(verbose_name="延期次数", orderable=False)
    method = tables.Column(verbose_name="计划回款方式", orderable=False)
    state = tables.Column(verbose_name="状态", orderable=False, empty_values=())

    class Meta(DocumentTable.Meta):
        model = PaymentPlan
        fields = [
            "select",
            "instalment",
            "contract_name",
            "customer",
            "contract_amount",
            "amount",
            "due_at",
            "remind_days",
            "extensions",
            "method",
            "state",
            "remark",
            "created_at",
            "actions",
        ]
        exclude = ("number", "approval_status")
        sequence = fields
        order_by = ("due_at",)

    def render_state(self, record):
        if record.settled_at:
            return format_html('<span class="badge {}">{}</span>', "bg-green-lt", "已回款")
        if record.due_at < timezone.localdate():
            return format_html('<span class="badge {}">{}</span>', "bg-red-lt", "已逾期")
        return format_html('<span class="badge {}">{}</span>', "bg-blue-lt", "待回款")

    def render_actions(self, record):
        buttons = []
        if not record.settled_at and record.contract.approval_status == ApprovalStatus.APPROVED:
            url = reverse("payment_add") + f"?contract={record.contract_id}&plan={record.pk}"
            buttons.append(
                format_html(
                    '<a class="btn btn-sm btn-ghost-primary" href="{}" hx-get="{}" hx-target="#modal-content">回款</a>',
                    url,
                    url,
                )
            )
        if not record.settled_at:
            url = reverse("paymentplan_extend", args=[record.pk])
            buttons.append(
                format_html(
                    '<a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" hx-target="#modal-content">续费/延期</a>',
                    url,
                    url,
                )
            )
        edit = reverse("paymentplan_edit", args=[record.pk])
        delete = reverse("paymentplan_delete", args=[record.pk])
        buttons.append(
            format_html(
                '<a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" hx-target="#modal-content">编辑</a>',
                edit,
                edit,
            )
        )
        buttons.append(
            format_html(
                '<a class="btn btn-sm btn-ghost-danger" href="{}" hx-get="{}" hx-target="#modal-content">删除</a>',
                delete,
                delete,
            )
        )
        from django.utils.safestring import mark_safe

        return format_html(
            '<div class="btn-list flex-nowrap">{}</div>', mark_safe("".join(buttons))
        )  # noqa: S308


class ContractPickerForm(DocumentForm):
    """回款 and 回款计划 name a contract (visible, approved for a payment); the customer follows."""

    contract = forms.ModelChoiceField(
        label="合同",
        queryset=Contract.objects.none(),
        required=True,
        error_messages={"required": "请选择合同", "invalid_choice": "合同不存在或无权查看"},
        widget=forms.Select(attrs={"data-picker": "1", "col": "col-12"}),
    )
    contract_states: tuple[str, ...] = COUNTED

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.documents.selectors import document_list
        from kehu.documents.types import registry

        if self.instance and self.instance.pk:
            del self.fields["contract"]
            return
        self.fields["contract"].queryset = (
            document_list(registry["contract"], user=self.user)
            .filter(approval_status__in=self.contract_states)
            .order_by("-created_at")
            if self.user is not None
            else Contract.objects.none()
        )
        self.fields["contract"].label_from_instance = lambda c: (
            f"{c.number} {c.name}（{c.customer.name}，{money_display(c.amount)}）"
        )
        chosen = self.initial.get("contract")
        if (
            chosen
            and not self.is_bound
            and not self.fields["contract"]
            .queryset.filter(pk=chosen if str(chosen).isdigit() else 0)
            .exists()
        ):
            self.preselect_error = "合同不存在或无权查看"


class PaymentPlanForm(ContractPickerForm):
    amount = forms.CharField(label="本期回款金额")

    class Meta:
        model = PaymentPlan
        fields = ["instalment", "amount", "due_at", "remind_days", "method", "remark"]
        widgets = {"due_at": DATE, "remark": forms.TextInput(attrs={"col": "col-12"})}

    field_order = ["contract", "instalment", "amount", "due_at", "remind_days", "method"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_plan_%s")
        super().__init__(*args, **kwargs)
        self.fields["method"].queryset = DictEntry.objects.filter(
            kind=DictKind.PAYMENT_METHOD, is_active=True
        )


def _contract_for(actor, data, *, approved: bool):
    """The contract a payment or plan names: visible, not void (approved for a payment)."""
    try:
        contract = _visible(Contract, actor, data.get("contract"), "合同")
    except FieldError as exc:
        raise ApplicationError("请选择合同", errors={"contract": [str(exc)]}) from exc
    if contract.approval_status == ApprovalStatus.VOID:
        raise ApplicationError("该合同已作废", errors={"contract": ["该合同已作废"]})
    if approved and contract.approval_status != ApprovalStatus.APPROVED:
        raise ApplicationError(
            "合同审批通过后才能登记回款", errors={"contract": ["合同审批通过后才能登记回款"]}
        )
    return contract


def _payment_target(actor, data):
    """What a new payment pays, locked: an approved contract, or a repair / maintenance order
    awaiting payment (待支付) — exactly one of them, visible to ``actor``. Concurrent payments
    against the same target queue on its row, so their sum is checked one at a time."""
    named = [key for key in ("contract", "repair_order", "maintenance_order") if data.get(key)]
    if len(named) != 1:
        message = "请选择合同、维修订单或保养订单之一" if named else "请选择合同"
        raise ApplicationError(message, errors={named[-1] if named else "contract": [message]})
    if named[0] == "contract":
        contract = _contract_for(actor, data, approved=True)
        return Contract.objects.select_for_update().get(pk=contract.pk)
    from kehu.aftersales.services import payable_order

    return payable_order(actor, named[0], data.get(named[0]), doing="登记回款")


def _target_room(target, instance) -> tuple[Decimal, Decimal]:
    """(the target's amount, what other payments already promise against it)."""
    if isinstance(target, Contract):
        others = paid_total(target)
    else:
        from kehu.aftersales.services import order_paid

        others = order_paid(target)
    if instance is not None and instance.approval_status in COUNTED:
        others -= instance.amount
    return target.amount, others


def _plan_numbers(errors, data):
    instalment = data.get("instalment")
    try:
        instalment = int(instalment if instalment not in (None, "") else 1)
        if not 1 <= instalment <= 999:
            raise ValueError
    except (TypeError, ValueError):
        errors["instalment"] = ["回款期数必须是1到999的整数"]
        instalment = 1
    remind = data.get("remind_days")
    try:
        remind = int(remind if remind not in (None, "") else 3)
        if not 0 <= remind <= MAX_REMIND_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        errors["remind_days"] = [f"提前几天提醒必须是0到{MAX_REMIND_DAYS}的整数"]
        remind = 3
    return instalment, remind


@register
class PaymentPlanType(DocumentType):
    key, model, prefix, label = "paymentplan", PaymentPlan, "JH", "回款计划"
    api_path, url_name, tab_key, tab_label = "payment-plans", "paymentplan", "plans", "回款计划"
    approval = False
    filterset_class, table_class, form_class = (
        PaymentPlanFilterSet,
        PaymentPlanTable,
        PaymentPlanForm,
    )
    tab_order = 50
    api_fields = {
        "contract_id": (Id, ...),
        "instalment": (int, Field(1, ge=1, le=999)),
        "amount": (Decimal | str, Field(..., description='"20000.00" or a number')),
        "due_at": (date, ...),
        "remind_days": (int, Field(3, ge=0, le=30)),
        "method_id": (Id | None, None),
    }
    create_only_fields = ("contract_id",)
    out_fields = (
        "contract",
        "instalment",
        "amount",
        "due_at",
        "remind_days",
        "extensions",
        "method",
        "settled_at",
    )
    search_fields = ("contract__number", "contract__name", "customer__name")
    select_related = ("customer", "customer__owner", "creator", "contract", "method")
    default_ordering = ("due_at", "id")
    api_orderings = ("due_at", "created_at", "amount")

    def customer_for(self, *, actor, data):
        return _contract_for(actor, data, approved=False).customer

    def clean(self, *, actor, data, instance, customer):
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        if instance is None:
            cleaned["contract"] = _contract_for(actor, data, approved=False)
        cleaned["instalment"], cleaned["remind_days"] = _plan_numbers(errors, data)
        cleaned["amount"] = _field(
            errors, "amount", clean_money, data.get("amount"), "本期回款金额"
        )
        if cleaned["amount"] is not None and cleaned["amount"] <= 0:
            errors["amount"] = ["本期回款金额必须大于0"]
        cleaned["due_at"] = _field(
            errors, "due_at", _day, data.get("due_at"), "回款日期", required=True
        )
        cleaned["method"] = _field(
            errors,
            "method",
            clean_dict_entry,
            data.get("method"),
            DictKind.PAYMENT_METHOD,
            "回款方式",
        )
        _errors(errors)
        return cleaned

    def detail_fields(self, doc):
        return [
            ("合同", f"{doc.contract.number} {doc.contract.name}"),
            ("回款期数", doc.instalment),
            ("本期回款金额", money_display(doc.amount)),
            ("回款日期", doc.due_at.strftime("%Y-%m-%d")),
            ("提前几天提醒", doc.remind_days),
            ("延期次数", doc.extensions),
            ("计划回款方式", doc.method or "—"),
            ("状态", "已回款" if doc.settled_at else "待回款"),
        ]

    def delete_refusal(self, doc):
        if doc.payments.exclude(
            approval_status__in=(ApprovalStatus.REJECTED, ApprovalStatus.VOID)
        ).exists():
            return "该回款计划已登记回款，不能删除"
        return None

    def extra_actions(self, user, doc):
        found = []
        if not doc.settled_at:
            if doc.contract.approval_status == ApprovalStatus.APPROVED:
                found.append(
                    (
                        "回款",
                        reverse("payment_add") + f"?contract={doc.contract_id}&plan={doc.pk}",
                        "btn-primary",
                    )
                )
            found.append(("续费/延期", reverse("paymentplan_extend", args=[doc.pk]), ""))
        return found


def settle_plan(plan_id: int | None) -> None:
    """A plan is 已回款 once its approved payments cover its amount (and open again if a
    payment is voided)."""
    if plan_id is None:
        return
    plan = PaymentPlan.objects.select_for_update().get(pk=plan_id)
    paid = (
        plan.payments.filter(approval_status=ApprovalStatus.APPROVED).aggregate(s=Sum("amount"))[
            "s"
        ]
        or ZERO
    )
    settled = paid >= plan.amount
    if settled and plan.settled_at is None:
        plan.settled_at = timezone.now()
    elif not settled:
        plan.settled_at = None
    plan.save(update_fields=["settled_at", "updated_at"])


# --- 回款 ----------------------------------------------------------------------------------------


class PaymentFilterSet(DocumentFilterSet):
    q = django_filters.CharFilter(label="回款编号/合同/客户", method="search")
    search_fields = ("number", "contract__number", "contract__name", "customer__name")

    class Meta(DocumentFilterSet.Meta):
        model = Payment


class PaymentTable(DocumentTable):
    """The seed's 回款信息: 操作 回款编号 合同编号 合同名称 回款金额 备注 创建时间 审批状态."""

    url_name = "payment"
    number = tables.Column(verbose_name="回款编号", order_by=("number",))
    contract = tables.Column(
        verbose_name="合同编号", accessor="contract__number", orderable=False, empty_values=()
    )
    contract_name = tables.Column(
        verbose_name="合同名称", accessor="contract__name", orderable=False, empty_values=()
    )
    amount = MoneyColumn(verbose_name="回款金额", order_by=("amount", "id"))

    def render_contract(self, record):
        """A service order's payment shows the order's number (维修订单 WX…)."""
        if record.contract_id:
            return record.contract.number
        order = record.repair_order or record.maintenance_order
        return format_html(
            '<a href="{}">{}</a>',
            reverse(f"{order._meta.model_name}_detail", args=[order.pk]),
            order.number,
        )

    def render_contract_name(self, record):
        if record.contract_id:
            return record.contract.name
        order = record.repair_order or record.maintenance_order
        return f"{order._meta.verbose_name}回款"

    paid_at = tables.DateColumn(verbose_name="回款日期", format="Y-m-d", order_by=("paid_at", "id"))
    method = tables.Column(verbose_name="回款方式", orderable=False)

    class Meta(DocumentTable.Meta):
        model = Payment
        fields = [
            "select",
            "actions",
            "number",
            "contract",
            "contract_name",
            "customer",
            "amount",
            "paid_at",
            "method",
            "remark",
            "created_at",
            "approval_status",
        ]
        sequence = fields
        order_by = ("-created_at",)


class PaymentForm(ContractPickerForm):
    contract_states = (ApprovalStatus.APPROVED,)
    amount = forms.CharField(label="回款金额")
    plan = forms.IntegerField(
        required=False, widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1
    )

    class Meta:
        model = Payment
        fields = ["amount", "paid_at", "method", "remark"]
        widgets = {"paid_at": DATE, "remark": forms.TextInput(attrs={"col": "col-12"})}

    field_order = ["contract", "amount", "paid_at", "method", "remark"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_payment_%s")
        super().__init__(*args, **kwargs)
        self.fields["method"].queryset = DictEntry.objects.filter(
            kind=DictKind.PAYMENT_METHOD, is_active=True
        )
        if self.instance and self.instance.pk:
            del self.fields["plan"]
            return
        if self._for_service_order():
            # 登记回款 from a repair / maintenance order awaiting payment (SPEC §6.4)
            from kehu.aftersales.forms import ServiceOrderChoiceMixin

            del self.fields["contract"], self.fields["plan"]
            ServiceOrderChoiceMixin.add_service_order_field(self)
            self.order_fields(["service_order", "amount", "paid_at", "method", "remark"])
            if not self.is_bound:
                self.initial.setdefault("paid_at", timezone.localdate().isoformat())
                self._prefill_unpaid()
            return
        plan_id = self.initial.get("plan")
        if plan_id and not self.is_bound and str(plan_id).isdigit():
            plan = PaymentPlan.objects.filter(
                pk=plan_id, contract_id=self.initial.get("contract")
            ).first()
            if plan is None:
                self.preselect_error = "回款计划不存在或无权查看"
            else:
                self.initial.setdefault("amount", str(plan.amount))
                self.initial.setdefault("method", plan.method_id)
                self.initial.setdefault("remark", f"第{plan.instalment}期回款")
        if not self.is_bound:
            self.initial.setdefault("paid_at", timezone.localdate().isoformat())

    def _for_service_order(self) -> bool:
        if self.is_bound:
            return bool(self.data.get("service_order"))
        return any(self.initial.get(k) for k in ("repair_order", "maintenance_order"))

    def _prefill_unpaid(self) -> None:
        from kehu.aftersales.forms import payable_orders
        from kehu.aftersales.services import order_unpaid

        chosen = self.initial.get("service_order")
        for order in payable_orders(self.user):
            if order.choice_key == chosen:
                self.initial.setdefault("amount", str(order_unpaid(order)))
                self.initial.setdefault("remark", f"{order._meta.verbose_name}{order.number}回款")

    def clean_service_order(self):
        from kehu.aftersales.forms import ServiceOrderChoiceMixin

        return ServiceOrderChoiceMixin.clean_service_order(self)

    def clean(self):
        data = super().clean()
        for name in ("repair_order", "maintenance_order"):
            if name in self.cleaned_data:
                data[name] = self.cleaned_data[name]
        return data


@register
class PaymentType(DocumentType):
    key, model, prefix, label = "payment", Payment, "HK", "回款"
    api_path, url_name, tab_key, tab_label = "payments", "payment", "payments", "回款信息"
    filterset_class, table_class, form_class = PaymentFilterSet, PaymentTable, PaymentForm
    tab_order = 40
    addable_from_portrait = False  # a payment is registered on an approved contract
    api_fields = {
        "contract_id": (Id | None, Field(None, description="审批通过的合同；或下面的售后订单之一")),
        "repair_order_id": (Id | None, Field(None, description="待支付的维修订单")),
        "maintenance_order_id": (Id | None, Field(None, description="待支付的保养订单")),
        "plan_id": (Id | None, None),
        "amount": (Decimal | str, Field(..., description='"25000.00" or a number')),
        "paid_at": (date | None, None),
        "method_id": (Id | None, None),
    }
    create_only_fields = ("contract_id", "repair_order_id", "maintenance_order_id", "plan_id")
    out_fields = (
        "contract",
        "repair_order",
        "maintenance_order",
        "plan",
        "kind",
        "amount",
        "paid_at",
        "method",
    )
    search_fields = (
        "number",
        "contract__number",
        "contract__name",
        "repair_order__number",
        "maintenance_order__number",
        "customer__name",
    )
    select_related = (
        "customer",
        "customer__owner",
        "creator",
        "contract",
        "repair_order",
        "maintenance_order",
        "method",
    )
    api_orderings = ("created_at", "number", "amount", "paid_at")

    def customer_for(self, *, actor, data):
        return _payment_target(actor, data).customer

    def clean(self, *, actor, data, instance, customer):
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        if instance is None:
            target = _payment_target(actor, data)
            if isinstance(target, Contract):
                cleaned["contract"], cleaned["kind"] = target, target.kind
            else:
                field_name = (
                    "repair_order"
                    if target._meta.model_name == "repairorder"
                    else ("maintenance_order")
                )
                cleaned[field_name] = target
                cleaned["kind"] = "repair" if field_name == "repair_order" else "maintenance"
            plan = data.get("plan")
            if plan not in (None, "") and not isinstance(target, Contract):
                errors["plan"] = ["回款计划只能用于合同回款"]
            elif plan not in (None, ""):
                pk = getattr(plan, "pk", plan)
                found = (
                    PaymentPlan.objects.filter(pk=pk, contract=target).first()
                    if str(pk).isdigit() and len(str(pk)) < 19
                    else None
                )
                if found is None:
                    errors["plan"] = ["回款计划不存在或不属于该合同"]
                cleaned["plan"] = found
        else:
            target = self._locked_target(instance)
        amount = _field(errors, "amount", clean_money, data.get("amount"), "回款金额")
        if amount is not None and amount <= 0:
            errors["amount"] = ["回款金额必须大于0"]
        elif amount is not None:
            total, others = _target_room(target, instance)
            if others + amount > total:
                what = "合同" if isinstance(target, Contract) else target._meta.verbose_name
                errors["amount"] = [
                    f"回款金额超出{what}未回款金额：{what}金额 {money_display(total)}，"
                    f"已登记回款 {money_display(others)}，"
                    f"最多还能登记 {money_display(max(total - others, ZERO))}"
                ]
        cleaned["amount"] = amount
        cleaned["paid_at"] = _field(errors, "paid_at", _day, data.get("paid_at"), "回款日期") or (
            instance.paid_at if instance else timezone.localdate()
        )
        cleaned["method"] = _field(
            errors,
            "method",
            clean_dict_entry,
            data.get("method"),
            DictKind.PAYMENT_METHOD,
            "回款方式",
        )
        _errors(errors)
        return cleaned

    @staticmethod
    def _locked_target(doc):
        if doc.contract_id:
            return Contract.objects.select_for_update().get(pk=doc.contract_id)
        from kehu.aftersales.services import lock_order

        order = doc.repair_order or doc.maintenance_order
        return lock_order(type(order), order.pk)

    def detail_fields(self, doc):
        kinds = {**dict(ContractKind.choices), "repair": "维修订单", "maintenance": "保养订单"}
        if doc.contract_id:
            target = [("合同编号", doc.contract.number), ("合同名称", doc.contract.name)]
        else:
            order = doc.repair_order or doc.maintenance_order
            url = reverse(f"{order._meta.model_name}_detail", args=[order.pk])
            target = [
                (
                    str(order._meta.verbose_name),
                    format_html('<a href="{}">{}</a>', url, order.number),
                )
            ]
        return [
            *target,
            ("订单类型", kinds.get(doc.kind, doc.kind)),
            ("回款金额", money_display(doc.amount)),
            ("回款日期", doc.paid_at.strftime("%Y-%m-%d")),
            ("回款方式", doc.method or "—"),
            ("回款计划", f"第{doc.plan.instalment}期" if doc.plan else "—"),
        ]

    def submit_refusal(self, doc):
        target = self._locked_target(doc)
        if isinstance(target, Contract):
            if target.approval_status != ApprovalStatus.APPROVED:
                return "合同未审批通过或已作废，不能提交回款"
        else:
            from kehu.aftersales.models import ServiceStatus

            if target.status != ServiceStatus.AWAITING_PAYMENT:
                return (
                    f"{target._meta.verbose_name}「{target.number}」状态为"
                    f"「{target.get_status_display()}」，不能提交回款"
                )
        total, others = _target_room(target, doc)
        if others + doc.amount > total:
            return (
                f"回款金额超出未回款金额：金额 {money_display(total)}，"
                f"其他回款 {money_display(others)}"
            )
        return None

    def on_approved(self, doc):
        ledger.post(customer_id=doc.customer_id, kind=doc.kind, paid=doc.amount)
        settle_plan(doc.plan_id)
        self._settle_order(doc)

    def on_voided(self, doc):
        ledger.post(customer_id=doc.customer_id, kind=doc.kind, paid=-doc.amount)
        settle_plan(doc.plan_id)
        self._settle_order(doc)

    @staticmethod
    def _settle_order(doc):
        """A service order paid in full is 已完成 (kehu.aftersales.flow.settle)."""
        order = doc.repair_order or doc.maintenance_order
        if order is not None:
            from kehu.aftersales import flow

            flow.settle(type(order), order.pk, actor=getattr(doc, "acting_user", None))


# --- the ledger's sources: what reconcile_receivables recomputes from -------------------------


@ledger.register_source(billed_on="approved_at")
def billed_contracts():
    from django.db.models import IntegerField, Value

    return (
        Contract.objects.filter(approved_at__isnull=False)
        .annotate(
            billed=ledger.amount_when(Q(approval_status=ApprovalStatus.APPROVED)),
            paid=ledger.no_amount(),
            ever_billed=Value(1, output_field=IntegerField()),
        )
        .values("customer_id", "kind", "billed", "paid", "ever_billed")
        .order_by()
    )


@ledger.register_source
def paid_payments():
    from django.db.models import IntegerField, Value

    return (
        Payment.objects.filter(approval_status=ApprovalStatus.APPROVED)
        .annotate(
            billed=ledger.no_amount(),
            paid=ledger.amount_when(Q(pk__isnull=False)),
            ever_billed=Value(0, output_field=IntegerField()),
        )
        .values("customer_id", "kind", "billed", "paid", "ever_billed")
        .order_by()
    )
