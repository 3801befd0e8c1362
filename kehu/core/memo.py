"""Per-request memo: small reference lookups (the department tree, the pools, a user's shares)
computed once per request instead of once per caller.

Only active inside a request (``RequestContextMiddleware`` opens and closes it); elsewhere —
background jobs, management commands, tests calling services directly — every call computes
afresh, so nothing can go stale outside a request. Inside one, saving a Department or a Pool or
changing shares clears it (``clear()`` is connected to their signals and called by the services
that bulk-change them).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, TypeVar

T = TypeVar("T")

_store: ContextVar[dict[Hashable, Any] | None] = ContextVar("kehu_request_memo", default=None)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    store = _store.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


def clear(*_args, **_kwargs) -> None:
    """Forget everything memoised in this request (usable as a signal receiver)."""
    store = _store.get()
    if store:
        store.clear()


def open_memo() -> Token:
    return _store.set({})


def close_memo(token: Token) -> None:
    _store.reset(token)


@contextmanager
def scope() -> Iterator[None]:
    """Memoise within a block (a batch service, a job) unless a request already does."""
    if _store.get() is not None:
        yield
        return
    token = _store.set({})
    try:
        yield
    finally:
        _store.reset(token)


def scoped(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator: run ``fn`` inside :func:`scope` (one memo for a whole service call)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with scope():
            return fn(*args, **kwargs)

    return wrapper
