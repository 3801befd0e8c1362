"""Pages that are not a model's list: the dashboard and the settings index."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.views import View

from .registry import dashboard_cards


class DashboardView(LoginRequiredMixin, View):
    """首页 (SPEC §10.2, issue 13 point 5): the sections of ``kehu/core/dashboard.py`` the user
    has work in, plus the cards other apps register (``dashboard_cards``)."""

    def get(self, request):
        from .dashboard import dashboard

        user = request.user
        cards = [card(user) for card in dashboard_cards]
        sections = dashboard(user)
        charts = {}
        if sections["mine"] and "opportunities" in sections["mine"].extra:
            charts["opportunities"] = [
                {"name": f.label, "value": f.value, "url": f.url}
                for f in sections["mine"].extra["opportunities"]
            ]
        if sections["mine"]:
            charts["receivables"] = [
                {"name": f.label, "value": str(f.amount), "url": f.url}
                for f in sections["mine"].extra["receivables"][1:]
            ]
        if sections["team"]:
            charts["team"] = sections["team"].extra["chart"]
        if sections["ageing"]:
            charts["ageing"] = sections["ageing"].extra["chart"]
        return render(
            request,
            "core/dashboard.html",
            {
                "title": "首页",
                "cards": [c for c in cards if c is not None],
                "sections": sections,
                "charts": charts,
            },
        )


class SettingsView(LoginRequiredMixin, View):
    def get(self, request):
        if not request.user.has_perm("org.view_user"):
            raise PermissionDenied
        return render(request, "core/settings.html", {"title": "系统设置"})


class TodoCountView(LoginRequiredMixin, View):
    """The 通知代办 badge's count, fetched by the page after it loaded (kehu.js) and again after
    every save: no page waits for it (SPEC §12.1 budgets list and portrait pages)."""

    def get(self, request):
        from .context_processors import todo_count

        count = todo_count(request.user)
        response = JsonResponse({"count": count, "label": badge_label(count)})
        response["Cache-Control"] = "no-store"
        return response


def badge_label(count: int) -> str:
    """What the badge shows: the count, "99+" beyond 99 (sources are counted up to 100 each)."""
    return "99+" if count > 99 else str(count)
