"""System settings pages for the organisation: declared on the generic views, nothing more."""

from __future__ import annotations

from kehu.core import views as generic

from . import filters, forms, selectors, services, tables


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
