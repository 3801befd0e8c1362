"""The transition modal of a service order (派工 / 完工 / 验收 / 完成 / 改派 / 返工 / 取消):
``<prefix>/<pk>/transition/<to>/`` — GET the modal, POST the step through :mod:`.flow`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.core.forms import StyledFormMixin
from kehu.core.htmx import is_htmx, saved_response
from kehu.documents import selectors
from kehu.documents.types import DocumentType, registry
from kehu.org.authz import permission_for

from . import flow, services
from .forms import TransitionForm


def transition_view(decl: DocumentType) -> type[View]:
    class TransitionView(generic.KehuViewMixin, View):
        model = decl.model
        action = "view"

        def get_permission_required(self):
            # the step's permission before the order is read (a refusal that reveals nothing)
            perms = [permission_for(decl.model, "view")]
            to = self.kwargs.get("to")
            if to in dict(decl.model._meta.get_field("status").choices):
                perms.append(flow.permission_for_target(decl, to))
            return tuple(perms)

        def _order_and_step(self, request, pk, to):
            if to not in dict(decl.model._meta.get_field("status").choices):
                raise Http404
            order = selectors.document_get(decl, user=request.user, pk=pk)
            step = flow.step_for(order.status, to)
            if step is None:
                flow.transition(decl, actor=request.user, order=order, to=to)  # raises the 409
            flow.check_permission(request.user, decl, order, step)
            return order, step

        def render_modal(self, request, order, step, form, error="", status=200):
            return render(
                request,
                "documents/htmx/action_modal.html",
                {
                    "doc": order,
                    "decl": decl,
                    "title": f"{step.label}：{decl.label} {order.number}",
                    "form": form,
                    "error": error,
                    "action_url": request.path,
                    "danger": step.key == "cancel",
                },
                status=status,
            )

        def form(self, request, order, step, data=None):
            technicians = flow.technicians(decl, order) if step.assignee else ()
            return TransitionForm(
                data, step=step, technicians=technicians, actor=request.user, order=order
            )

        def get(self, request, pk, to):
            order, step = self._order_and_step(request, pk, to)
            return self.render_modal(request, order, step, self.form(request, order, step))

        def post(self, request, pk, to):
            stale = request.POST.get("from_status")
            order = selectors.document_get(decl, user=request.user, pk=pk)
            if stale and stale != order.status:  # the modal was opened in another state
                flow.transition(decl, actor=request.user, order=order, to=to, from_status=stale)
            order, step = self._order_and_step(request, pk, to)
            form = self.form(request, order, step, request.POST)
            if not form.is_valid():
                return self.render_modal(request, order, step, form, status=400)
            try:
                flow.transition(
                    decl,
                    actor=request.user,
                    order=order,
                    to=to,
                    assignee_id=form.cleaned_data.get("assignee"),
                    reason=form.cleaned_data.get("reason", ""),
                    from_status=form.cleaned_data.get("from_status") or None,
                )
            except ApplicationError as exc:
                for field, errors in exc.errors.items():
                    name = "assignee" if field == "assignee_id" else field
                    for message in errors:
                        form.add_error(name if name in form.fields else None, message)
                return self.render_modal(request, order, step, form, exc.message, exc.status)
            message = f"{step.label}：{decl.label} {order.number}"
            messages.success(request, message)
            if is_htmx(request):
                # the state shows in the page header, the row and its buttons: reload the page
                response = saved_response(message=message)
                response["HX-Refresh"] = "true"
                return response
            return redirect(reverse(f"{decl.url_name}_detail", args=[order.pk]))

    TransitionView.__name__ = f"{decl.model.__name__}TransitionView"
    return TransitionView


class CancelForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label="取消原因",
        max_length=200,
        error_messages={"required": "请填写取消原因"},
        widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_fields()


class OnAccountCancelView(generic.KehuViewMixin, View):
    """取消挂账: a modal asking for the reason, then :func:`documents.cancel_on_account`."""

    action = "view"

    @property
    def model(self):
        return registry["onaccount"].model

    def get_permission_required(self):
        model = registry["onaccount"].model
        return (permission_for(model, "view"), permission_for(model, "change"))

    def render_modal(self, request, doc, form, error="", status=200):
        return render(
            request,
            "documents/htmx/action_modal.html",
            {
                "doc": doc,
                "decl": registry["onaccount"],
                "title": f"取消挂账：挂账订单 {doc.number}",
                "form": form,
                "error": error,
                "action_url": request.path,
                "danger": True,
            },
            status=status,
        )

    def get(self, request, pk):
        doc = selectors.document_get(registry["onaccount"], user=request.user, pk=pk)
        return self.render_modal(request, doc, CancelForm())

    def post(self, request, pk):
        from .documents import cancel_on_account

        doc = selectors.document_get(registry["onaccount"], user=request.user, pk=pk)
        form = CancelForm(request.POST)
        if not form.is_valid():
            return self.render_modal(request, doc, form, status=400)
        try:
            cancel_on_account(actor=request.user, doc=doc, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            return self.render_modal(request, doc, form, exc.message, exc.status)
        message = f"已取消挂账订单 {doc.number}"
        messages.success(request, message)
        if is_htmx(request):
            response = saved_response(message=message)
            response["HX-Refresh"] = "true"
            return response
        return redirect(reverse("onaccountorder_detail", args=[doc.pk]))


class VehiclesFromContractView(generic.KehuViewMixin, View):
    """生成车辆: the units of an approved 整车/租赁 contract without a vehicle, one row each with
    its 出厂编号; POST creates the checked ones (:func:`services.vehicles_from_contract`)."""

    action = "view"

    @property
    def model(self):
        return registry["vehicle"].model

    def get_permission_required(self):
        return ("sales.view_contract", "aftersales.add_vehicle")

    def _contract(self, request, pk):
        return selectors.document_get(registry["contract"], user=request.user, pk=pk)

    def render_modal(self, request, contract, units, error="", status=200):
        return render(
            request,
            "aftersales/htmx/vehicles_from_contract.html",
            {"contract": contract, "units": units, "error": error, "action_url": request.path},
            status=status,
        )

    @staticmethod
    def _rows(contract, data=None) -> list[dict]:
        rows = []
        for unit in services.contract_vehicle_units(contract):
            key = f"{unit['item'].pk}-{unit['n']}"
            rows.append(
                {
                    **unit,
                    "key": key,
                    "checked": data is None or key in data.getlist("unit"),
                    "serial": (data.get(f"serial_{key}", "") if data is not None else "")[:50],
                    "errors": [],
                }
            )
        return rows

    def get(self, request, pk):
        contract = self._contract(request, pk)
        from kehu.org.authz import authorize

        authorize(request.user, "add", registry["vehicle"].model(customer=contract.customer))
        return self.render_modal(request, contract, self._rows(contract))

    def post(self, request, pk):
        contract = self._contract(request, pk)
        rows = self._rows(contract, request.POST)
        chosen = [r for r in rows if r["checked"]]
        if not chosen:
            return self.render_modal(request, contract, rows, "请至少选择一台车辆", status=400)
        try:
            made = services.vehicles_from_contract(
                actor=request.user,
                contract=contract,
                units=[{"item_id": r["item"].pk, "serial_number": r["serial"]} for r in chosen],
            )
        except ApplicationError as exc:
            return self.render_modal(request, contract, rows, exc.message, exc.status)
        message = f"已生成 {len(made)} 台车辆（合同 {contract.number}）"
        messages.success(request, message)
        if is_htmx(request):
            response = saved_response(message=message)
            response["HX-Refresh"] = "true"
            return response
        return redirect(reverse("contract_detail", args=[contract.pk]))
