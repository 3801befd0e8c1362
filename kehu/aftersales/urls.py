from kehu.documents.types import registry
from kehu.documents.views import document_urls

from .views import transition_view


def _service_order_urls(key: str) -> list:
    decl = registry[key]
    route = "<int:pk>/transition/<str:to>/"
    return document_urls(decl, **{route: (transition_view(decl), f"{decl.url_name}_transition")})


urlpatterns = [
    *document_urls(registry["vehicle"]),
    *_service_order_urls("repairorder"),
    *_service_order_urls("maintenanceorder"),
]
