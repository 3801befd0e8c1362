"""The client's address: ``REMOTE_ADDR``, or a trusted reverse proxy's header when configured.

Used by the login throttle (``AXES_CLIENT_IP_CALLABLE``) and the change log. Without
``KEHU_TRUSTED_PROXY_HEADER`` a client-sent ``X-Forwarded-For`` is ignored: anybody can send
one. With it (e.g. ``HTTP_X_FORWARDED_FOR`` behind nginx), the address is the entry that the
outermost of ``KEHU_TRUSTED_PROXY_COUNT`` proxies wrote — counted from the right, because each
proxy appends the address it saw and everything further left came from the client. With
``KEHU_TRUSTED_PROXY_IPS`` the header counts only on requests that come from one of those
addresses or networks (others are taken at their ``REMOTE_ADDR``).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def meta_key(header: str) -> str:
    """``X-Forwarded-For`` or ``HTTP_X_FORWARDED_FOR`` → ``HTTP_X_FORWARDED_FOR``."""
    key = header.strip().upper().replace("-", "_")
    if key and not key.startswith("HTTP_") and key != "REMOTE_ADDR":
        key = f"HTTP_{key}"
    return key


def _address(value: str) -> str | None:
    """The IP address in one header entry (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:5678``)."""
    value = value.strip().strip('"')
    candidates = [value]
    if value.startswith("[") and "]" in value:
        candidates.append(value[1 : value.index("]")])
    elif value.count(":") == 1:
        candidates.append(value.split(":", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _from_trusted_proxy(remote: str | None, trusted: list[str] | tuple[str, ...]) -> bool:
    if not trusted:
        return True
    try:
        peer = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    for network in trusted:
        try:
            if peer in ipaddress.ip_network(network.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    header = meta_key(getattr(settings, "KEHU_TRUSTED_PROXY_HEADER", "") or "")
    if not header or header == "REMOTE_ADDR":
        return remote
    if not _from_trusted_proxy(remote, getattr(settings, "KEHU_TRUSTED_PROXY_IPS", ())):
        return remote
    hops = [hop for hop in str(request.META.get(header, "")).split(",") if hop.strip()]
    count = max(1, int(getattr(settings, "KEHU_TRUSTED_PROXY_COUNT", 1) or 1))
    if len(hops) < count:
        return remote  # not through the proxies (or they did not write it): the peer itself
    return _address(hops[-count]) or remote
