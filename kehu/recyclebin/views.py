"""/recycle-bin/: the list (系统设置 → 回收站), 恢复 and 彻底删除 (both confirmed in a modal)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.core.htmx import is_htmx, saved_response
from kehu.org.authz import authorize

from . import filters, selectors, services, tables
from .models import RecycleEntry


class RecycleEntryListView(generic.ObjectListView):
    title = "回收站"
    model = RecycleEntry
    action = "view"
    url_name = "recyclebin"
    filterset_class = filters.RecycleEntryFilterSet
    table_class = tables.RecycleEntryTable

    def get_queryset(self, request):
        return selectors.recycle_entry_list(user=request.user)


class RecycleEntryRestoreView(generic.KehuViewMixin, View):
    model = RecycleEntry
    action = "restore"

    def get_object(self, request, pk: int) -> RecycleEntry:
        entry = selectors.recycle_entry_get(user=request.user, pk=pk)
        authorize(request.user, "restore", entry)
        return entry

    def render_confirm(self, request, entry, error: str = "", status: int = 200):
        context = {"object": entry, "action_url": request.get_full_path(), "error": error}
        template = (
            "recyclebin/htmx/restore_modal.html" if is_htmx(request) else "recyclebin/restore.html"
        )
        return render(request, template, context, status=status)

    def get(self, request, pk: int):
        return self.render_confirm(request, self.get_object(request, pk))

    def post(self, request, pk: int):
        entry = self.get_object(request, pk)
        label = str(entry)
        try:
            services.restore(actor=request.user, entry=entry)
        except ApplicationError as exc:
            return self.render_confirm(request, entry, error=exc.message, status=exc.status)
        if is_htmx(request):
            return saved_response(message=f"已恢复：{label}")
        messages.success(request, f"已恢复：{label}")
        return redirect(reverse("recyclebin_list"))


class RecycleEntryDeleteView(generic.ObjectDeleteView):
    """彻底删除: the entry and, after commit, its files."""

    model = RecycleEntry
    action = "delete"
    delete_service = staticmethod(services.purge_entry)
    success_url_name = "recyclebin_list"

    def get_queryset(self, request):
        return selectors.recycle_entry_list(user=request.user)
