"""Request context: a request id and the acting user, read by the change log."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

from django.utils.deprecation import MiddlewareMixin

from . import memo

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
            memo.open_memo(),
        )

    def process_response(self, request, response):
        tokens = getattr(request, "_kehu_tokens", None)
        if tokens:
            _request_id.reset(tokens[0])
            _remote_addr.reset(tokens[1])
            memo.close_memo(tokens[2])
        return response


class ApplicationErrorMiddleware(MiddlewareMixin):
    """Web pages: an ApplicationError that escapes a view becomes 404/403/4xx, never a 500."""

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied
        from django.http import Http404
        from django.shortcuts import render

        from .errors import ApplicationError

        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        if exception.status == 404:
            raise Http404(exception.message) from exception
        if exception.status == 403:
            raise PermissionDenied(exception.message) from exception
        template = (
            "core/htmx/error_modal.html" if getattr(request, "htmx", False) else "core/error.html"
        )
        return render(request, template, {"message": exception.message}, status=exception.status)


class DefaultLanguageMiddleware(MiddlewareMixin):
    """Chinese unless the user chose otherwise (the language cookie set by /i18n/setlang/).

    Django's LocaleMiddleware would follow the browser's Accept-Language, turning the UI English
    on an English-language browser; SPEC: Simplified Chinese by default, English available.
    """

    def process_request(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language

    def process_response(self, request, response):
        from django.utils import translation

        response.headers.setdefault("Content-Language", translation.get_language())
        return response
