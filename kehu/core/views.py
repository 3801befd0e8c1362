"""Generic list and CRUD views (the NetBox lesson): a model declares, these do the work once.

A list page is declared with ``queryset`` (from a selector), ``filterset_class`` and
``table_class``; create/edit/delete with ``form_class`` and the service functions to call:

    class DepartmentListView(ObjectListView):
        title = "部门"
        permission_required = "org.view_department"
        filterset_class = DepartmentFilterSet
        table_class = DepartmentTable
        url_name = "department"
        def get_queryset(self, request): return selectors.department_list(user=request.user)

    class DepartmentEditView(ObjectEditView):
        form_class = DepartmentForm
        save_service = staticmethod(services.department_save)  # (*, actor, instance, data)
        ...

Views never filter by owner or decide rules: selectors and services do.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views import View

from kehu.core.registry import recyclable_models
from kehu.org.authz import authorize

from .api import MAX_ID
from .errors import ApplicationError, Forbidden, NotFound
from .htmx import is_fragment_request, is_htmx, saved_response
from .pagination import paginate_table
from .services import check_batch_size

LIST_TARGET = "object-list"


@dataclass(frozen=True)
class Tab:
    key: str
    label: str


@dataclass(frozen=True)
class BulkAction:
    """An entry of the 操作 menu: posts the checked ids to ``url_name``."""

    label: str
    url_name: str
    permission: str | None = None
    confirm: str = ""
    danger: bool = False
    # a button of its own at the top left (the pool's 领取 and 转移, as in the seed), not an entry
    # of the 操作 menu
    toolbar: bool = False
    # 全部符合条件的记录: posts the list's search form (filters, tab) instead of the checked ids
    # (a background job, kehu/core/jobs.py)
    matching: bool = False


class KehuViewMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Signed in, and holding the permission the view's model + action need (SPEC §1).

    Generic views name a ``model`` and an ``action`` (``view`` for lists, ``add``/``change`` for
    the edit view depending on the pk, ``delete``); the permission is derived from them through
    :func:`kehu.org.authz.permission_for`, so add and change can never share one. Views that are
    not about one model's CRUD state ``permission_required`` instead. Either way the services
    check again with ``authorize()``: a view's check only answers early and hides buttons."""

    permission_required: ClassVar[str | tuple[str, ...] | None] = None
    model: ClassVar[type[models.Model] | None] = None
    action: ClassVar[str | None] = None
    raise_exception = True

    def get_model(self) -> type[models.Model] | None:
        if self.model is not None:
            return self.model
        form_class = getattr(self, "form_class", None)
        meta = getattr(form_class, "_meta", None)
        return getattr(meta, "model", None)

    def get_action(self) -> str | None:
        return self.action

    def get_permission_required(self):
        from kehu.org.authz import permission_for

        model, action = self.get_model(), self.get_action()
        if model is not None and action is not None:
            return (permission_for(model, action),)
        perms = self.permission_required
        if perms is None:
            return ()
        return (perms,) if isinstance(perms, str) else perms

    def has_permission(self) -> bool:
        return self.request.user.has_perms(self.get_permission_required())

    def handle_no_permission(self):
        # Anonymous visitors go to the login page; signed-in users without the permission get 403.
        if not self.request.user.is_authenticated:
            return redirect_to_login(
                self.request.get_full_path(), self.get_login_url(), self.get_redirect_field_name()
            )
        from kehu.org.authz import refusal_message

        missing = [p for p in self.get_permission_required() if not self.request.user.has_perm(p)]
        raise Forbidden(refusal_message(missing[0]) if missing else "没有权限执行此操作")


