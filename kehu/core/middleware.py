"""Request context: a request id and the acting user, read by the change log."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

from django.utils.deprecation import MiddlewareMixin

_request_id: ContextVar[str | None] = ContextVar("kehu_request_id", default=None)
_remote_addr: ContextVar[str | None] = ContextVar("kehu_remote_addr", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def current_remote_addr() -> str | None:
    return _remote_addr.get()


class RequestContextMiddleware(MiddlewareMixin):
    def process_request(self, request):
        request.id = uuid.uuid4().hex
        request._kehu_tokens = (
            _request_id.set(request.id),
            _remote_addr.set(request.META.get("REMOTE_ADDR")),
        )

    def process_response(self, request, response):
        tokens = getattr(request, "_kehu_tokens", None)
        if tokens:
            _request_id.reset(tokens[0])
            _remote_addr.reset(tokens[1])
        return response
