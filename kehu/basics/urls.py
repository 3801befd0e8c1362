from django.urls import include, path

from kehu.core.urls import object_urls

from . import views

# Under /settings/ (kehu/urls.py).
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

# Under /products/ (kehu/urls.py): read by sales as much as kept by admins.
product_urlpatterns = [
    path("picker/", views.ProductPickerView.as_view(), name="product_picker"),
    *object_urls(
        "product",
        list=views.ProductListView,
        add=views.ProductEditView,
        edit=views.ProductEditView,
        delete=views.ProductDeleteView,
    ),
]