class ObjectListView(KehuViewMixin, View):
    """A searchable, sortable, paginated list with tabs, checkboxes and batch actions."""

    title: ClassVar[str] = ""
    url_name: ClassVar[str] = ""  # prefix of the add/edit/delete/bulk-delete URL names
    filterset_class: ClassVar[Any] = None
    table_class: ClassVar[Any] = None
    template_name: ClassVar[str] = "core/object_list.html"
    tabs: ClassVar[list[Tab]] = []
    default_tab: ClassVar[str] = ""
    bulk_actions: ClassVar[list[BulkAction]] = []
    add_permission: ClassVar[str | None] = None
    add_label: ClassVar[str] = "添加"
    extra_buttons_template: ClassVar[str | None] = None

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        raise ImproperlyConfigured(f"{type(self).__name__} must define get_queryset()")

    def current_tab(self, request: HttpRequest) -> str:
        keys = [t.key for t in self.tabs]
        tab = request.GET.get("tab", self.default_tab or (keys[0] if keys else ""))
        return tab if tab in keys else (self.default_tab or (keys[0] if keys else ""))

    def page_size(self, request: HttpRequest) -> int:
        sizes = settings.KEHU_PAGE_SIZES
        try:
            size = int(request.GET.get("per_page", sizes[0]))
        except ValueError:
            size = sizes[0]
        return size if size in sizes else sizes[0]

    def url_for(self, action: str, *args) -> str | None:
        if not self.url_name:
            return None
        try:
            return reverse(f"{self.url_name}_{action}", args=args)
        except NoReverseMatch:
            return None

    def get_table(self, request: HttpRequest, queryset: models.QuerySet):
        # No ``request=`` here: django-tables2 would paginate (and count) with its own paginator
        # first; paginate_table sets ``table.request`` and paginates once, with ours.
        from .selectors import hidden_columns

        hidden = hidden_columns(
            user=request.user,
            table=self.table_class.columns_key(),
            session=getattr(request, "session", None),
        )
        table = self.table_class(queryset, hidden=hidden)
        paginate_table(request, table, per_page=self.page_size(request))
        return table

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        queryset = self.get_queryset(request)
        filterset = self.filterset_class(request.GET or None, queryset=queryset, request=request)
        if filterset.is_bound and not filterset.is_valid():
            queryset = queryset.none()
        else:
            queryset = filterset.qs
        table = self.get_table(request, queryset)
        user = request.user
        context = {
            "view": self,
            "title": self.title,
            "table": table,
            "filter_form": filterset.form,
            "filters_active": any(
                v for k, v in request.GET.items() if k not in {"tab", "page", "per_page", "sort"}
            ),
            "tabs": self.tabs,
            "current_tab": self.current_tab(request),
            "page_sizes": settings.KEHU_PAGE_SIZES,
            "per_page": self.page_size(request),
            "bulk_actions": [
                (a, self._reverse(a.url_name))
                for a in self.bulk_actions
                if (a.permission is None or user.has_perm(a.permission)) and not a.toolbar
            ],
            "toolbar_actions": [
                (a, self._reverse(a.url_name))
                for a in self.bulk_actions
                if (a.permission is None or user.has_perm(a.permission)) and a.toolbar
            ],
            "columns_url": reverse("list_columns", args=[self.table_class.columns_key()]),
            "add_url": self.url_for("add")
            if (self.add_permission is None or user.has_perm(self.add_permission))
            else None,
            "add_label": self.add_label,
            "extra_buttons_template": self.extra_buttons_template,
            "list_target": LIST_TARGET,
            **self.get_extra_context(request),
        }
        if is_fragment_request(request, LIST_TARGET):
            return render(request, "core/htmx/object_list.html", context)
        return render(request, self.template_name, context)

    @staticmethod
    def _reverse(url_name: str) -> str:
        return reverse(url_name)


