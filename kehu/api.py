"""The JSON API at /api/v1/ (SPEC §10): one NinjaAPI, its auth, its error handlers, its routers."""

from __future__ import annotations

import json
import re

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from kehu.core.errors import ApplicationError, validation_error_dict
from kehu.core.middleware import body_parse_refusal, log_body_refusal
from kehu.org.auth import api_auth


class LoneSurrogateError(ValueError):
    """A JSON string with an unpaired ``\\ud800``-style escape: valid JSON syntax, but no text
    any database (or UTF-8) can store."""


class JsonParser(Parser):
    """django-ninja's JSON parser, refusing lone surrogates at the door (they would reach the
    database driver and fail there with a 500)."""

    _SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

    def parse_body(self, request):
        data = super().parse_body(request)
        if self._SURROGATE_ESCAPE.search(request.body):
            _check_text(data)
        return data


def _check_text(value) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LoneSurrogateError(str(exc)) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class LocalSwagger(Swagger):
    """Swagger UI (“API 文档”) from the project's own static files: swagger-ui-dist from npm,
    copied by scripts/build-assets.mjs. django-ninja would load it from a CDN (``ninja`` is not an
    installed app here), which fails offline and is unreliable in mainland China."""

    template = "core/swagger.html"

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": self.settings, "api": api}
        return render(request, self.template, context)


api = NinjaAPI(
    title="Kehu CRM API",
    version="1.0.0",
    urls_namespace="api",
    auth=api_auth,
    docs_url="/docs",
    docs=LocalSwagger(),
    openapi_url="/openapi.json",
    parser=JsonParser(),
)


def _error(
    request, status: int, detail: str, errors: dict | None = None, code: str = "", extra=None
):
    body = {"detail": detail, "errors": errors or {}}
    if code:
        body["code"] = code
    body.update(extra or {})
    return api.create_response(request, body, status=status)


def _loc_to_field(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "file", "payload")]
    return ".".join(parts) or "__all__"


_PYDANTIC_MESSAGES = {
    "missing": "此字段为必填项",
    "json_invalid": "请求体不是有效的 JSON",
    "string_too_long": "内容过长",
    "float_parsing": "请输入数字",
    "float_type": "请输入数字",
    "int_from_float": "请输入整数",
    "decimal_type": "请输入有效的金额",
    "decimal_max_digits": "金额位数过多",
    "decimal_max_places": "最多两位小数",
    "extra_forbidden": "不支持的字段",
    "int_parsing": "请输入整数",
    "int_type": "请输入整数",
    "decimal_parsing": "请输入有效的金额",
    "string_type": "请输入文本",
    "bool_parsing": "请输入是或否",
    "datetime_parsing": "请输入有效的日期时间",
    "datetime_from_date_parsing": "请输入有效的日期时间",
    "date_from_datetime_parsing": "请输入有效的日期",
    "date_parsing": "请输入有效的日期",
    "list_type": "请输入列表",
    "enum": "不是有效的选项",
    "literal_error": "不是有效的选项",
    "model_attributes_type": "请求体格式不正确",
    "dict_type": "请求体格式不正确",
}


_PYDANTIC_BOUNDS = {
    "string_too_short": "至少输入{min_length}个字符",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多{max_length}项",
    "greater_than": "必须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "less_than": "必须小于{lt}",
    "less_than_equal": "不能大于{le}",
}


