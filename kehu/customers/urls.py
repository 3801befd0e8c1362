from django.urls import include, path

from kehu.core.urls import object_urls

from . import views

urlpatterns = [
    path(
        "customers/",
        include(
            object_urls(
                "customer",
                list=views.CustomerListView,
                add=views.CustomerEditView,
                detail=views.CustomerDetailView,
                edit=views.CustomerEditView,
                delete=views.CustomerDeleteView,
                bulk={"delete": views.CustomerBulkDeleteView},
            )
        ),
    ),
    path(
        "customers/duplicate-check/",
        views.DuplicateCheckView.as_view(),
        name="customer_duplicate_check",
    ),
    path(
        "contacts/",
        include(
            object_urls(
                "contact",
                list=views.ContactListView,
                add=views.ContactEditView,
                edit=views.ContactEditView,
                delete=views.ContactDeleteView,
            )
        ),
    ),
    path(
        "customers/bulk-delete-matching/",
        views.CustomerBulkDeleteMatchingView.as_view(),
        name="customer_bulk_delete_matching",
    ),
    path("customers/merge/", views.CustomerMergeView.as_view(), name="customer_merge"),
    path("customers/<int:pk>/share/", views.CustomerShareView.as_view(), name="customer_share"),
    # 客户画像: one tab over HTMX, 同比增幅, the 附件 tab's uploads
    path(
        "customers/<int:pk>/tabs/<slug:key>/", views.CustomerTabView.as_view(), name="customer_tab"
    ),
    path("customers/<int:pk>/yoy/", views.CustomerYoyView.as_view(), name="customer_yoy"),
    path(
        "customers/<int:pk>/attachments/upload/",
        views.CustomerAttachmentUploadView.as_view(),
        name="customer_attachment_upload",
    ),
    path(
        "attachments/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment_download"
    ),
]