class ObjectEditView(KehuViewMixin, View):
    """Create (no pk) or edit (pk) through a modal form; saving goes through ``save_service``."""

    form_class: ClassVar[Any] = None
    save_service: ClassVar[Callable[..., models.Model] | None] = None
    template_name: ClassVar[str] = "core/object_edit.html"
    title_add: ClassVar[str] = "添加"
    title_edit: ClassVar[str] = "编辑"
    success_url_name: ClassVar[str] = ""
    modal_size: ClassVar[str] = "modal-lg"
    form_template: ClassVar[str] = "core/_form_fields.html"

    def get_action(self) -> str:
        return "change" if self.kwargs.get("pk") is not None else "add"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        raise ImproperlyConfigured(f"{type(self).__name__} must define get_queryset()")

    def get_object(self, request: HttpRequest, pk: int | None) -> models.Model | None:
        if pk is None:
            return None
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        authorize(request.user, "change", obj)  # seen is not changeable (a share, finance)
        return obj

    # Query parameters that preselect fields of an empty add form (…/add/?customer=5 from the
    # portrait's 添加 buttons).
    initial_from_query: ClassVar[tuple[str, ...]] = ()

    def get_form(self, request: HttpRequest, instance, data=None, files=None):
        # The form validates a copy: the service still sees the stored state (for its log diff).
        bound = copy.copy(instance) if instance is not None else None
        kwargs: dict[str, Any] = {}
        if instance is None and data is None:
            initial = {k: request.GET[k] for k in self.initial_from_query if request.GET.get(k)}
            if initial:
                kwargs["initial"] = initial
        return self.form_class(data=data, files=files, instance=bound, user=request.user, **kwargs)

    def render_form(self, request, form, instance, status=200, error: str = "", extra=None):
        context = {
            "form": form,
            "object": instance,
            "title": self.title_edit if instance else self.title_add,
            "action_url": request.get_full_path(),
            "error": error,
            "error_extra": extra or {},
            "modal_size": self.modal_size,
            "form_template": self.form_template,
        }
        if is_htmx(request):
            return render(request, "core/htmx/form_modal.html", context, status=status)
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        instance = self.get_object(request, pk)
        form = self.get_form(request, instance)
        if getattr(form, "preselect_error", ""):
            raise NotFound(form.preselect_error)  # ?customer= names nothing the user may pick
        return self.render_form(request, form, instance)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        instance = self.get_object(request, pk)
        form = self.get_form(request, instance, request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(request, form, instance, status=400)
        try:
            saved = self.save(request, form, instance)
        except ApplicationError as exc:
            form = self.form_after_error(request, form, instance, exc)
            for field, errors in exc.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            return self.render_form(
                request, form, instance, status=exc.status, error=exc.message, extra=exc.extra
            )
        message = f"已保存：{saved}"
        if is_htmx(request):
            return saved_response(message=message)
        messages.success(request, message)
        return redirect(self.success_url(saved))

    def form_after_error(self, request: HttpRequest, form, instance, exc: ApplicationError):
        """Hook: the form to show again after a refusal (e.g. with a confirmation flag set)."""
        return form

    def save(self, request: HttpRequest, form, instance) -> models.Model:
        assert self.save_service is not None
        return type(self).save_service(
            actor=request.user, instance=instance, data=form.cleaned_data
        )

    def success_url(self, obj) -> str:
        return reverse(self.success_url_name)


class ObjectDeleteView(KehuViewMixin, View):
    """Confirm (GET) and delete (POST) one object through ``delete_service``."""

    delete_service: ClassVar[Callable[..., None] | None] = None
    success_url_name: ClassVar[str] = ""
    # Why the delete service would refuse ``obj`` (None: it would not): asked before the
    # confirmation, so a refusal is said up front and 删除 is disabled (issue 14.5). The default
    # asks the registered delete guards (documents naming the record).
    delete_refusal: ClassVar[Callable[[models.Model], str | None] | None] = None

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        raise ImproperlyConfigured(f"{type(self).__name__} must define get_queryset()")

    def get_object(self, request, pk):
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        authorize(request.user, "delete", obj)
        return obj

    def refusal(self, obj) -> str | None:
        from kehu.core.registry import delete_refusal

        check = type(self).delete_refusal
        return check(obj) if check is not None else delete_refusal(obj)

    def render_confirm(self, request, obj, error="", status=200, refused=False):
        context = {
            "object": obj,
            "action_url": request.get_full_path(),
            "error": error,
            "refused": refused,
            # deletes the 回收站 keeps (SPEC §13): the confirmation says so
            "recycle_days": settings.KEHU_RECYCLE_DAYS
            if obj._meta.label_lower in recyclable_models
            else None,
        }
        template = "core/htmx/delete_modal.html" if is_htmx(request) else "core/object_delete.html"
        return render(request, template, context, status=status)

    def get(self, request, pk):
        obj = self.get_object(request, pk)
        reason = self.refusal(obj)
        if reason:
            return self.render_confirm(request, obj, error=reason, refused=True)
        return self.render_confirm(request, obj)

    def post(self, request, pk):
        obj = self.get_object(request, pk)
        label = str(obj)
        try:
            type(self).delete_service(actor=request.user, instance=obj)
        except ApplicationError as exc:
            return self.render_confirm(request, obj, error=exc.message, status=exc.status)
        if is_htmx(request):
            return saved_response(message=f"已删除：{label}")
        messages.success(request, f"已删除：{label}")
        return redirect(reverse(self.success_url_name))


class BulkActionView(KehuViewMixin, View):
    """POST ``pk`` (repeated) → a batch service answering ``BatchResult``; shows the report."""

    title: ClassVar[str] = "批量操作"
    batch_service: ClassVar[Callable[..., Any] | None] = None

    def get_ids(self, request, values: list[str] | None = None) -> list[int]:
        """The checked ids (``pk``, repeated), distinct; at most ``KEHU_BATCH_MAX_IDS`` of them,
        else an ApplicationError with the limit's message (shown in the batch modal)."""
        ids: dict[int, None] = {}
        for raw in request.POST.getlist("pk") if values is None else values:
            try:
                pk = int(raw)
            except ValueError:
                continue
            if 0 < pk <= MAX_ID:
                ids[pk] = None
        check_batch_size(ids)
        return list(ids)

    def run(self, request, ids):
        return type(self).batch_service(actor=request.user, ids=ids)

    def post(self, request):
        try:
            ids = self.get_ids(request)
        except ApplicationError as exc:  # more ids than one batch may name
            context = {"title": self.title, "result": None, "error": exc.message}
            return render(request, "core/htmx/batch_result_modal.html", context, status=exc.status)
        if not ids:
            result, error = None, "请先勾选要操作的记录"
        else:
            try:
                result, error = self.run(request, ids), ""
            except ApplicationError as exc:
                result, error = None, exc.message
        context = {"title": self.title, "result": result, "error": error}
        response = render(request, "core/htmx/batch_result_modal.html", context)
        if result is not None and result.done:
            response["HX-Trigger"] = "objectSaved"
        return response


class BulkFormActionView(BulkActionView):
    """A batch action that asks for input first (a reason, target employees…).

    The first POST (checked ``pk``s, no ``confirm``) shows ``form_class`` in the modal with the
    ids kept as hidden fields; the confirmed POST validates it and calls ``run(request, ids, form)``.
    A GET with ``?pk=`` opens the same form for a single row.
    """

    form_class: ClassVar[Any] = None
    submit_label: ClassVar[str] = "确定"
    intro: ClassVar[str] = ""

    def get_form(self, request, data=None):
        return self.form_class(data=data, user=request.user)

    def run(self, request, ids, form):  # pragma: no cover - declared by subclasses
        raise NotImplementedError

    def render_form(self, request, ids, form, error="", status=200):
        context = {
            "title": self.title,
            "form": form,
            "ids": ids,
            "error": error,
            "intro": self.intro,
            "submit_label": self.submit_label,
            "action_url": request.path,
        }
        return render(request, "core/htmx/bulk_form_modal.html", context, status=status)

    def get(self, request):
        try:
            ids = self.get_ids(request, [x for x in request.GET.getlist("pk") if x.isdigit()])
        except ApplicationError as exc:
            return self.render_form(request, [], self.get_form(request), exc.message, exc.status)
        return self.render_form(request, ids, self.get_form(request))

    def post(self, request):
        try:
            ids = self.get_ids(request)
        except ApplicationError as exc:
            return self.render_form(request, [], self.get_form(request), exc.message, exc.status)
        if not ids:
            return self.render_form(
                request, ids, self.get_form(request), error="请先勾选要操作的记录", status=400
            )
        if "confirm" not in request.POST:
            return self.render_form(request, ids, self.get_form(request))
        form = self.get_form(request, request.POST)
        if not form.is_valid():
            return self.render_form(request, ids, form, status=400)
        try:
            result = self.run(request, ids, form)
        except ApplicationError as exc:
            for field, errors in exc.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            return self.render_form(request, ids, form, error=exc.message, status=exc.status)
        response = render(
            request, "core/htmx/batch_result_modal.html", {"title": self.title, "result": result}
        )
        if result.done:
            response["HX-Trigger"] = "objectSaved"
        return response


class ListColumnsView(LoginRequiredMixin, View):
    """列: which columns of a list the signed-in user sees (a modal of checkboxes; saved for the
    user through ``core.services.list_columns_save``, then the list refreshes)."""

    raise_exception = False

    def table_class(self, table: str):
        from .tables import TABLES

        table_class = TABLES.get(table)
        if table_class is None:
            raise NotFound("没有这个列表")
        return table_class

    def render_modal(self, request, table: str, shown: set[str], error: str = "", status=200):
        from .selectors import hidden_columns

        table_class = self.table_class(table)
        if shown is None:
            hidden = set(hidden_columns(user=request.user, table=table, session=request.session))
            shown = {n for n, _ in table_class.choosable_columns() if n not in hidden}
        fixed = table_class.fixed_columns()
        columns = [
            {"name": n, "label": label, "shown": n in shown or n in fixed, "fixed": n in fixed}
            for n, label in table_class.choosable_columns()
        ]
        context = {"columns": columns, "action_url": request.get_full_path(), "error": error}
        return render(request, "core/htmx/columns_modal.html", context, status=status)

    def get(self, request, table: str):
        return self.render_modal(request, table, None)

    def post(self, request, table: str):
        from .services import list_columns_save

        self.table_class(table)
        shown = request.POST.getlist("shown")
        try:
            list_columns_save(actor=request.user, table=table, shown=shown)
        except ApplicationError as exc:
            return self.render_modal(request, table, set(shown), exc.message, exc.status)
        from .selectors import SESSION_KEY

        request.session.pop(SESSION_KEY, None)  # read again by the next list page
        return saved_response(message="已保存显示的列")
