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
        """The dialog: 本次跟进时间 now; ``?opportunity=`` (跟进 of a 商机 row) preselects it."""
        from django.utils import timezone

        customer = self.customer(request, pk)
        initial = {"followed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
        opportunity = request.GET.get("opportunity", "")
        if opportunity.isdigit():
            initial["opportunity"] = int(opportunity)
        form = FollowUpForm(customer=customer, initial=initial)
        return self.render(request, customer, form)

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
        # The 客户画像 re-renders itself on objectSaved (header, summary, tab counts).
        return saved_response(message="已添加跟进记录")


class FollowUpEditView(generic.KehuViewMixin, View):
    """编辑跟进记录: its author (or an admin) corrects it; the service logs the change."""

    permission_required = "followups.change_followup"

    def followup(self, request, pk) -> FollowUp:
        followup = (
            selectors.followup_list(user=request.user)
            .select_related("customer")
            .filter(pk=pk)
            .first()
        )
        if followup is None:
            raise Http404
        if followup.author_id != request.user.pk and not request.user.is_admin:
            from kehu.core.errors import Forbidden

            raise Forbidden("只能修改自己的跟进记录")
        return followup

    def render(self, request, followup, form, error="", status=200):
        return render(
            request,
            "followups/htmx/followup_edit_form.html",
            {"form": form, "followup": followup, "error": error},
            status=status,
        )

    def get(self, request, pk):
        from django.utils import timezone

        followup = self.followup(request, pk)
        local = timezone.localtime
        initial = {
            "type": followup.type_id,
            "content": followup.content,
            "followed_at": local(followup.followed_at).strftime("%Y-%m-%dT%H:%M"),
            "next_followup_at": local(followup.next_followup_at).strftime("%Y-%m-%dT%H:%M")
            if followup.next_followup_at
            else None,
            "contact": followup.contact_id,
            "opportunity": followup.opportunity_id,
        }
        form = FollowUpForm(customer=followup.customer, initial=initial)
        del form.fields["attachments"]  # files are added and removed on the 附件 tab
        return self.render(request, followup, form)

    def post(self, request, pk):
        followup = self.followup(request, pk)
        form = FollowUpForm(request.POST, customer=followup.customer)
        del form.fields["attachments"]
        if not form.is_valid():
            return self.render(request, followup, form, status=400)
        try:
            services.followup_update(actor=request.user, followup=followup, data=form.cleaned_data)
        except ApplicationError as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            return self.render(request, followup, form, error=exc.message, status=exc.status)
        return saved_response(message="已保存跟进记录")


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
