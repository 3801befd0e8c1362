"""客户列表 pages: declared on the generic views; rules stay in selectors and services."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.views import View

from kehu.core import views as generic
from kehu.core.attachments import attachment_for_download
from kehu.core.errors import ApplicationError
from kehu.core.htmx import is_fragment_request, saved_response
from kehu.core.views_jobs import BatchJobStartView
from kehu.org.authz import authorize, can
from kehu.pool.rules import days_left

from . import filters, forms, masking, selectors, services, tables, throttle
from .models import DuplicateCheckSource


class CustomerListView(generic.ObjectListView):
    title = "客户列表"
    url_name = "customer"
    permission_required = "customers.view_customer"
    add_permission = "customers.add_customer"
    filterset_class = filters.CustomerFilterSet
    table_class = tables.CustomerTable
    tabs = [generic.Tab(k, v) for k, v in selectors.TABS.items()]
    bulk_actions = [  # the seed's 操作 menu: 转移客户, 放入公海, 批量删除 (+ 合并客户)
        generic.BulkAction("转移客户", "customer_transfer", "customers.transfer_customer"),
        generic.BulkAction("放入公海", "customer_release", "customers.release_customer"),
        generic.BulkAction("合并客户", "customer_merge", "customers.merge_customer"),
        generic.BulkAction(
            "批量删除",
            "customer_bulk_delete",
            "customers.delete_customer",
            confirm="确定删除勾选的客户吗？有待收款或单据的客户不会被删除。",
            danger=True,
        ),
        generic.BulkAction(
            "删除全部符合条件的记录",
            "customer_bulk_delete_matching",
            "customers.delete_customer",
            confirm="确定删除当前标签页和搜索条件下的全部客户吗？将在后台分批进行；"
            "有待收款或单据的客户不会被删除。",
            danger=True,
            matching=True,
        ),
    ]
    extra_buttons_template = "customers/_list_buttons.html"

    def get_queryset(self, request):
        return selectors.customer_list(user=request.user, tab=self.current_tab(request))


def same_value(stored, entered) -> bool:
    """Does what the form holds equal what is stored, as the user sees it? A datetime is the
    same instant to the minute the form shows (whatever its time zone), an amount the same
    number, an empty value empty; only real differences make a conflict row (issue 14.6)."""
    import datetime as dt

    if stored in (None, "") and entered in (None, ""):
        return True
    if isinstance(stored, dt.datetime) and isinstance(entered, dt.datetime):
        return stored.replace(second=0, microsecond=0) == entered.replace(second=0, microsecond=0)
    if stored == entered:
        return True
    return str(stored or "") == str(entered or "")


def shown(value):
    """A conflict row's value as the form shows it (local time to the minute)."""
    import datetime as dt

    from django.utils import timezone

    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value


class CustomerEditView(generic.ObjectEditView):
    form_class = forms.CustomerForm
    form_template = "customers/_form_fields.html"
    title_add, title_edit = "添加客户", "编辑客户"
    modal_size = "modal-xl"

    def get_queryset(self, request):
        return selectors.customer_list(user=request.user, tab="all")

    def save(self, request, form, instance):
        data = form.service_data()
        common = {
            "actor": request.user,
            "data": data,
            "files": form.cleaned_data.get("attachments") or [],
            "confirm_duplicates": form.cleaned_data.get("confirm_duplicates") or False,
        }
        if instance is None:
            return services.customer_create(**common)
        return services.customer_update(
            customer=instance, version=form.cleaned_data.get("version"), **common
        )

    def form_after_error(self, request, form, instance, exc: ApplicationError):
        if exc.code == "stale_version" and instance is not None:
            # Show what the other person saved next to what this form tried to save.
            fresh = selectors.customer_get(user=request.user, pk=instance.pk)
            exc.extra["current"] = [
                (form.fields[name].label, shown(getattr(fresh, name)), shown(mine))
                for name in form.Meta.fields
                if name in form.cleaned_data and name not in {"tags"}
                for mine in [form.cleaned_data.get(name)]
                if not same_value(getattr(fresh, name), mine)
            ]
            return form
        if exc.code != "possible_duplicates":
            return form
        data = request.POST.copy()
        data["confirm_duplicates"] = "True"
        confirmed = self.get_form(request, instance, data, request.FILES)
        confirmed.is_valid()
        return confirmed

    def success_url(self, obj):
        from django.urls import reverse

        return reverse("customer_detail", args=[obj.pk])


