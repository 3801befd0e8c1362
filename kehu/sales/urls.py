from django.urls import include, path

from kehu.core.urls import object_urls

from . import views

urlpatterns = [
    path(
        "leads/",
        include(
            object_urls(
                "lead",
                list=views.LeadListView,
                add=views.LeadEditView,
                detail=views.LeadDetailView,
                edit=views.LeadEditView,
                delete=views.LeadDeleteView,
                bulk={"delete": views.LeadBulkDeleteView},
            )
        ),
    ),
    path(
        "opportunities/",
        include(
            object_urls(
                "opportunity",
                list=views.OpportunityListView,
                add=views.OpportunityEditView,
                detail=views.OpportunityDetailView,
                edit=views.OpportunityEditView,
                delete=views.OpportunityDeleteView,
            )
        ),
    ),
    path("leads/<int:pk>/convert/", views.LeadConvertView.as_view(), name="lead_convert"),
    path("leads/<int:pk>/invalid/", views.LeadInvalidView.as_view(), name="lead_invalid"),
]
