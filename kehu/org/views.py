"""System settings pages for the organisation (declared on the generic views), and the
signed-in user's own account pages: 我的令牌 and 修改密码."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views import View

from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.core.htmx import is_htmx, saved_response

from . import filters, forms, forms_auth, selectors, services, tables
from .models import User


class UserListView(generic.ObjectListView):
    title = "员工"
    url_name = "user"
    permission_required = "org.view_user"
    add_permission = "org.add_user"
    filterset_class = filters.UserFilterSet
    table_class = tables.UserTable

    def get_queryset(self, request):
        return selectors.user_list()


class UserEditView(generic.ObjectEditView):
    form_class = forms.UserForm
    save_service = services.user_save
    success_url_name = "user_list"
    title_add, title_edit = "添加员工", "编辑员工"

    def get_queryset(self, request):
        return selectors.user_list()


class DepartmentListView(generic.ObjectListView):
    title = "部门"
    url_name = "department"
    permission_required = "org.view_department"
    add_permission = "org.add_department"
    filterset_class = filters.DepartmentFilterSet
    table_class = tables.DepartmentTable

    def get_queryset(self, request):
        return selectors.department_list()


class DepartmentEditView(generic.ObjectEditView):
    form_class = forms.DepartmentForm
    save_service = services.department_save
    success_url_name = "department_list"
    title_add, title_edit = "添加部门", "编辑部门"
    modal_size = "modal-md"

    def get_queryset(self, request):
        return selectors.department_list()


class DepartmentDeleteView(generic.ObjectDeleteView):
    permission_required = "org.delete_department"
    delete_service = services.department_delete
    success_url_name = "department_list"

    def get_queryset(self, request):
        return selectors.department_list()


class RoleListView(generic.ObjectListView):
    title = "角色"
    url_name = "role"
    permission_required = "org.view_role"
    add_permission = "org.add_role"
    filterset_class = filters.RoleFilterSet
    table_class = tables.RoleTable

    def get_queryset(self, request):
        return selectors.role_list()


class RoleEditView(generic.ObjectEditView):
    form_class = forms.RoleForm
    save_service = services.role_save
    success_url_name = "role_list"
    title_add, title_edit = "添加角色", "编辑角色"

    def get_queryset(self, request):
        return selectors.role_list()


class RoleDeleteView(generic.ObjectDeleteView):
    permission_required = "org.delete_role"
    delete_service = services.role_delete
    success_url_name = "role_list"

    def get_queryset(self, request):
        return selectors.role_list()


def _render_revoke(request, context, status):
    """The 撤销 confirmation: a modal for HTMX, a page otherwise."""
    template = "org/htmx/revoke_modal.html" if is_htmx(request) else "org/revoke_confirm.html"
    return render(request, template, {"title": "撤销令牌", **context}, status=status)


class UserTokensRevokeView(generic.KehuViewMixin, View):
    """撤销令牌 on the employees page: revoke every API token of one employee."""

    permission_required = "org.change_user"

    def render_confirm(self, request, user, error="", status=200):
        count = selectors.token_list(user=user).count()
        context = {
            "heading": f"撤销{user.display_name}的 API 令牌？",
            "text": f"该员工现有 {count} 个令牌，撤销后立即失效，需要重新获取。",
            "action_url": request.path,
            "cancel_url": reverse("user_list"),
            "error": error,
        }
        return _render_revoke(request, context, status)

    def get(self, request, pk):
        return self.render_confirm(request, get_object_or_404(User, pk=pk))

    def post(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        try:
            count = services.user_tokens_revoke(actor=request.user, user=user)
        except ApplicationError as exc:
            return self.render_confirm(request, user, error=exc.message, status=exc.status)
        message = f"已撤销{user.display_name}的 API 令牌：{count}个"
        if is_htmx(request):
            return saved_response(message=message)
        messages.success(request, message)
        return redirect(reverse("user_list"))


# --- the signed-in user's own account pages (user menu) ----------------------------------------


class TokenListView(generic.ObjectListView):
    """我的令牌: the signed-in user's API tokens, each with 撤销. Every signed-in user may see
    their own; nobody sees anybody else's."""

    title = "我的令牌"
    url_name = "token"
    filterset_class = filters.ApiTokenFilterSet
    table_class = tables.ApiTokenTable
    template_name = "org/token_list.html"

    def get_queryset(self, request):
        return selectors.token_list(user=request.user)

    def get_extra_context(self, request):
        return {"token_days": settings.KEHU_API_TOKEN_DAYS}


class TokenRevokeView(generic.ObjectDeleteView):
    """撤销 one of the user's own tokens (someone else's answers 404, like a missing one)."""

    success_url_name = "token_list"

    def get_queryset(self, request):
        return selectors.token_list(user=request.user)

    def get_object(self, request, pk):
        # Ownership is the rule here (no permission): the queryset holds only the user's own.
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj

    def render_confirm(self, request, obj, error="", status=200):
        context = {
            "heading": "撤销这个令牌？",
            "text": f"「{obj}」撤销后立即失效，使用它的程序需要重新获取令牌。",
            "action_url": request.path,
            "cancel_url": reverse("token_list"),
            "error": error,
        }
        return _render_revoke(request, context, status)

    def post(self, request, pk):
        token = self.get_object(request, pk)
        name = token.name
        try:
            services.token_revoke(actor=request.user, instance=token)
        except ApplicationError as exc:
            return self.render_confirm(request, token, error=exc.message, status=exc.status)
        message = f"已撤销令牌：{name}"
        if is_htmx(request):
            return saved_response(message=message)
        messages.success(request, message)
        return redirect(reverse(self.success_url_name))


class PasswordChangeView(auth_views.PasswordChangeView):
    """修改密码 (Django's view: the session stays signed in). The new password revokes every
    API token of the user (kehu.org.signals)."""

    form_class = forms_auth.KehuPasswordChangeForm
    template_name = "org/password_change.html"
    success_url = reverse_lazy("dashboard")
    extra_context = {"title": "修改密码"}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "密码已修改；原有的 API 令牌已全部失效，请重新获取")
        return response