class CustomerDeleteView(generic.ObjectDeleteView):
    permission_required = "customers.delete_customer"
    success_url_name = "customer_list"

    @staticmethod
    def delete_service(*, actor, instance):
        services.customer_delete(actor=actor, customer=instance)

    delete_refusal = staticmethod(services.customer_delete_refusal)

    def get_queryset(self, request):
        return selectors.customer_list(user=request.user)


class CustomerBulkDeleteView(generic.BulkActionView):
    title = "批量删除客户"
    permission_required = "customers.delete_customer"
    batch_service = services.customers_batch_delete


class CustomerBulkDeleteMatchingView(BatchJobStartView):
    """删除全部符合条件的记录: a background job in batches (issue 10)."""

    permission_required = "customers.delete_customer"
    action_key = "customers.delete"


class CustomerDetailView(LoginRequiredMixin, View):
    """客户画像 (SPEC §7): header with the actions, the summary figures, and the seed's 13 tabs
    (kehu/customers/tabs.py; each counted on its label, only the open one drawn; the others
    load over HTMX when opened, ``?tab=`` keeps the open one). After any action the page
    re-renders from the server (``objectSaved`` → portrait.js), so nothing stays stale."""

    @staticmethod
    def get_customer(request, pk) -> tuple:
        from kehu.pool.selectors import customer_or_pool_get

        return customer_or_pool_get(user=request.user, pk=pk)

    @staticmethod
    def allowed(user, customer) -> dict[str, bool]:
        """The portrait's buttons, each shown when the one authorization rule allows it."""
        from kehu.followups.models import FollowUp

        from .models import Contact

        contact = Contact(customer=customer)
        return {
            **{
                a: can(user, a, customer)
                for a in ("change", "share", "transfer", "release", "lock", "delete")
            },
            "add_contact": can(user, "add", contact),
            "change_contact": can(user, "change", contact),
            "delete_contact": can(user, "delete", contact),
            "add_followup": can(user, "add", FollowUp(customer=customer)),
        }

    @classmethod
    def tabs_context(cls, request, customer, in_pool: bool, allowed, key: str | None) -> dict:
        from . import tabs as portrait_tabs

        visible = portrait_tabs.visible_tabs(request.user, in_pool=in_pool)
        by_key = {t.key: t for t in visible}
        if key not in by_key:
            key = visible[0].key if visible else None
        counts = portrait_tabs.tab_counts(
            visible, user=request.user, customer=customer, in_pool=in_pool
        )
        tab_html = (
            portrait_tabs.render_tab(
                request, customer, by_key[key], in_pool=in_pool, allowed=allowed
            )
            if key
            else ""
        )
        return {
            "tabs": [
                (t.key, t.label, counts.get(t.key), portrait_tabs.tab_url(customer, t.key))
                for t in visible
            ],
            "tab": key,
            "tab_html": tab_html,
        }

    def get(self, request, pk):
        from .portrait import portrait_summary

        customer, in_pool = self.get_customer(request, pk)
        allowed = {} if in_pool else self.allowed(request.user, customer)
        tabs = self.tabs_context(request, customer, in_pool, allowed, request.GET.get("tab"))
        if is_fragment_request(request, "object-list"):  # a tab's next page
            return HttpResponse(tabs["tab_html"])
        context = {
            "title": customer.name,
            "customer": customer,
            "phone": masking.customer_phone(customer),
            "summary": portrait_summary(customer),
            "shared_with": [] if in_pool else selectors.shared_users(customer),
            "allowed": allowed,
            "in_pool": in_pool,
            "can_claim": in_pool and request.user.has_perm("customers.claim_customer"),
            "days_left": days_left(customer.pool_return_at),
            **tabs,
        }
        return render(request, "customers/customer_detail.html", context)


