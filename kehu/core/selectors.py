"""Reads of the core app: a user's own list settings."""

from __future__ import annotations

from .models import ListColumns

# The signed-in user's column choices of every list, read once per session (a list page stays
# within its query budget): ``{table: [hidden columns]}``. Saving a choice drops it.
SESSION_KEY = "kehu_list_columns"


def hidden_columns(*, user, table: str, session=None) -> list[str]:
    """The columns ``user`` hid in the list ``table`` (a ``KehuTable.columns_key()``)."""
    if not getattr(user, "is_authenticated", False):
        return []
    if session is not None:
        cached = session.get(SESSION_KEY)
        if cached is None or cached.get("user") != user.pk:
            cached = {"user": user.pk, "tables": _all_hidden(user)}
            session[SESSION_KEY] = cached
        return list(cached["tables"].get(table, []))
    return list(_all_hidden(user).get(table, []))


def remember_list_columns(sender, request, user, **kwargs) -> None:
    """At login (``user_logged_in``): the user's choices into the new session, one query."""
    session = getattr(request, "session", None)
    if session is not None and user is not None:
        session[SESSION_KEY] = {"user": user.pk, "tables": _all_hidden(user)}


def _all_hidden(user) -> dict[str, list[str]]:
    return dict(ListColumns.objects.filter(user=user).values_list("table", "hidden"))
