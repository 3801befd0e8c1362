"""Every document type's pages, built from its declaration: list, add/edit/delete modals, batch
delete, the document page (fields, line items, approval history, attachments, actions), the
approval actions and the 客户画像 tab. Views decide nothing: selectors and services do."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import include, path, reverse
from django.views import View
from django_tables2 import RequestConfig

from kehu.core import views as generic
from kehu.core.attachments import attach_files, attachments_of
from kehu.core.errors import ApplicationError
from kehu.core.htmx import is_htmx, saved_response
from kehu.core.pagination import paginate_table
from kehu.core.services import BatchResult
from kehu.org.authz import can, permission_for

from . import approval, selectors, services
from .models import ApprovalStatus
from .types import DocumentType

ACTION_TITLES = {
    "submit": ("提交审批", "说明（选填）", False),
    "withdraw": ("撤回审批", "", False),
    "approve": ("审批通过", "审批意见（选填）", False),
    "reject": ("驳回", "驳回原因", True),
    "void": ("作废", "作废原因", True),
}


class ApprovalActionForm(forms.Form):
    comment = forms.CharField(
        label="意见", required=False, max_length=200, widget=forms.Textarea(attrs={"rows": 3})
    )


def available_actions(decl: DocumentType, user, doc) -> list[str]:
    """The approval buttons ``user`` sees on ``doc`` (the services check again)."""
    if not decl.approval:
        return []
    status = doc.approval_status
    found = []
    if status in (ApprovalStatus.DRAFT, ApprovalStatus.REJECTED) and can(user, "change", doc):
        found.append("submit")
    if status == ApprovalStatus.PENDING:
        if can(user, "change", doc):
            found.append("withdraw")
        if can(user, "approve", doc) and approval.may_approve(user, doc):
            found += ["approve", "reject"]
    if status == ApprovalStatus.APPROVED and can(user, "void", doc):
        found.append("void")
    return found


def build_views(decl: DocumentType) -> dict[str, type]:
    """The view classes of one document type (``document_urls`` wires them)."""

    def queryset(request):
        return selectors.document_list(decl, user=request.user)

    class ListView(generic.ObjectListView):
        model = decl.model
        action = "view"
        title = decl.label
        url_name = decl.url_name
        filterset_class = decl.filterset_class
        table_class = decl.table_class
        add_permission = f"{decl.model._meta.app_label}.add_{decl.model._meta.model_name}"
        bulk_actions = [
            generic.BulkAction(
                "删除",
                f"{decl.url_name}_bulk_delete",
                f"{decl.model._meta.app_label}.delete_{decl.model._meta.model_name}",
                confirm=f"确定删除所选{decl.label}？{decl.delete_hint}",
                danger=True,
            )
        ]

        tabs = [
            *(generic.Tab(key, f"{label}{decl.label}") for key, label in selectors.TABS.items()),
            *(generic.Tab(key, label) for key, label in decl.extra_tabs),
        ]

        def get_queryset(self, request):
            qs = selectors.document_list(decl, user=request.user, tab=self.current_tab(request))
            return decl.list_queryset(qs).order_by(*decl.default_ordering)

    class EditView(generic.ObjectEditView):
        model = decl.model
        form_class = decl.form_class
        initial_from_query = (
            "customer",
            "contract",
            "opportunity",
            "plan",
            "vehicle",
            "repair_order",
            "maintenance_order",
        )
        success_url_name = f"{decl.url_name}_list"
        title_add, title_edit = f"添加{decl.label}", f"编辑{decl.label}"
        modal_size = "modal-xl" if decl.item_model is not None else "modal-lg"
        form_template = "documents/_form.html"

        def get_queryset(self, request):
            return queryset(request)

        def get_object(self, request, pk):
            doc = super().get_object(request, pk)
            if doc is not None and not doc.editable:
                raise services.not_editable(decl, doc)
            return doc

        def save(self, request, form, instance):
            doc = services.document_save(
                decl, actor=request.user, instance=instance, data=form.cleaned_data
            )
            if request.FILES.getlist("attachments"):
                attach_files(
                    actor=request.user, obj=doc, files=request.FILES.getlist("attachments")
                )
            return doc

        def success_url(self, obj):
            return reverse(f"{decl.url_name}_detail", args=[obj.pk])

    class DeleteView(generic.ObjectDeleteView):
        model = decl.model
        action = "delete"
        success_url_name = f"{decl.url_name}_list"

        @staticmethod
        def delete_service(*, actor, instance):
            services.document_delete(decl, actor=actor, instance=instance)

        def get_queryset(self, request):
            return queryset(request)

    class BulkDeleteView(generic.BulkActionView):
        model = decl.model
        action = "delete"
        title = f"批量删除{decl.label}"

        def run(self, request, ids):
            result = BatchResult()
            docs = {d.pk: d for d in queryset(request).filter(pk__in=ids[:500])}
            for pk in ids[:500]:
                doc = docs.get(pk)
                if doc is None:
                    result.refuse(pk, f"{decl.label}不存在或无权查看")
                    continue
                try:
                    services.document_delete(decl, actor=request.user, instance=doc)
                except ApplicationError as exc:
                    result.refuse(pk, exc.message)
                else:
                    result.done.append(pk)
            for pk in ids[500:]:
                result.refuse(pk, "一次最多处理500条")
            return result

    class DetailView(generic.KehuViewMixin, View):
        model = decl.model
        action = "view"

        def get(self, request, pk):
            doc = selectors.document_get(decl, user=request.user, pk=pk)
            context = {
                "decl": decl,
                "doc": doc,
                "title": f"{decl.label} {doc.number}",
                "fields": decl.detail_fields(doc),
                "has_items": decl.item_model is not None,
                "items": list(doc.items.all()) if decl.item_model is not None else [],
                "history": approval.history(decl, doc) if decl.approval else [],
                "step": approval.current_step(doc)
                if decl.approval and doc.approval_status == ApprovalStatus.PENDING
                else None,
                "actions": [
                    (a, ACTION_TITLES[a][0], reverse(f"{decl.url_name}_action", args=[doc.pk, a]))
                    for a in available_actions(decl, request.user, doc)
                ],
                "extra_actions": decl.extra_actions(request.user, doc),
                "can_edit": doc.editable and can(request.user, "change", doc),
                "can_delete": doc.editable and can(request.user, "delete", doc),
                "can_attach": can(request.user, "change", doc),
                "attachments": list(attachments_of(doc)),
                "related": decl.related_tables(request, doc),
            }
            return render(request, "documents/detail.html", context)

    class ActionView(generic.KehuViewMixin, View):
        """提交审批 / 撤回 / 审批通过 / 驳回 / 作废: a modal asking for the comment, then the
        engine (which checks the state and the approver again)."""

        model = decl.model
        action = "view"

        def get_permission_required(self):
            # The action's own permission too (提交/撤回: change, 审批/驳回: approve, 作废: void),
            # checked before the document is read: a refusal that reveals nothing.
            perms = [permission_for(decl.model, "view")]
            name = self.kwargs.get("name")
            if name in approval.ACTION_PERMISSIONS:
                perms.append(permission_for(decl.model, approval.ACTION_PERMISSIONS[name]))
            return tuple(perms)

        def render_modal(self, request, doc, name, form, error="", status=200):
            title, label, required = ACTION_TITLES[name]
            if label:
                form.fields["comment"].label = label
                form.fields["comment"].required = required
            else:
                del form.fields["comment"]
            return render(
                request,
                "documents/htmx/action_modal.html",
                {
                    "doc": doc,
                    "decl": decl,
                    "title": f"{title}：{decl.label} {doc.number}",
                    "form": form,
                    "error": error,
                    "action_url": request.path,
                    "danger": name in ("reject", "void"),
                },
                status=status,
            )

        def get(self, request, pk, name):
            doc = self._doc(request, pk, name)
            approval.check_allowed(decl, actor=request.user, doc=doc, action=name)
            return self.render_modal(request, doc, name, ApprovalActionForm())

        def post(self, request, pk, name):
            doc = self._doc(request, pk, name)
            form = ApprovalActionForm(request.POST)
            if not form.is_valid():
                return self.render_modal(request, doc, name, form, status=400)
            try:
                approval.run(
                    decl, name, actor=request.user, doc=doc, comment=form.cleaned_data["comment"]
                )
            except ApplicationError as exc:
                return self.render_modal(request, doc, name, form, exc.message, exc.status)
            message = f"{ACTION_TITLES[name][0]}：{decl.label} {doc.number}"
            messages.success(request, message)
            if is_htmx(request):
                # the state shows in the page header and its buttons: reload the whole page
                response = saved_response(message=message)
                response["HX-Refresh"] = "true"
                return response
            return redirect(reverse(f"{decl.url_name}_detail", args=[doc.pk]))

        @staticmethod
        def _doc(request, pk, name):
            from django.http import Http404

            if name not in ACTION_TITLES or not decl.approval:
                raise Http404
            return selectors.document_get(decl, user=request.user, pk=pk)

    class AttachView(generic.KehuViewMixin, View):
        model = decl.model
        action = "change"

        def post(self, request, pk):
            from kehu.org.authz import authorize

            doc = selectors.document_get(decl, user=request.user, pk=pk)
            authorize(request.user, "change", doc)
            url = reverse(f"{decl.url_name}_detail", args=[doc.pk])
            files = request.FILES.getlist("attachments")
            if not files:
                messages.error(request, "请选择要上传的文件")
                return redirect(url)
            try:
                attach_files(actor=request.user, obj=doc, files=files)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已上传{len(files)}个附件")
            return redirect(url)

    return {
        "list": ListView,
        "edit": EditView,
        "delete": DeleteView,
        "bulk_delete": BulkDeleteView,
        "detail": DetailView,
        "action": ActionView,
        "attach": AttachView,
    }


def document_urls(decl: DocumentType, **extra) -> list:
    """``/<prefix>/``, ``add/``, ``<pk>/``, ``<pk>/edit/``, ``<pk>/delete/``, ``bulk/delete/``,
    ``<pk>/<action>/`` (types with approval only) and ``<pk>/attachments/`` — named ``<url_name>_…``."""
    v = build_views(decl)
    n = decl.url_name
    patterns = [
        path("", v["list"].as_view(), name=f"{n}_list"),
        path("add/", v["edit"].as_view(), name=f"{n}_add"),
        path("bulk/delete/", v["bulk_delete"].as_view(), name=f"{n}_bulk_delete"),
        path("<int:pk>/", v["detail"].as_view(), name=f"{n}_detail"),
        path("<int:pk>/edit/", v["edit"].as_view(), name=f"{n}_edit"),
        path("<int:pk>/delete/", v["delete"].as_view(), name=f"{n}_delete"),
        path("<int:pk>/attachments/", v["attach"].as_view(), name=f"{n}_attach"),
    ]
    for route, (view, name) in extra.items():
        patterns.append(path(route, view.as_view(), name=name))
    if decl.approval:  # last: ``<pk>/<name>/`` would catch the extra routes above
        patterns.append(path("<int:pk>/<str:name>/", v["action"].as_view(), name=f"{n}_action"))
    return [path(f"{decl.api_path}/", include(patterns))]


def portrait_tab(decl: DocumentType):
    """The 客户画像 tab of ``decl``: the type's own table for the customer, paginated, with 添加
    (read-only on a pool customer: no 添加, no row actions, contact data masked)."""

    def render_tab(request, customer, ctx) -> str:
        from kehu.customers.masking import mask_rows

        read_only = ctx.read_only
        table = decl.table_class(
            decl.list_queryset(ctx.rows).order_by(*decl.default_ordering),
            exclude=("customer", "select", *(("actions",) if read_only else ())),
            orderable=False,
            empty_text=f"暂无{decl.label}",
        )
        paginate_table(request, table, per_page=10)
        if ctx.in_pool:
            mask_rows(customer, [row.record for row in table.page.object_list])
        add_url = None
        if (
            not read_only
            and decl.addable_from_portrait
            and ctx.can_manage
            and can(request.user, "add", decl.model(customer=customer))
        ):
            add_url = reverse(f"{decl.url_name}_add") + f"?customer={customer.pk}"
        return render_to_string(
            "documents/htmx/portrait_tab.html",
            {
                "decl": decl,
                "customer": customer,
                "table": table,
                "add_url": add_url,
                "add_label": f"添加{decl.label}",
            },
            request=request,
        )

    return render_tab


def document_portrait_tab(decl: DocumentType, *, render=None):
    """The :class:`~kehu.core.registry.PortraitTab` a declaration gives (``tab_key``,
    ``tab_label``, ``tab_order``, the type's view permission): its rows are the type's list
    filtered by the customer (a pool customer's through ``pool_customer_documents``)."""
    from kehu.core.registry import PortraitTab

    def rows(user, customer, in_pool: bool):
        if in_pool:
            from kehu.pool.selectors import pool_customer_documents

            return pool_customer_documents(decl, user=user, customer=customer)
        return selectors.document_list(decl, user=user, customer_id=customer.pk)

    meta = decl.model._meta
    return PortraitTab(
        key=decl.tab_key,
        label=decl.tab_label or decl.label,
        order=decl.tab_order,
        permission=f"{meta.app_label}.view_{meta.model_name}",
        rows=rows,
        render=render or portrait_tab(decl),
    )


def register_declared_tabs() -> None:
    """Every declared document type with a ``tab_key`` has its 客户画像 tab: the ones an app
    registered itself (e.g. with its own rule for 添加) are kept, the others come from their
    declaration — a new type needs nothing more."""
    from kehu.core.registry import portrait_tabs, register_portrait_tab

    from .types import registry

    for decl in registry.values():
        if decl.tab_key and decl.tab_key not in portrait_tabs:
            register_portrait_tab(document_portrait_tab(decl))


def related_sections(request, parent, specs, *, limit: int | None = None) -> list[tuple[str, str]]:
    """The document page's sections listing documents of other types that point at ``parent``
    (a contract's 回款信息/回款计划, a vehicle's 维修记录/保养记录): ``specs`` is
    ``[(type key, title, lookup field, columns to leave out)]``; each is the type's own table,
    through its visibility rule, shown only to holders of its view permission."""
    from .types import registry

    sections = []
    for key, title, lookup, exclude in specs:
        decl = registry[key]
        if not can_view(request.user, decl):
            continue
        queryset = selectors.document_list(decl, user=request.user).filter(**{lookup: parent})
        queryset = queryset.order_by(*decl.default_ordering)
        table = decl.table_class(
            queryset[:limit] if limit else queryset,
            exclude=("customer", "select", *exclude),
            orderable=False,
            empty_text=f"暂无{title}",
        )
        RequestConfig(request, paginate=False).configure(table)
        html = render_to_string(
            "documents/htmx/related_table.html", {"table": table}, request=request
        )
        sections.append((title, html))
    return sections


def can_view(user, decl: DocumentType) -> bool:
    from kehu.org.authz import has_permission

    return has_permission(user, "view", decl.model)
