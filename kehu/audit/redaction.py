"""Secrets never enter the change log (SPEC §8, §12.2): the one list of what is left out.

A field is a secret when it is listed for its model in :data:`SECRET_FIELDS` (password hashes,
token hashes, session data), when its name says so (:data:`SECRET_NAME`: ``password``,
``secret``, ``token``, ``session_key``, …, at any depth of nested data), or when its value is a
Django password hash (``md5$…$…``, ``pbkdf2_sha256$…``), whatever the key it hides under.
:func:`redact` drops such keys from a row's ``changes`` and ``snapshot``; it is applied when a
row is built or stored (``services.change_entry``, ``ChangeLog.save``/``bulk_create``) and again
when a row is read (``selectors.prepare_for_readers``), and the migration
``0003_scrub_secrets`` applied it to the rows written before.
"""

from __future__ import annotations

import functools
import re
from typing import Any

SECRET_FIELDS: dict[str, frozenset[str]] = {
    "org.user": frozenset({"password"}),
    "auth.user": frozenset({"password"}),
    "org.apitoken": frozenset({"key_hash"}),
    "sessions.session": frozenset({"session_key", "session_data"}),
}

SECRET_NAME = re.compile(
    r"pass(word|wd)|secret|token|session_(key|data)|key_hash|api_?key|private_key|credential",
    re.IGNORECASE,
)

PASSWORD_HASH = re.compile(
    r"^(pbkdf2_sha1|pbkdf2_sha256|argon2|bcrypt|bcrypt_sha256|scrypt|sha1|md5|crypt"
    r"|unsalted_sha1|unsalted_md5)\$.*\$"
)


def is_secret_key(object_type: str | None, key: Any) -> bool:
    """Whether the field ``key`` of a row about ``object_type`` may not be recorded."""
    return _is_secret_name(object_type or "", str(key))


@functools.lru_cache(maxsize=4096)
def _is_secret_name(object_type: str, name: str) -> bool:
    # Cached: a batch of 1,000 logged rows asks about the same few dozen field names ~200,000
    # times (issue 10, set-based batch delete).
    return name in SECRET_FIELDS.get(object_type, ()) or bool(SECRET_NAME.search(name))


def _holds_hash(value: Any) -> bool:
    if isinstance(value, str):
        return bool(PASSWORD_HASH.match(value))
    if isinstance(value, list | tuple):
        return any(isinstance(v, str) and PASSWORD_HASH.match(v) for v in value)
    return False


def _strip(value: Any, object_type: str | None) -> tuple[Any, bool]:
    """``value`` without secret keys (nested dicts and lists too) and whether any was found."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        found = False
        for key, item in value.items():
            if is_secret_key(object_type, key) or _holds_hash(item):
                found = True
                continue
            if isinstance(item, dict | list):  # (a scalar has nothing below it to strip)
                # Below the top level only the names and the values tell: the model is unknown.
                out[key], nested = _strip(item, None)
                found = found or nested
            else:
                out[key] = item
        return (out if found else value), found
    if isinstance(value, list):
        items = [
            _strip(item, None) if isinstance(item, dict | list) else (item, False) for item in value
        ]
        if any(nested for _, nested in items):
            return [item for item, _ in items], True
        return value, False
    return value, False


def strip_secrets(data: Any, object_type: str | None = None) -> Any:
    """``changes`` or ``snapshot`` data without its secrets (a copy when something went)."""
    return _strip(data, object_type)[0]


def has_secrets(data: Any, object_type: str | None = None) -> bool:
    return _strip(data, object_type)[1]


def redact(entry):
    """Drop the secrets from a change-log row's ``changes`` and ``snapshot``, in place. A row
    redacted before whose data has not been replaced since is not walked again (a batch of
    1,000 rows: built by ``change_entry``, then stored)."""
    done = getattr(entry, "_redacted", None)
    if done is not None and done[0] is entry.changes and done[1] is entry.snapshot:
        return entry
    entry.changes = strip_secrets(entry.changes or {}, entry.object_type)
    entry.snapshot = strip_secrets(entry.snapshot or {}, entry.object_type)
    entry._redacted = (entry.changes, entry.snapshot)
    return entry
