from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import render
from django.views import View

from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.core.htmx import saved_response
from kehu.core.registry import todo_lists
from kehu.customers.selectors import customer_get
from kehu.org.authz import authorize

from . import filters, selectors, services, tables
from .forms import FollowUpForm
from .models import FollowUp


class FollowUpListView(generic.ObjectListView):
    title = "跟进记录"
    url_name = "followup"
    permission_required = "followups.view_followup"
    filterset_class = filters.FollowUpFilterSet
    table_class = tables.FollowUpTable

    def url_for(self, action, *args):
        return None  # follow-ups are added from a customer (its 跟进 button)

    def get_queryset(self, request):
        return selectors.followup_list(user=request.user)


class FollowUpAddView(generic.KehuViewMixin, View):
    """添加跟进记录 for one customer (preselected), as a modal or inline in the portrait."""

    permission_required = "followups.add_followup"

    def customer(self, request, pk):
        try:
            customer = customer_get(user=request.user, pk=pk)
        except ApplicationError as exc:
            raise Http404 from exc
        authorize(request.user, "add", FollowUp(customer=customer))  # seeing is not following up
        return customer

    def render(self, request, customer, form, error="", status=200):
        return render(
            request,
            "followups/htmx/followup_form.html",
            {
                "form": form,
                "customer": customer,
                "error": error,
                "form_template": "core/_form_fields.html",
            },
            status=status,
        )

    def get(self, request, pk):
        customer = self.customer(request, pk)
        return self.render(request, customer, FollowUpForm(customer=customer))

    def post(self, request, pk):
        customer = self.customer(request, pk)
        form = FollowUpForm(request.POST, request.FILES, customer=customer)
        if not form.is_valid():
            return self.render(request, customer, form, status=400)
        try:
            services.followup_create(
                actor=request.user,
                customer=customer,
                data=form.cleaned_data,
                files=form.cleaned_data.get("attachments") or [],
            )
        except ApplicationError as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            return self.render(request, customer, form, error=exc.message, status=exc.status)
        response = saved_response(message="已添加跟进记录")
        response["HX-Refresh"] = "true"
        return response


class TodoView(LoginRequiredMixin, View):
    """通知代办: today's follow-ups, overdue ones, customers about to return to the pool."""

    def get(self, request):
        due = selectors.followups_due(user=request.user)
        context = {
            "title": "通知代办",
            "today": list(due["today"][:200]),
            "overdue": list(due["overdue"][:200]),
            "returning": list(selectors.pool_returning(user=request.user)[:200]),
            "lists": [
                (key, title, source(request.user)) for key, (title, source) in todo_lists.items()
            ],
        }
        return render(request, "followups/todo.html", context)