def _pydantic_message(err: dict) -> str:
    """A Chinese message for one pydantic error (validators already raise Chinese text)."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "此字段不能为空"
    if kind in _PYDANTIC_BOUNDS:
        try:
            return _PYDANTIC_BOUNDS[kind].format(**ctx)
        except (KeyError, IndexError):
            return "输入无效"
    if kind in _PYDANTIC_MESSAGES:
        return _PYDANTIC_MESSAGES[kind]
    message = str(err.get("msg", ""))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    # pydantic's own English for a type not listed above: never shown to a Chinese user
    return message if message and not message.isascii() else "输入无效"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    detail, code = "输入有误，请检查后重试", "invalid"
    for err in exc.errors:
        field = _loc_to_field(err.get("loc", ()))
        message = _pydantic_message(err)
        errors.setdefault(field, []).append(message)
        if err.get("type") == "too_many_ids":  # kehu.core.api.BatchIds: the limit is the news
            detail, code = message, "too_many_ids"
    return _error(request, 400, detail, errors, code)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    return _error(request, exc.status, exc.message, exc.errors, exc.code, exc.extra)


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request, exc: DjangoValidationError):
    return _error(request, 400, "输入有误，请检查后重试", validation_error_dict(exc), "invalid")


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "未登录或令牌无效", code="unauthenticated")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "对象不存在或无权查看", code="not_found")


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _error(request, 403, str(exc) or "没有权限执行此操作", code="forbidden")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # django-ninja's own errors carry English text: the two a client can meet get Chinese.
    message = str(exc)
    if exc.status_code == 400 and isinstance(exc.__cause__, LoneSurrogateError):
        return _error(
            request, 400, "请求体含有无效的字符（不成对的 Unicode 代理项）", code="invalid_text"
        )
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        return _error(request, 400, "请求体不是有效的 JSON", code="invalid_json")
    if exc.status_code == 403 and message.startswith("CSRF check"):
        return _error(request, 403, "CSRF 校验失败，请刷新页面后重试", code="csrf")
    return _error(request, exc.status_code, message)


@api.exception_handler(OverflowError)
def on_overflow(request, exc):
    # A number too large for the database (SQLite's driver raises this before any query).
    return _error(request, 400, "数值超出范围", code="out_of_range")


@api.exception_handler(DataError)
def on_data_error(request, exc):
    # PostgreSQL refusing a value outside a column's type (an integer out of range, …): the
    # input's fault, not the server's. Inputs are validated first; this is the safety net.
    return _error(request, 400, "数值超出范围或格式无效", code="out_of_range")


@api.exception_handler(SuspiciousOperation)
@api.exception_handler(BadRequest)
@api.exception_handler(MultiPartParserError)
def on_unreadable_body(request, exc):
    # A body Django refuses to read (over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields,
    # malformed multipart): the same Chinese refusal as kehu.core.middleware.RequestBodyMiddleware.
    refusal = body_parse_refusal(exc) or (400, "请求无效，请检查后重试", "bad_request")
    log_body_refusal(request, exc)
    status, message, code = refusal
    return _error(request, status, message, code=code)


@api.exception_handler(json.JSONDecodeError)
def on_json_error(request, exc):
    return _error(request, 400, "请求体不是有效的 JSON", code="invalid_json")


def _register_routers() -> None:
    from kehu.aftersales.api import router as aftersales_router
    from kehu.audit.api import router as audit_router
    from kehu.basics.api import router as basics_router
    from kehu.basics.api_products import router as products_router
    from kehu.core.api_jobs import router as jobs_router
    from kehu.customers.api import router as customers_router
    from kehu.customers.api_contacts import router as contacts_router
    from kehu.followups.api import router as followups_router
    from kehu.imports.api import router as imports_router
    from kehu.org.api import router as org_router
    from kehu.pool.api import router as pool_router
    from kehu.recyclebin.api import router as recyclebin_router
    from kehu.sales.api import router as sales_router
    from kehu.sales.api_opportunities import router as opportunities_router

    api.add_router("", org_router)
    api.add_router("", basics_router)
    api.add_router("", products_router)
    api.add_router("", audit_router)
    api.add_router("", jobs_router)
    api.add_router("", followups_router)
    api.add_router("", imports_router)
    api.add_router("", pool_router)
    api.add_router("", sales_router)
    api.add_router("", opportunities_router)
    api.add_router("", aftersales_router)
    api.add_router("", customers_router)
    api.add_router("", contacts_router)
    api.add_router("", recyclebin_router)
    from kehu.documents.api import routers as document_routers

    for router in document_routers():
        api.add_router("", router)


_register_routers()
