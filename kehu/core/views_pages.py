"""Pages that are not a model's list: the dashboard and the settings index."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views import View

from .registry import dashboard_cards, funnel_stages


class DashboardView(LoginRequiredMixin, View):
    """首页 (SPEC §10.2): 通知代办 counts, my sales funnel, today's follow-ups."""

    def get(self, request):
        user = request.user
        cards = [card(user) for card in dashboard_cards]
        funnel = []
        for _order, label, count in sorted(funnel_stages, key=lambda stage: stage[0]):
            value = count(user)
            if value is not None:
                funnel.append({"name": label, "value": value})
        today = overdue = []
        if user.has_perm("customers.view_customer"):
            from kehu.followups.selectors import followups_due

            due = followups_due(user=user)
            today, overdue = list(due["today"][:10]), list(due["overdue"][:5])
        return render(
            request,
            "core/dashboard.html",
            {
                "title": "首页",
                "cards": [c for c in cards if c is not None],
                "funnel": funnel,
                "today": today,
                "overdue": overdue,
            },
        )


class SettingsView(LoginRequiredMixin, View):
    def get(self, request):
        if not request.user.has_perm("org.view_user"):
            raise PermissionDenied
        return render(request, "core/settings.html", {"title": "系统设置"})
