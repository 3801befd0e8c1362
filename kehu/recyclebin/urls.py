from django.urls import path

from kehu.core.urls import object_urls

from . import views

urlpatterns = [
    *object_urls(
        "recyclebin", list=views.RecycleEntryListView, delete=views.RecycleEntryDeleteView
    ),
    path("<int:pk>/restore/", views.RecycleEntryRestoreView.as_view(), name="recyclebin_restore"),
]
