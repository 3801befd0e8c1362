"""The one application error type. Views and the API map it to a response in one place each."""

from __future__ import annotations


class ApplicationError(Exception):
    """A business rule refused the operation; ``message`` is shown to the user (Chinese).

    ``status`` follows SPEC §10: 400 bad input, 403 visible but not allowed, 404 not visible,
    409 conflict (stale version, already claimed).
    """

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        errors: dict[str, list[str]] | None = None,
        status: int | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors = errors or {}
        self.extra = extra or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {"detail": self.message, "code": self.code, "errors": self.errors, **self.extra}


class FieldError(ValueError):
    """One field's input refused, with a Chinese message: the shared validators raise it and a
    service collects the messages per field into one :class:`ApplicationError`."""


class NotFound(ApplicationError):
    """Missing and not-visible look the same (never reveal a hidden object)."""

    status = 404

    def __init__(self, message: str = "对象不存在或无权查看", **kwargs) -> None:
        super().__init__(message, code=kwargs.pop("code", "not_found"), **kwargs)


class Forbidden(ApplicationError):
    status = 403

    def __init__(self, message: str = "没有权限执行此操作", **kwargs) -> None:
        super().__init__(message, code=kwargs.pop("code", "forbidden"), **kwargs)


class Conflict(ApplicationError):
    status = 409

    def __init__(self, message: str, **kwargs) -> None:
        super().__init__(message, code=kwargs.pop("code", "conflict"), **kwargs)


def validation_error_dict(exc) -> dict[str, list[str]]:
    """Turn a django ValidationError into ``{field: [messages]}`` (``__all__`` for non-field)."""
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}
