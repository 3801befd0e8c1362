"""The transition modal of a service order (派工 / 完工 / 验收 / 确认收款 / 改派 / 返工 / 取消):
``<prefix>/<pk>/transition/<to>/`` — GET the modal, POST the step through :mod:`.flow`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.core.htmx import is_htmx, saved_response
from kehu.documents import selectors
from kehu.documents.types import DocumentType
from kehu.org.authz import permission_for

from . import flow
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
