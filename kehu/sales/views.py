"""线索 pages."""

from __future__ import annotations

from django import forms as forms_lib
from django.shortcuts import render
from django.views import View

from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.core.htmx import saved_response
from kehu.followups.models import FollowUp

from . import filters, forms, selectors, services, tables
from .models import ContractKind


class LeadListView(generic.ObjectListView):
    title = "线索列表"
    url_name = "lead"
    permission_required = "sales.view_lead"
    add_permission = "sales.add_lead"
    filterset_class = filters.LeadFilterSet
    table_class = tables.LeadTable
    tabs = [generic.Tab(k, v) for k, v in selectors.TABS.items()]
    bulk_actions = [
        generic.BulkAction(
            "批量删除",
            "lead_bulk_delete",
            "sales.delete_lead",
            confirm="确定删除勾选的线索吗？已转客户的线索不会被删除。",
            danger=True,
        )
    ]

    def get_queryset(self, request):
        return selectors.lead_list(user=request.user, tab=self.current_tab(request))


class LeadEditView(generic.ObjectEditView):
    form_class = forms.LeadForm
    save_service = services.lead_save
    success_url_name = "lead_list"
    title_add, title_edit = "添加线索", "编辑线索"

    def get_queryset(self, request):
        return selectors.lead_list(user=request.user)


class LeadDeleteView(generic.ObjectDeleteView):
    permission_required = "sales.delete_lead"
    delete_service = services.lead_delete
    success_url_name = "lead_list"

    def get_queryset(self, request):
        return selectors.lead_list(user=request.user)


class LeadBulkDeleteView(generic.BulkActionView):
    title = "批量删除线索"
    permission_required = "sales.delete_lead"
    batch_service = services.leads_batch_delete


class LeadDetailView(generic.KehuViewMixin, View):
    permission_required = "sales.view_lead"

    def get_permission_required(self):
        # Adding a follow-up to the lead is a follow-up of it (SPEC §5.1).
        if self.request.method == "POST":
            return ("sales.view_lead", "followups.add_followup")
        return ("sales.view_lead",)

    def get(self, request, pk):
        lead = selectors.lead_get(user=request.user, pk=pk)
        return render(
            request,
            "sales/lead_detail.html",
            {
                "title": lead.name,
                "lead": lead,
                "form": forms.LeadFollowUpForm(),
                "followups": FollowUp.objects.filter(lead=lead)
                .select_related("type", "author")
                .order_by("-followed_at"),
            },
        )

    def post(self, request, pk):
        """Add a follow-up to the lead."""
        lead = selectors.lead_get(user=request.user, pk=pk)
        form = forms.LeadFollowUpForm(request.POST)
        error = ""
        if form.is_valid():
            try:
                services.lead_followup_create(actor=request.user, lead=lead, data=form.cleaned_data)
            except ApplicationError as exc:
                error = exc.message
            else:
                from django.shortcuts import redirect

                return redirect("lead_detail", pk=lead.pk)
        return render(
            request,
            "sales/lead_detail.html",
            {
                "title": lead.name,
                "lead": lead,
                "form": form,
                "error": error,
                "followups": FollowUp.objects.filter(lead=lead).select_related("type", "author"),
            },
            status=400,
        )


class LeadActionView(generic.KehuViewMixin, View):
    """A modal form acting on one lead (convert, mark invalid): a change of the lead."""

    permission_required: tuple[str, ...] = ("sales.change_lead",)

    form_class = None
    title = ""
    template = "sales/htmx/lead_action.html"

    def act(self, request, lead, form):  # pragma: no cover - declared by subclasses
        raise NotImplementedError

    def get(self, request, pk):
        lead = selectors.lead_get(user=request.user, pk=pk)
        return render(
            request,
            self.template,
            {
                "lead": lead,
                "form": self.form_class(),
                "title": self.title,
                "action_url": request.path,
            },
        )

    def post(self, request, pk):
        lead = selectors.lead_get(user=request.user, pk=pk)
        form = self.form_class(request.POST)
        error, extra = "", {}
        if form.is_valid():
            try:
                message = self.act(request, lead, form)
            except ApplicationError as exc:
                error, extra = exc.message, exc.extra
                for field, messages in exc.errors.items():
                    for m in messages:
                        form.add_error(field if field in form.fields else None, m)
            else:
                return saved_response(message=message)
        return render(
            request,
            self.template,
            {
                "lead": lead,
                "form": form,
                "title": self.title,
                "error": error,
                "error_extra": extra,
                "action_url": request.path,
            },
            status=400,
        )


class LeadConvertView(LeadActionView):
    permission_required = ("sales.change_lead", "customers.add_customer")
    form_class = forms.LeadConvertForm
    title = "线索转客户"

    def act(self, request, lead, form):
        data = form.cleaned_data
        customer = services.lead_convert(
            actor=request.user,
            lead=lead,
            extra={"credit_code": data["credit_code"], "legal_person": data["legal_person"]},
            confirm_duplicates=data["confirm_duplicates"],
        )
        return f"已转为客户：{customer.name}"


