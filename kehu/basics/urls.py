from django.urls import include, path

from kehu.core.urls import object_urls

from . import views

urlpatterns = [
    path(
        "dictionaries/",
        include(
            object_urls(
                "dictentry",
                list=views.DictEntryListView,
                add=views.DictEntryEditView,
                edit=views.DictEntryEditView,
                delete=views.DictEntryDeleteView,
            )
        ),
    ),
]
