"""Pages that are not a model's list: the dashboard and the settings index."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views import View

from .registry import dashboard_cards


class DashboardView(LoginRequiredMixin, View):
    def get(self, request):
        cards = [card(request.user) for card in dashboard_cards]
        return render(
            request,
            "core/dashboard.html",
            {"title": "首页", "cards": [c for c in cards if c is not None]},
        )


class SettingsView(LoginRequiredMixin, View):
    def get(self, request):
        if not request.user.has_perm("org.view_user"):
            raise PermissionDenied
        return render(request, "core/settings.html", {"title": "系统设置"})