class LeadInvalidView(LeadActionView):
    form_class = forms.LeadInvalidForm
    title = "标记为无效线索"

    def act(self, request, lead, form):
        services.lead_mark_invalid(
            actor=request.user, lead=lead, reason=form.cleaned_data["reason"]
        )
        return "已标记为无效"


class OpportunityListView(generic.ObjectListView):
    title = "商机"
    url_name = "opportunity"
    permission_required = "sales.view_opportunity"
    add_permission = "sales.add_opportunity"
    filterset_class = filters.OpportunityFilterSet
    table_class = tables.OpportunityTable

    def get_queryset(self, request):
        return selectors.opportunity_list(user=request.user)


class OpportunityEditView(generic.ObjectEditView):
    form_class = forms.OpportunityForm
    save_service = services.opportunity_save
    initial_from_query = ("customer",)
    success_url_name = "opportunity_list"
    title_add, title_edit = "添加商机", "编辑商机"

    def get_queryset(self, request):
        return selectors.opportunity_list(user=request.user)


class OpportunityDeleteView(generic.ObjectDeleteView):
    permission_required = "sales.delete_opportunity"
    delete_service = services.opportunity_delete
    success_url_name = "opportunity_list"

    def get_queryset(self, request):
        return selectors.opportunity_list(user=request.user)


class OpportunityDetailView(generic.KehuViewMixin, View):
    """/opportunities/{id}/: a 商机 lives on its customer's portrait (客户商机 tab)."""

    permission_required = "sales.view_opportunity"

    def get(self, request, pk):
        from django.shortcuts import redirect
        from django.urls import reverse

        opportunity = selectors.opportunity_get(user=request.user, pk=pk)
        url = reverse("customer_detail", args=[opportunity.customer_id])
        return redirect(f"{url}?tab=opportunities")


# --- 报价单转合同, 回款计划续费/延期 ---------------------------------------------------------------


class QuoteToContractForm(forms_lib.Form):
    name = forms_lib.CharField(
        label="合同名称", required=False, max_length=100, help_text="留空则自动命名"
    )
    kind = forms_lib.ChoiceField(label="合同类型", choices=ContractKind.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class",
                "form-select" if isinstance(field.widget, forms_lib.Select) else "form-control",
            )


class PlanExtendForm(forms_lib.Form):
    due_at = forms_lib.DateField(
        label="新的回款日期",
        widget=forms_lib.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写新的回款日期", "invalid": "日期格式不正确"},
    )
    remark = forms_lib.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class DocumentActionFormView(generic.KehuViewMixin, View):
    """A modal form acting on one document (转合同, 续费/延期)."""

    decl_key = ""
    form_class: type = forms_lib.Form
    title = ""

    def doc(self, request, pk):
        from kehu.documents.selectors import document_get
        from kehu.documents.types import registry

        return document_get(registry[self.decl_key], user=request.user, pk=pk)

    def render_modal(self, request, doc, form, error="", status=200):
        return render(
            request,
            "documents/htmx/action_modal.html",
            {
                "doc": doc,
                "title": f"{self.title}：{doc.number}",
                "form": form,
                "error": error,
                "action_url": request.path,
            },
            status=status,
        )

    def get(self, request, pk):
        doc = self.doc(request, pk)
        self.check(request, doc)  # the modal opens only for whoever may act
        return self.render_modal(request, doc, self.form_class())

    def check(self, request, doc) -> None:  # pragma: no cover - declared by subclasses
        raise NotImplementedError

    def post(self, request, pk):
        doc = self.doc(request, pk)
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.render_modal(request, doc, form, status=400)
        try:
            return self.act(request, doc, form.cleaned_data)
        except ApplicationError as exc:
            for field, errors in exc.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            return self.render_modal(request, doc, form, exc.message, exc.status)

    def act(self, request, doc, data):  # pragma: no cover - declared by subclasses
        raise NotImplementedError


class QuoteToContractView(DocumentActionFormView):
    permission_required = ("sales.view_quote", "sales.add_contract")
    decl_key = "quote"
    form_class = QuoteToContractForm
    title = "报价单转合同"

    def check(self, request, doc):
        from kehu.org.authz import authorize

        from .models import Contract

        authorize(request.user, "add", Contract(customer=doc.customer))

    def act(self, request, doc, data):
        from django.http import HttpResponse
        from django.urls import reverse

        contract = services.quote_to_contract(actor=request.user, quote=doc, data=data)
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("contract_detail", args=[contract.pk])
        return response


class PlanExtendView(DocumentActionFormView):
    permission_required = "sales.change_paymentplan"
    decl_key = "paymentplan"
    form_class = PlanExtendForm
    title = "回款计划续费/延期"

    def check(self, request, doc):
        from kehu.org.authz import authorize

        authorize(request.user, "change", doc)

    def act(self, request, doc, data):
        plan = services.plan_extend(
            actor=request.user, plan=doc, due_at=data["due_at"], remark=data.get("remark", "")
        )
        return saved_response(message=f"已延期至 {plan.due_at:%Y-%m-%d}（第{plan.extensions}次）")
