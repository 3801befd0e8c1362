"""URL registration helper: one call gives a model its list/add/edit/delete/bulk URLs."""

from __future__ import annotations

from django.urls import path


def object_urls(name: str, *, list=None, add=None, detail=None, edit=None, delete=None, bulk=None):
    """Paths named ``<name>_list``, ``_add``, ``_detail``, ``_edit``, ``_delete`` and
    ``<name>_bulk_<action>`` for each ``{action: view}`` in ``bulk``."""
    patterns = []
    if list is not None:
        patterns.append(path("", list.as_view(), name=f"{name}_list"))
    if add is not None:
        patterns.append(path("add/", add.as_view(), name=f"{name}_add"))
    if detail is not None:
        patterns.append(path("<int:pk>/", detail.as_view(), name=f"{name}_detail"))
    if edit is not None:
        patterns.append(path("<int:pk>/edit/", edit.as_view(), name=f"{name}_edit"))
    if delete is not None:
        patterns.append(path("<int:pk>/delete/", delete.as_view(), name=f"{name}_delete"))
    for action, view in (bulk or {}).items():
        patterns.append(path(f"bulk-{action}/", view.as_view(), name=f"{name}_bulk_{action}"))
    return patterns
