"""One declaration per document type; the layer builds everything else from it.

A document type is a concrete model extending :class:`kehu.documents.models.Document` and a
subclass of :class:`DocumentType` registered with :func:`register`::

    @register
    class ContractType(DocumentType):
        key, model, prefix, label = "contract", Contract, "HT", "合同"
        api_path, url_name, tab_key = "contracts", "contract", "contracts"
        item_model = ContractItem
        filterset_class, table_class, form_class = ContractFilterSet, ContractTable, ContractForm
        api_fields = {...}; out_fields = (...)
        def clean(self, *, actor, data, instance, customer): ...
        def on_approved(self, doc): ledger.post(...)

From that the layer gives the list page (search panel, tabs, modals, batch delete), the document
page with its approval actions, the API (``/api/v1/<api_path>`` list/create/get/patch/delete and
submit/withdraw/approve/reject/void), the 客户画像 tab, the customer's delete guard, the change
log and attachments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.db import models
from django.db.models import QuerySet

registry: dict[str, DocumentType] = {}


class DocumentType:
    key: ClassVar[str] = ""  # quote, contract, payment … (approval flows, records)
    model: ClassVar[Any] = None
    prefix: ClassVar[str] = ""  # BJ, HT, HK
    label: ClassVar[str] = ""  # 报价单
    api_path: ClassVar[str] = ""  # quotes → /api/v1/quotes
    url_name: ClassVar[str] = ""  # quote → quote_list, quote_add, quote_detail …
    tab_key: ClassVar[str] = ""  # the 客户画像 tab (?tab=quotes)
    tab_label: ClassVar[str] = ""
    approval: ClassVar[bool] = True
    item_model: ClassVar[Any] = None
    filterset_class: ClassVar[Any] = None
    table_class: ClassVar[Any] = None
    form_class: ClassVar[Any] = None
    # The API's input fields: name → (type, pydantic default or Field); ``customer_id`` included
    # when the customer is picked directly. Out fields are serialised by :meth:`serialize`.
    api_fields: ClassVar[dict[str, tuple[Any, Any]]] = {}
    out_fields: ClassVar[tuple[str, ...]] = ()
    # Computed output fields (name → type) a type's :meth:`serialize` adds, e.g. 保养剩余天数.
    out_extra: ClassVar[dict[str, Any]] = {}
    search_fields: ClassVar[tuple[str, ...]] = ("number", "customer__name")
    select_related: ClassVar[tuple[str, ...]] = ("customer", "customer__owner", "creator")
    default_ordering: ClassVar[tuple[str, ...]] = ("-created_at", "-id")
    tab_order: ClassVar[int] = 50
    addable_from_portrait: ClassVar[bool] = True
    create_only_fields: ClassVar[tuple[str, ...]] = ("customer_id",)
    api_orderings: ClassVar[tuple[str, ...]] = ("created_at", "number")
    # List tabs after 全部/我的/下属: (key, label), filtered by :meth:`filter_tab`.
    extra_tabs: ClassVar[tuple[tuple[str, str], ...]] = ()
    # The batch delete's confirmation (who may be deleted).
    delete_hint: ClassVar[str] = "只有未申请或驳回的可以删除。"

    # --- hooks a type overrides -------------------------------------------------------------

    def customer_for(self, *, actor, data: dict[str, Any]):
        """The customer a new document is for (default: ``data["customer"]``, visible to
        ``actor`` and not in the pool)."""
        from kehu.customers.selectors import document_customer

        return document_customer(user=actor, customer=data.get("customer") or None)

    def clean(self, *, actor, data: dict[str, Any], instance, customer) -> dict[str, Any]:
        """The model fields to set, validated; raise ``ApplicationError`` with Chinese
        field errors. ``items`` (a list of line dicts) is cleaned by the layer."""
        return {}

    def new_number(self, doc) -> str:
        """A new document's number: prefix + local time + random digits, never reused
        (:mod:`kehu.documents.numbering`); a type may derive it (挂账订单: its order's)."""
        from .numbering import issue_number

        return issue_number(self.prefix, self.key)

    def after_save(self, doc, *, created: bool, actor) -> None:
        """Inside the save's transaction (e.g. a payment plan's follow-up)."""

    def submit_refusal(self, doc) -> str | None:
        """Why ``doc`` may not be submitted (or approved) now, or None."""
        return None

    def on_approved(self, doc) -> None:
        """The final approval, in its transaction: post to the ledger."""

    def void_refusal(self, doc) -> str | None:
        return None

    def on_voided(self, doc) -> None:
        """作废 of an approved document, in its transaction: reverse exactly."""

    def delete_refusal(self, doc) -> str | None:
        return None

    def state_display(self, doc) -> str:
        """The document's state in words (refusals: "合同「HT…」审批通过，不能修改")."""
        return doc.get_approval_status_display()

    def filter_tab(self, queryset: QuerySet, *, tab: str, user) -> QuerySet:
        """The rows of one of :attr:`extra_tabs` (e.g. 我的工单: assigned to ``user``)."""
        return queryset

    def extra_actions(self, user, doc) -> list[tuple[str, str, str]]:
        """Buttons of the document page besides the approval ones: (label, url, style)."""
        return []

    def current_data(self, doc) -> dict[str, Any]:
        """The service input of ``doc`` as stored (a PATCH overlays the fields it sends)."""
        data: dict[str, Any] = {"remark": doc.remark}
        for key in self.api_fields:
            if key not in self.create_only_fields:
                data[key[:-3] if key.endswith("_id") else key] = getattr(doc, key)
        return data

    def detail_fields(self, doc) -> list[tuple[str, Any]]:
        """The document page's fields (label, value); a type lists its own first."""
        return []

    def related_tables(self, request, doc) -> list[tuple[str, str]]:
        """Sections below the document page's items: (title, HTML)."""
        return []

    # --- derived ----------------------------------------------------------------------------

    def verbose(self) -> str:
        return self.label

    def base_queryset(self) -> QuerySet:
        return self.model.objects.select_related(*self.select_related)

    def one(self, queryset: QuerySet) -> QuerySet:
        """``queryset`` made for reading one document (a page, an action's answer): its
        customer joined, the other ``select_related`` relations read by key. PostgreSQL spent
        ~4 ms planning the six-table join of a 维修订单 with its customer, owner, creator,
        vehicle and technician (0.3 ms running it), twice in every transition; a relation read
        by key is one indexed query, none when empty."""
        first, *_rest = self.select_related
        return (
            queryset.select_related(None)
            .select_related(first)
            .prefetch_related(*self.read_by_key())
        )

    def read_by_key(self) -> tuple[str, ...]:
        """The relations :meth:`one` reads by key (all of ``select_related`` but the customer)."""
        return self.select_related[1:]

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        """What the list page and the portrait tab add for their columns (e.g. sums)."""
        return queryset

    def serialize(self, doc) -> dict[str, Any]:
        from kehu.core.money import money_json

        data: dict[str, Any] = {
            "id": doc.pk,
            "number": doc.number,
            "customer_id": doc.customer_id,
            "customer_name": doc.customer.name,
            "approval_status": doc.approval_status,
            "approval_step": doc.approval_step,
            "remark": doc.remark,
            "creator_id": doc.creator_id,
            "created_at": doc.created_at,
            "updated_at": doc.updated_at,
        }
        for name in self.out_fields:
            field = self.model._meta.get_field(name)
            value = getattr(doc, field.attname)
            if isinstance(field, models.DecimalField) and value is not None:
                value = money_json(value)
            data[field.attname if field.is_relation else name] = value
        if self.item_model is not None:
            data["items"] = [
                {
                    "product_id": i.product_id,
                    "name": i.name,
                    "spec": i.spec,
                    "unit": i.unit,
                    "quantity": f"{i.quantity:.2f}",
                    "unit_price": money_json(i.unit_price),
                    "discount": money_json(i.discount),
                    "amount": money_json(i.amount),
                }
                for i in doc.items.all()
            ]
        return data


def register(cls: type[DocumentType]) -> type[DocumentType]:
    decl = cls()
    registry[decl.key] = decl
    return cls


def for_model(model_or_obj) -> DocumentType:
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    for decl in registry.values():
        if decl.model is model:
            return decl
    raise LookupError(f"{model} is not a registered document type")


def money_sum(values) -> Decimal:
    return sum((Decimal(v) for v in values), Decimal("0.00"))
