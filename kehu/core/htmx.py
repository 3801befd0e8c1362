"""HTMX helpers: one view answers with the whole page or just a fragment (the NetBox way)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def is_fragment_request(request: HttpRequest, target: str) -> bool:
    """True when HTMX asked for the element ``target`` (its HX-Target) only."""
    return is_htmx(request) and request.htmx.target == target and not request.htmx.boosted


def saved_response(event: str = "objectSaved", message: str = "") -> HttpResponse:
    """204 that tells the page to close the modal and refresh the list (see base.html)."""
    response = HttpResponse(status=204)
    response["HX-Trigger"] = json.dumps({event: {"message": message}})
    return response
