"""Request context: a request id and the acting user, read by the change log."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from django.utils.deprecation import MiddlewareMixin

from . import memo
from .client_ip import client_ip

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
            _remote_addr.set(client_ip(request)),
            memo.open_memo(),
        )

    def process_response(self, request, response):
        tokens = getattr(request, "_kehu_tokens", None)
        if tokens:
            _request_id.reset(tokens[0])
            _remote_addr.reset(tokens[1])
            memo.close_memo(tokens[2])
        return response


# The product's own error pages (403/404/500): Chinese, a link back to 首页, never Django's
# English debug or plain pages — also with DEBUG on (``make run``).
ERROR_TITLES = {
    400: "请求无效",
    403: "没有权限",
    404: "页面不存在",
    413: "提交的内容过大",
    500: "服务器出错了",
}
ERROR_MESSAGES = {
    400: "请求无效，请检查后重试",
    403: "没有权限执行此操作",
    404: "页面不存在或无权查看",
    413: "提交的内容过大，请减少内容后重试",
    500: "服务器出错了，请稍后重试",
}
_CHINESE = re.compile(r"[\u3400-\u9fff]")


def _shown_message(exception) -> str:
    """The message a refusal carries, when it is one for users: an ``ApplicationError``'s (also
    behind an ``Http404``/``PermissionDenied`` raised from it), or a Chinese one; never Django's
    English texts such as "No Customer matches the given query"."""
    from .errors import ApplicationError

    for candidate in (exception, getattr(exception, "__cause__", None)):
        if isinstance(candidate, ApplicationError):
            return candidate.message
    args = getattr(exception, "args", ())
    if not args or not isinstance(args[0], str):
        return ""  # e.g. Resolver404's {"path": …, "tried": …}
    return args[0] if _CHINESE.search(args[0]) else ""


def error_response(request, status: int, message: str = ""):
    """The 403/404 page (an HTMX request gets the error modal's fragment) with the right status.

    Signed-in users see it inside the product's layout; visitors on a standalone page."""
    from django.shortcuts import render

    default = ERROR_MESSAGES[status]
    if getattr(request, "htmx", False):
        response = render(
            request, "core/htmx/error_modal.html", {"message": message or default}, status=status
        )
    else:
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        context = {
            "title": ERROR_TITLES[status],
            "status": status,
            "message": default,
            "detail": message if message != default else "",
            "layout": "base.html" if signed_in else "core/error_layout.html",
        }
        template = f"{status}.html" if status in (403, 404) else "400.html"
        response = render(request, template, context, status=status)
    response.kehu_error_page = True  # type: ignore[attr-defined]
    return response


def refusal_response(request, status: int, message: str, code: str = "bad_request"):
    """A refused request, in Chinese: the API's JSON error shape under ``/api/`` (SPEC §10),
    the product's error page (or the HTMX error modal) elsewhere."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        body = {"detail": message, "errors": {}, "code": code}
        return JsonResponse(body, status=status)
    return error_response(request, status, message)


def too_large_message() -> str:
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return f"提交的内容过大（上限{limit // (1024 * 1024)}MB），请减少内容或分批提交"


INVALID_MULTIPART = "上传的表单格式无效（缺少或无效的 multipart 边界），请重新提交"


def body_parse_refusal(exception) -> tuple[int, str, str] | None:
    """``(status, message, code)`` for an error Django raises while reading a request body
    (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, malformed multipart…), else
    None. Shared by :class:`RequestBodyMiddleware`, ``handler400`` and the API's handlers."""
    from django.conf import settings
    from django.core.exceptions import (
        BadRequest,
        RequestDataTooBig,
        SuspiciousOperation,
        TooManyFieldsSent,
        TooManyFilesSent,
    )
    from django.http import UnreadablePostError
    from django.http.multipartparser import MultiPartParserError

    if isinstance(exception, RequestDataTooBig):
        return 413, too_large_message(), "too_large"
    if isinstance(exception, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return 400, f"提交的字段过多（上限{limit}个），请分批提交", "too_many_fields"
    if isinstance(exception, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, f"一次上传的文件过多（上限{limit}个）", "too_many_files"
    if isinstance(exception, MultiPartParserError):
        return 400, INVALID_MULTIPART, "invalid_multipart"
    if isinstance(exception, UnreadablePostError):
        return 400, "请求内容不完整，请重新提交", "bad_request"
    if isinstance(exception, BadRequest | SuspiciousOperation):
        return 400, ERROR_MESSAGES[400], "bad_request"
    return None


def log_body_refusal(request, exception) -> None:
    """Logged where Django would have logged it (``django.security.<error>``), as a warning:
    the request was answered, in Chinese, with a 4xx."""
    import logging

    logging.getLogger(f"django.security.{type(exception).__name__}").warning(
        "%s: %s", exception, request.path
    )


class RequestBodyMiddleware(MiddlewareMixin):
    """A request body Django cannot read is refused here, in Chinese, before a view, the CSRF
    check or the API parser reads it (Django would answer its English 400 page, or a 500):
    a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), multipart without a valid boundary, an
    invalid Content-Length, too many fields, a form not in UTF-8 (400).

    Web form bodies are parsed here (the CSRF check would parse them next anyway); the API's
    are parsed after authentication by django-ninja, whose handlers answer the same refusals
    (``kehu/api.py``); the cheap checks (length, boundary) apply to both."""

    FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

    def process_request(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        refusal = self._header_refusal(request)
        if (
            refusal is None
            and request.method == "POST"
            and request.content_type in self.FORM_TYPES
            and not request.path.startswith("/api/")
        ):
            try:
                request.POST  # noqa: B018 - parsed now, where a failure can be answered
                request.FILES  # noqa: B018
            except Exception as exc:
                refusal = body_parse_refusal(exc)
                if refusal is None:
                    raise
                log_body_refusal(request, exc)
                if hasattr(request, "_mark_post_parse_error"):
                    request._mark_post_parse_error()  # what Django does itself on these errors
        if refusal is None:
            return None
        return refusal_response(request, *refusal)

    @staticmethod
    def _header_refusal(request) -> tuple[int, str, str] | None:
        from django.conf import settings
        from django.http.multipartparser import MultiPartParser

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return 400, "请求头 Content-Length 无效", "bad_request"
        if request.content_type == "multipart/form-data":
            # Files stream to disk, so only the form fields count against the limit (checked
            # while parsing); the boundary must be there to parse anything at all.
            boundary = request.content_params.get("boundary")
            if not boundary or not MultiPartParser.boundary_re.fullmatch(boundary):
                return 400, INVALID_MULTIPART, "invalid_multipart"
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return 413, too_large_message(), "too_large"
        return None


def bad_request(request, exception=None):
    """``handler400`` (with DEBUG off): what :class:`RequestBodyMiddleware` did not catch."""
    refusal = body_parse_refusal(exception) or (400, ERROR_MESSAGES[400], "bad_request")
    return refusal_response(request, *refusal)


def page_forbidden(request, exception=None):
    """``handler403``."""
    return error_response(request, 403, _shown_message(exception))


def page_not_found(request, exception=None):
    """``handler404`` (with DEBUG off; with DEBUG on the middleware answers first)."""
    return error_response(request, 404, _shown_message(exception))


def server_error(request):
    """``handler500``: a standalone page that needs no context processor, no database and no
    static file (whatever broke may be one of them)."""
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render())


def _out_of_range(exception) -> tuple[int, str, str] | None:
    """A number too large for the database (SQLite's driver raises OverflowError before the
    query, PostgreSQL a DataError): the input's fault. Inputs are validated first (bounded ids,
    filters, page numbers); this is the safety net, as in the API (``kehu/api.py``)."""
    from django.db import DataError

    if isinstance(exception, OverflowError | DataError):
        return 400, "数值超出范围或格式无效", "out_of_range"
    return None


def _unreadable_body(exception) -> tuple[int, str, str] | None:
    """A body a view could not read (parsed late, e.g. ``request.body``): the refusal of
    :func:`body_parse_refusal`. Other SuspiciousOperations (a disallowed redirect, a file path
    outside the storage) go on to Django, which logs them as security events and answers
    ``handler400``."""
    from django.core.exceptions import (
        RequestDataTooBig,
        SuspiciousOperation,
        TooManyFieldsSent,
        TooManyFilesSent,
    )

    data_errors = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
    if isinstance(exception, SuspiciousOperation) and not isinstance(exception, data_errors):
        return None
    return body_parse_refusal(exception)


class ApplicationErrorMiddleware(MiddlewareMixin):
    """Web pages: an ApplicationError that escapes a view becomes 404/403/4xx, never a 500;
    ``Http404`` and ``PermissionDenied`` become the product's own pages (even with DEBUG on).
    The API (``/api/``) keeps its JSON errors (``kehu/api.py``)."""

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied
        from django.http import Http404
        from django.shortcuts import render

        from .errors import ApplicationError

        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, Http404):
            return error_response(request, 404, _shown_message(exception))
        if isinstance(exception, PermissionDenied):
            return error_response(request, 403, _shown_message(exception))
        refusal = _out_of_range(exception) or _unreadable_body(exception)
        if refusal is not None:
            return error_response(request, refusal[0], refusal[1])
        if not isinstance(exception, ApplicationError):
            return None
        if exception.status in (403, 404):
            return error_response(request, exception.status, exception.message)
        template = (
            "core/htmx/error_modal.html" if getattr(request, "htmx", False) else "core/error.html"
        )
        return render(request, template, {"message": exception.message}, status=exception.status)

    def process_response(self, request, response):
        """With DEBUG on, an address no URL matches gets Django's technical 404 page (it is
        answered before any view, so ``process_exception`` never sees it): answer our page."""
        from django.conf import settings

        if (
            response.status_code != 404
            or not settings.DEBUG
            or getattr(response, "kehu_error_page", False)
            or request.path.startswith("/api/")
        ):
            return response
        from django.urls import Resolver404, get_resolver

        try:
            get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Resolver404:
            return error_response(request, 404)
        return response


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


# The app's pages load scripts, styles, fonts and images from /static/ only; no inline script,
# no event-handler attribute, no javascript: URL (kehu/core/tests/test_security_headers.py scans
# the templates). Styles keep 'unsafe-inline': templates, Tabler, Tom Select and ECharts set
# style attributes. Override with settings.KEHU_CONTENT_SECURITY_POLICY.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware(MiddlewareMixin):
    """A Content-Security-Policy and ``Cache-Control: no-store`` on every answer of the app.

    Placed after WhiteNoise, so static files (answered there) keep their long caching; pages,
    fragments, API answers and downloads all carry contact data or may, and must stay out of
    shared and browser caches. (``Referrer-Policy`` and ``X-Content-Type-Options`` come from
    Django's SecurityMiddleware: SECURE_REFERRER_POLICY, SECURE_CONTENT_TYPE_NOSNIFF.)"""

    def process_response(self, request, response):
        from django.conf import settings
        from django.utils.cache import patch_cache_control

        # Django's technical 500 page (DEBUG only) runs inline script: leave it alone.
        if not (settings.DEBUG and response.status_code >= 500):
            policy = getattr(settings, "KEHU_CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)
            if policy:
                response.headers.setdefault("Content-Security-Policy", policy)
        patch_cache_control(response, no_store=True)
        return response
