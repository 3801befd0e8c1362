"""The signed-in user's own pages under /accounts/ (the user menu): 我的令牌, 修改密码."""

from django.urls import path

from . import views

urlpatterns = [
    path("tokens/", views.TokenListView.as_view(), name="token_list"),
    path("tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
]
