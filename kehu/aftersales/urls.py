from kehu.documents.types import registry
from kehu.documents.views import document_urls

from .views import OnAccountCancelView, VehiclesFromContractView, transition_view


def _service_order_urls(key: str) -> list:
    decl = registry[key]
    route = "<int:pk>/transition/<str:to>/"
    return document_urls(decl, **{route: (transition_view(decl), f"{decl.url_name}_transition")})


urlpatterns = [
    *document_urls(
        registry["vehicle"],
        **{"from-contract/<int:pk>/": (VehiclesFromContractView, "vehicle_from_contract")},
    ),
    *_service_order_urls("repairorder"),
    *_service_order_urls("maintenanceorder"),
    *document_urls(
        registry["onaccount"],
        **{"<int:pk>/cancel/": (OnAccountCancelView, "onaccountorder_cancel")},
    ),
]
