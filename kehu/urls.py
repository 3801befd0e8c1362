from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path, re_path

from kehu.api import api
from kehu.audit.views import ChangeLogListView
from kehu.basics.urls import product_urlpatterns
from kehu.core.views import ListColumnsView
from kehu.core.views_jobs import BatchJobView
from kehu.core.views_pages import DashboardView, SettingsView, TodoCountView
from kehu.org.forms_auth import LoginForm


def api_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "接口不存在", "errors": {}, "code": "not_found"}, status=404)


urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("kehu.org.urls_account")),
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),
    path("", DashboardView.as_view(), name="dashboard"),
    path("todo/count/", TodoCountView.as_view(), name="todo_count"),
    path("settings/", SettingsView.as_view(), name="settings"),
    path("settings/", include("kehu.org.urls")),
    path("settings/", include("kehu.basics.urls")),
    path("settings/", include("kehu.documents.urls")),
    path("products/", include(product_urlpatterns)),
    path("audit/", ChangeLogListView.as_view(), name="audit_list"),
    path("batch-jobs/<int:pk>/", BatchJobView.as_view(), name="batch_job"),
    path("list-columns/<str:table>/", ListColumnsView.as_view(), name="list_columns"),
    path("recycle-bin/", include("kehu.recyclebin.urls")),
    path("", include("kehu.sales.urls")),
    path("", include("kehu.aftersales.urls")),
    path("", include("kehu.followups.urls")),
    path("", include("kehu.imports.urls")),
    path("", include("kehu.pool.urls")),
    path("", include("kehu.customers.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "kehu.core.middleware.bad_request"
handler403 = "kehu.core.middleware.page_forbidden"
handler404 = "kehu.core.middleware.page_not_found"
handler500 = "kehu.core.middleware.server_error"
