from django.urls import include, path

from kehu.core.urls import object_urls
from kehu.documents.types import registry
from kehu.documents.views import document_urls

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
    *document_urls(
        registry["quote"],
        **{"<int:pk>/to-contract/": (views.QuoteToContractView, "quote_to_contract")},
    ),
    *document_urls(registry["contract"]),
    *document_urls(registry["payment"]),
    *document_urls(
        registry["paymentplan"],
        **{"<int:pk>/extend/": (views.PlanExtendView, "paymentplan_extend")},
    ),
    path("leads/<int:pk>/convert/", views.LeadConvertView.as_view(), name="lead_convert"),
    path("leads/<int:pk>/invalid/", views.LeadInvalidView.as_view(), name="lead_invalid"),
]
