"""The customer search panel (SPEC §2.3) — one FilterSet for the page, the export and the API."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Q

from kehu.basics.models import DictEntry, DictKind, Region
from kehu.core.filters import KehuFilterSet, read_choices
from kehu.core.forms import RemoteSelect
from kehu.org.models import User

from .models import RECEIVABLE_KINDS, Contact, Customer, CustomerStatus
from .search import keyword_q
from .validation import normalize_credit_code, normalize_phone

DATE = forms.DateInput(attrs={"type": "date"})


def _dict(kind):
    return DictEntry.objects.filter(kind=kind).order_by("sort", "id")


# A keyword that is a phone (or a part of one) as typed: digits, 全角 or not, spaces, dashes, +.
PHONE_LIKE = re.compile(r"[\d\s()（）+＋\-－—–]+")


def phone_fragment(value: str) -> str:
    """What a phone search matches on: digits and dashes, as phones are stored normalised
    (``normalize_phone``: 全角, spaces, dashes and +86/0086 as the form stores them)."""
    text = normalize_phone(value)
    return "".join(ch for ch in text if ch in "0123456789-").strip("-")


class CustomerFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="关键词", method="filter_q")
    name = django_filters.CharFilter(label="客户名称", method="filter_contains")
    contact_name = django_filters.CharFilter(label="联系人", method="filter_contains")
    phone = django_filters.CharFilter(label="联系电话", method="filter_phone")
    credit_code = django_filters.CharFilter(label="统一社会信用代码", method="filter_credit_code")
    level = django_filters.ModelChoiceFilter(label="客户等级", queryset=_dict(DictKind.LEVEL))
    source = django_filters.ModelChoiceFilter(label="客户来源", queryset=_dict(DictKind.SOURCE))
    industry = django_filters.ModelChoiceFilter(label="行业类型", queryset=_dict(DictKind.INDUSTRY))
    tags = django_filters.ModelChoiceFilter(label="客户标签", queryset=_dict(DictKind.TAG))
    status = django_filters.ChoiceFilter(label="状态", choices=CustomerStatus.choices)
    owner = django_filters.ModelChoiceFilter(
        label="负责人", queryset=User.objects.all(), widget=RemoteSelect("/api/v1/users")
    )
    creator = django_filters.ModelChoiceFilter(
        label="创建人", queryset=User.objects.all(), widget=RemoteSelect("/api/v1/users")
    )
    province = django_filters.ModelChoiceFilter(
        label="省",
        queryset=Region.objects.filter(level=Region.Level.PROVINCE),
        widget=forms.Select(attrs={"data-region": "province"}),
    )
    city = django_filters.ModelChoiceFilter(
        label="市",
        queryset=Region.objects.filter(level=Region.Level.CITY),
        widget=forms.Select(attrs={"data-region": "city"}),
    )
    district = django_filters.ModelChoiceFilter(
        label="区/县",
        queryset=Region.objects.filter(level=Region.Level.DISTRICT),
        widget=forms.Select(attrs={"data-region": "district"}),
    )
    created_from = django_filters.DateFilter(
        label="创建日期从", field_name="created_at", lookup_expr="date__gte", widget=DATE
    )
    created_to = django_filters.DateFilter(
        label="创建日期至", field_name="created_at", lookup_expr="date__lte", widget=DATE
    )
    next_followup_from = django_filters.DateFilter(
        label="下次跟进从", field_name="next_followup_at", lookup_expr="date__gte", widget=DATE
    )
    next_followup_to = django_filters.DateFilter(
        label="下次跟进至", field_name="next_followup_at", lookup_expr="date__lte", widget=DATE
    )
    has_receivable = django_filters.BooleanFilter(
        label="有待收款",
        method="filter_receivable",
        widget=forms.Select(choices=[("", "全部"), ("true", "是"), ("false", "否")]),
    )

    receivable_kind = django_filters.ChoiceFilter(
        label="待收款类型",
        choices=[(k, str(v)) for k, v in RECEIVABLE_KINDS.items()],
        method="filter_receivable_kind",
    )

    class Meta(KehuFilterSet.Meta):
        model = Customer
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Render only the cities/districts under the chosen parents (the page script cascades).
        data = self.data or {}
        province, city = data.get("province") or "", data.get("city") or ""
        form = self.form
        regions = Region.objects.none()
        form.fields["city"].queryset = (
            Region.objects.filter(level=Region.Level.CITY, parent_id=province)
            if province
            else regions
        )
        parents = [x for x in (city, province) if x]
        form.fields["district"].queryset = (
            Region.objects.filter(level=Region.Level.DISTRICT, parent_id__in=parents)
            if parents
            else regions
        )
        self._dictionary_choices()
        read_choices(form, self.READ_CHOICES)

    # Pickers over a model whose options are read in one plain query (core.filters.read_choices).
    READ_CHOICES: tuple[str, ...] = ("province", "city", "district")

    DICT_FIELDS = {
        "level": DictKind.LEVEL,
        "source": DictKind.SOURCE,
        "industry": DictKind.INDUSTRY,
        "tags": DictKind.TAG,
    }

    def _dictionary_choices(self) -> None:
        """The four dictionary pickers' options from one query (a ModelChoiceField reads each
        through its own server-side cursor: three round trips apiece). Validation of a submitted
        value still goes through each field's queryset."""
        fields = {n: f for n, f in self.form.fields.items() if n in self.DICT_FIELDS}
        by_kind: dict[str, list] = {kind: [] for kind in self.DICT_FIELDS.values()}
        for entry in DictEntry.objects.filter(kind__in=list(by_kind)).order_by("sort", "id"):
            by_kind[entry.kind].append(entry)
        for name, field in fields.items():
            field.widget.choices = [
                ("", field.empty_label),
                *((e.pk, field.label_from_instance(e)) for e in by_kind[self.DICT_FIELDS[name]]),
            ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        phone = phone_fragment(value) if PHONE_LIKE.fullmatch(value) else ""
        # Name, contact name, phone or credit code, through the keyword indexes (search.py).
        matches = keyword_q(value)
        if phone and phone != value:
            # A phone as typed ("138 0000 1111", +86…) also matches the stored form.
            matches |= keyword_q(phone) & Q(contact_phone__contains=phone)
        return queryset.filter(matches)

    def filter_credit_code(self, queryset, name, value):
        code = normalize_credit_code(value)
        return queryset.filter(credit_code=code) if code else queryset

    def filter_contains(self, queryset, name, value):
        """客户名称 / 联系人 contains the value: the keyword index finds the candidates (the
        field is one of the indexed text's parts), the field itself decides."""
        value = value.strip()
        return queryset.filter(keyword_q(value, fields=(name,))) if value else queryset

    def filter_phone(self, queryset, name, value):
        digits = phone_fragment(value)
        if not digits:
            return queryset.none()
        # One set of ids (the customer's own phone through the keyword index, or any contact's):
        # an OR of the two made PostgreSQL walk the whole list testing each row.
        own = Customer.objects.filter(keyword_q(digits, fields=("contact_phone",))).values("pk")
        contacts = Contact.objects.filter(
            Q(mobile__contains=digits) | Q(phone__contains=digits)
        ).values("customer_id")
        return queryset.filter(pk__in=own.order_by().union(contacts.order_by()))

    def filter_receivable_kind(self, queryset, name, value):
        """Customers with a non-zero receivable of that kind (the 首页's 待收款 by kind)."""
        return queryset.exclude(**{f"receivable_{value}": 0}) if value else queryset

    def filter_receivable(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.exclude(receivable_total=0) if value else queryset.filter(receivable_total=0)
        )


class ContactFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="姓名", field_name="name", lookup_expr="icontains")
    phone = django_filters.CharFilter(label="手机/电话", method="filter_phone")
    email = django_filters.CharFilter(label="邮箱", lookup_expr="icontains")
    customer = django_filters.CharFilter(
        label="客户名称", field_name="customer__name", lookup_expr="icontains"
    )
    customer_id = django_filters.NumberFilter(
        label="客户ID", field_name="customer_id", widget=forms.HiddenInput
    )
    is_decision_maker = django_filters.BooleanFilter(label="决策人")

    class Meta(KehuFilterSet.Meta):
        model = Contact
        fields: list[str] = []

    def filter_phone(self, queryset, name, value):
        digits = phone_fragment(value)
        if not digits:
            return queryset.none()
        return queryset.filter(Q(mobile__contains=digits) | Q(phone__contains=digits))
