from django.urls import include, path

from kehu.core.urls import object_urls

from . import views

urlpatterns = [
    path("pool/", views.PoolListView.as_view(), name="pool_list"),
    path("pool/claim/", views.ClaimView.as_view(), name="pool_claim"),
    path("pool/move/", views.MovePoolView.as_view(), name="pool_move"),
    path("customers/<int:pk>/lock/", views.LockView.as_view(), name="customer_lock"),
    path("settings/users/<int:pk>/handover/", views.HandoverView.as_view(), name="user_handover"),
    path("customers/release/", views.ReleaseView.as_view(), name="customer_release"),
    path("customers/transfer/", views.TransferView.as_view(), name="customer_transfer"),
    path(
        "settings/pools/",
        include(
            object_urls(
                "poolrule",
                list=views.PoolSettingsListView,
                add=views.PoolSettingsEditView,
                edit=views.PoolSettingsEditView,
            )
        ),
    ),
]
