"""Pages that are not a model's list: the dashboard and the settings index."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
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
