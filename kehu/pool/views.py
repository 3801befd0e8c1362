"""客户公海 pages and the ownership actions on the customer list (SPEC §3)."""

from __future__ import annotations

from django.views import View

from kehu.core import views as generic

from . import filters, forms, selectors, services, tables
from .models import Pool


class PoolListView(generic.ObjectListView):
    title = "客户公海"
    url_name = "pool"
    permission_required = "customers.view_pool"
    add_permission = "customers.add_customer"
    add_label = "添加"
    filterset_class = filters.PoolCustomerFilterSet
    table_class = tables.PoolCustomerTable
    extra_buttons_template = "pool/_list_buttons.html"
    bulk_actions = [
        # the seed: 领取 and 转移 are buttons at the top left of the pool
        generic.BulkAction("领取", "pool_claim", "customers.claim_customer", toolbar=True),
        generic.BulkAction(
            "转移", "customer_transfer", "customers.transfer_customer", toolbar=True
        ),
        generic.BulkAction("移至其他公海", "pool_move", "pool.change_pool"),
    ]

    def url_for(self, action, *args):
        return None  # customers are added from 客户列表; the pool only claims and transfers

    def get_queryset(self, request):
        return selectors.pool_customer_list(user=request.user)


class ClaimView(generic.BulkActionView):
    title = "领取客户"
    permission_required = "customers.claim_customer"
    batch_service = services.claim_customers


class ReleaseView(generic.BulkFormActionView):
    title = "放入公海"
    intro = "放入公海后负责人清空，其他业务员可以领取；联系方式将在公海中隐藏。"
    form_class = forms.ReleaseForm
    permission_required = "customers.release_customer"

    def run(self, request, ids, form):
        return services.release_customers(
            actor=request.user, ids=ids, reason=form.cleaned_data["reason"]
        )


class TransferView(generic.BulkFormActionView):
    title = "转移客户"
    intro = "选择一名或多名目标员工；多名时按分配方式分配。"
    form_class = forms.TransferForm
    permission_required = "customers.transfer_customer"

    def run(self, request, ids, form):
        return services.transfer_customers(
            actor=request.user,
            ids=ids,
            user_ids=[u.pk for u in form.cleaned_data["users"]],
            allocation=form.cleaned_data["allocation"],
        )


class PoolSettingsListView(generic.ObjectListView):
    title = "公海规则"
    url_name = "poolrule"
    permission_required = "pool.view_pool"
    add_permission = "pool.add_pool"
    filterset_class = filters.PoolFilterSet
    table_class = tables.PoolTable

    def get_queryset(self, request):
        return Pool.objects.prefetch_related("departments")


class PoolSettingsEditView(generic.ObjectEditView):
    form_class = forms.PoolForm
    save_service = services.pool_save
    success_url_name = "poolrule_list"
    title_add, title_edit = "添加公海", "编辑公海规则"

    def get_queryset(self, request):
        return Pool.objects.all()


class HandoverView(generic.KehuViewMixin, View):
    """离职交接 modal on the employees page."""

    permission_required = "org.change_user"

    def render(self, request, user, form, error="", status=200):
        from django.shortcuts import render

        return render(
            request,
            "pool/htmx/handover_modal.html",
            {
                "target": user,
                "form": form,
                "error": error,
                "form_template": "core/_form_fields.html",
            },
            status=status,
        )

    def target(self, pk):
        from django.shortcuts import get_object_or_404

        from kehu.org.models import User

        return get_object_or_404(User, pk=pk, is_active=True)

    def get(self, request, pk):
        return self.render(request, self.target(pk), forms.HandoverForm())

    def post(self, request, pk):
        from kehu.core.errors import ApplicationError
        from kehu.core.htmx import saved_response

        from .handover import handover_user

        user = self.target(pk)
        form = forms.HandoverForm(request.POST)
        if not form.is_valid():
            return self.render(request, user, form, status=400)
        try:
            summary = handover_user(
                actor=request.user,
                user=user,
                successor=form.cleaned_data["successor"],
                customers_to_pool=form.cleaned_data["customers_to_pool"],
            )
        except ApplicationError as exc:
            for field, messages in exc.errors.items():
                for m in messages:
                    form.add_error(field if field in form.fields else None, m)
            return self.render(request, user, form, error=exc.message, status=exc.status)
        return saved_response(
            message=f"已办理离职交接：客户{summary['customers']}个，线索{summary['leads']}条"
        )


class MovePoolView(generic.BulkFormActionView):
    title = "移至其他公海"
    form_class = forms.MovePoolForm
    permission_required = "pool.change_pool"

    def run(self, request, ids, form):
        return services.move_to_pool(
            actor=request.user, ids=ids, pool_id=form.cleaned_data["pool"].pk
        )


class LockView(generic.KehuViewMixin, View):
    """锁定/解锁 a private customer (a locked customer never returns to the pool automatically)."""

    permission_required = "customers.change_customer"

    def post(self, request, pk):
        from django.contrib import messages
        from django.shortcuts import redirect

        from kehu.core.errors import ApplicationError

        try:
            customer = services.set_locked(
                actor=request.user, customer_id=pk, locked=request.POST.get("locked") == "1"
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise  # the product's 403/404 page: not allowed, or nothing to lock
            messages.error(request, exc.message)
        else:
            messages.success(
                request, "已锁定，不会自动回收到公海" if customer.is_locked else "已解锁"
            )
        return redirect("customer_detail", pk=pk)
