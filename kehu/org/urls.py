from django.urls import include, path

from kehu.core.urls import object_urls

from . import views

urlpatterns = [
    path(
        "users/<int:pk>/revoke-tokens/",
        views.UserTokensRevokeView.as_view(),
        name="user_revoke_tokens",
    ),
    path(
        "users/",
        include(
            object_urls(
                "user", list=views.UserListView, add=views.UserEditView, edit=views.UserEditView
            )
        ),
    ),
    path(
        "departments/",
        include(
            object_urls(
                "department",
                list=views.DepartmentListView,
                add=views.DepartmentEditView,
                edit=views.DepartmentEditView,
                delete=views.DepartmentDeleteView,
            )
        ),
    ),
    path(
        "roles/",
        include(
            object_urls(
                "role",
                list=views.RoleListView,
                add=views.RoleEditView,
                edit=views.RoleEditView,
                delete=views.RoleDeleteView,
            )
        ),
    ),
]
