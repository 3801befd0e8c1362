"""Permissions come from roles: a user holds the union of its roles' permissions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

UserModel = get_user_model()


class RoleBackend(ModelBackend):
    def get_user(self, user_id):
        # The signed-in user of every request: its department and roles come along (the user
        # menu, the data scope and the admin check read them), in two queries instead of four.
        user = (
            UserModel._default_manager.select_related("department")
            .prefetch_related("roles")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

    def _get_role_permissions(self, user_obj):
        if user_obj.is_admin:
            return Permission.objects.all()
        return Permission.objects.filter(role__users=user_obj)

    def get_group_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_role_perm_cache"):
            perms = self._get_role_permissions(user_obj).values_list(
                "content_type__app_label", "codename"
            )
            user_obj._role_perm_cache = {f"{ct}.{name}" for ct, name in perms}
        return user_obj._role_perm_cache

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return {*self.get_user_permissions(user_obj), *self.get_group_permissions(user_obj)}