class CustomerTabView(LoginRequiredMixin, View):
    """One 客户画像 tab, opened over HTMX: the tab bar (counts) and the open tab's rows."""

    def get(self, request, pk, key):
        customer, in_pool = CustomerDetailView.get_customer(request, pk)
        allowed = {} if in_pool else CustomerDetailView.allowed(request.user, customer)
        context = CustomerDetailView.tabs_context(request, customer, in_pool, allowed, key)
        if context["tab"] != key:
            raise Http404("没有这个标签页或无权查看")
        context.update(customer=customer, in_pool=in_pool)
        return render(request, "customers/htmx/portrait_tabs.html", context)


class CustomerYoyView(LoginRequiredMixin, View):
    """同比增幅 (SPEC §7): the periods in the URL (``from``, ``to``, ``compare_from``,
    ``compare_to``, ``pick``); a table per order kind and the ECharts charts."""

    def get(self, request, pk):
        from . import portrait

        customer, in_pool = CustomerDetailView.get_customer(request, pk)
        error, errors, result = "", {}, None
        status = 200
        try:
            period, compare, pick = portrait.parse_periods(request.GET)
        except ApplicationError as exc:
            error, errors, status = exc.message, exc.errors, exc.status
            period, compare, _ = portrait.parse_periods({})  # the defaults, with the error
            pick = ""
        result = portrait.customer_yoy(customer, period=period, compare=compare)
        chart = {
            "kinds": [k["label"] for k in result["kinds"]],
            "amount": [str(k["amount"]) for k in result["kinds"]],
            "compare_amount": [str(k["compare_amount"]) for k in result["kinds"]],
            "period": period.label(),
            "compare": compare.label(),
            "months": portrait.month_labels(),
            "trend": [str(v) for v in result["trend"]["months"]],
            "trend_previous": [str(v) for v in result["trend"]["previous"]],
            "year": result["trend"]["year"],
        }
        context = {
            "title": f"{customer.name} · 同比增幅",
            "customer": customer,
            "in_pool": in_pool,
            "result": result,
            "chart": chart,
            "pick": pick,
            "picks": portrait.QUICK_PICKS,
            "error": error,
            "errors": errors,
            "params": request.GET,
        }
        return render(request, "customers/customer_yoy.html", context, status=status)


class CustomerAttachmentUploadView(generic.KehuViewMixin, View):
    """附件 tab: several files at once (drag and drop, progress in portrait.js), through
    ``customer_attach`` (a change of the customer, SPEC §9); a refused file stores nothing."""

    permission_required = "customers.change_customer"

    def post(self, request, pk):
        from django.http import JsonResponse

        try:
            customer = selectors.customer_get(user=request.user, pk=pk)
        except ApplicationError as exc:
            raise Http404 from exc
        files = request.FILES.getlist("files")
        if not files:
            return JsonResponse({"detail": "请选择要上传的文件"}, status=400)
        try:
            done = services.customer_attach(actor=request.user, customer=customer, files=files)
        except ApplicationError as exc:
            return JsonResponse({"detail": exc.message, "errors": exc.errors}, status=exc.status)
        return JsonResponse(
            {
                "detail": f"已上传 {len(done)} 个文件",
                "items": [{"id": a.pk, "name": a.original_name, "size": a.size} for a in done],
            },
            status=201,
        )


class DuplicateCheckView(LoginRequiredMixin, View):
    """查重: anybody learns that a customer exists and who has it, nothing more (SPEC §2.3)."""

    def get(self, request):
        form = forms.DuplicateCheckForm(request.GET or None)
        matches, status = None, 200
        if form.is_bound and form.is_valid():
            try:
                matches = throttle.duplicate_check(
                    actor=request.user,
                    source=DuplicateCheckSource.PAGE,
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                )
            except throttle.DuplicateCheckThrottled as exc:  # 查重过于频繁 (SPEC §13)
                form.add_error(None, exc.message)
                status = exc.status
        template = "customers/htmx/duplicate_check.html"
        return render(request, template, {"form": form, "matches": matches}, status=status)


