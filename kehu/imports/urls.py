from django.urls import path

from . import views

urlpatterns = [
    path("customers/import/", views.ImportStartView.as_view(), name="import_start"),
    path("customers/import/template/", views.ImportTemplateView.as_view(), name="import_template"),
    path("customers/imports/<int:pk>/", views.ImportDetailView.as_view(), name="import_detail"),
    path(
        "customers/imports/<int:pk>/confirm/",
        views.ImportConfirmView.as_view(),
        name="import_confirm",
    ),
    path(
        "customers/imports/<int:pk>/errors/", views.ImportErrorsView.as_view(), name="import_errors"
    ),
    path("customers/export/", views.ExportView.as_view(), name="customer_export"),
]