class CustomerShareView(generic.KehuViewMixin, View):
    permission_required = "customers.share_customer"

    def get_customer(self, request, pk):
        customer = selectors.customer_get(user=request.user, pk=pk)
        authorize(request.user, "share", customer)
        return customer

    def get(self, request, pk):
        customer = self.get_customer(request, pk)
        form = forms.ShareForm(
            initial={"users": selectors.shared_users(customer)}, customer=customer
        )
        return render(
            request, "customers/htmx/share_modal.html", {"form": form, "customer": customer}
        )

    def post(self, request, pk):
        customer = self.get_customer(request, pk)
        form = forms.ShareForm(request.POST, customer=customer)
        error, status = "", 400
        if form.is_valid():
            try:
                services.customer_share(
                    actor=request.user,
                    customer=customer,
                    user_ids=[u.pk for u in form.cleaned_data["users"]],
                )
            except ApplicationError as exc:
                error, status = exc.message, exc.status
            else:
                return saved_response(message="已更新分享")
        return render(
            request,
            "customers/htmx/share_modal.html",
            {"form": form, "customer": customer, "error": error},
            status=status,
        )


class AttachmentDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk):
        try:
            attachment = attachment_for_download(user=request.user, pk=pk)
        except ApplicationError as exc:
            raise Http404 from exc
        return FileResponse(
            attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name
        )


class ContactListView(generic.ObjectListView):
    title = "联系人列表"
    url_name = "contact"
    permission_required = "customers.view_contact"
    add_permission = "customers.add_contact"
    filterset_class = filters.ContactFilterSet
    table_class = tables.ContactTable

    def get_queryset(self, request):
        return selectors.contact_list(user=request.user)

    def url_for(self, action, *args):
        url = super().url_for(action, *args)
        customer = self.request.GET.get("customer_id")
        return f"{url}?customer={customer}" if url and action == "add" and customer else url


class ContactEditView(generic.ObjectEditView):
    form_class = forms.ContactForm
    save_service = services.contact_save
    initial_from_query = ("customer",)
    success_url_name = "contact_list"
    title_add, title_edit = "添加联系人", "编辑联系人"

    def get_queryset(self, request):
        return selectors.contact_list(user=request.user)


class ContactDeleteView(generic.ObjectDeleteView):
    permission_required = "customers.delete_contact"
    delete_service = services.contact_delete
    success_url_name = "contact_list"

    def get_queryset(self, request):
        return selectors.contact_list(user=request.user)


class CustomerMergeView(generic.KehuViewMixin, View):
    """合并客户: the checked customers → a field-by-field preview → merge."""

    permission_required = "customers.merge_customer"

    def post(self, request):
        from .merge import merge_candidates, merge_customers, merge_preview

        ids = [int(x) for x in request.POST.getlist("pk") if x.isdigit()]
        try:
            customers = merge_candidates(actor=request.user, ids=ids)
        except ApplicationError as exc:
            return render(
                request, "core/htmx/error_modal.html", {"message": exc.message}, status=exc.status
            )
        if "confirm" in request.POST:
            keep = int(request.POST.get("keep") or customers[0].pk)
            choices = {
                k[len("field_") :]: int(v)
                for k, v in request.POST.items()
                if k.startswith("field_") and v.isdigit()
            }
            try:
                kept = merge_customers(actor=request.user, ids=ids, keep_id=keep, choices=choices)
            except ApplicationError as exc:
                return render(
                    request,
                    "core/htmx/error_modal.html",
                    {"message": exc.message},
                    status=exc.status,
                )
            return saved_response(message=f"已合并为：{kept.name}")
        return render(
            request,
            "customers/htmx/merge_modal.html",
            {"customers": customers, "rows": merge_preview(customers)},
        )
