"""Where the gateway may send a request of its own: webhook and alert URLs.

A destination is an ``https`` URL whose host resolves to public addresses only. Loopback,
private, shared, link-local (the cloud metadata address 169.254.169.254 among them),
multicast and reserved addresses are refused, in IPv4 and IPv6 alike (``::1``,
``fc00::/7``, ``fe80::/10``, and IPv4 addresses written as IPv6). An operator may name
origins (``scheme://host:port``) that are trusted as they are, for development and tests,
in the ``OUTBOUND_ALLOWLIST`` setting (docs/operations.md).

:func:`checked` is run when a URL is subscribed and again before every delivery: it
resolves the name once and returns the address the connection must be pinned to
(:mod:`gateway.services.pinned_http`), so a name that resolves elsewhere a moment later
(DNS rebinding) never redirects the request.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Longest URL accepted as a destination.
MAX_URL_LENGTH = 2000
#: Names that stand for this machine or its cloud's internal services whatever DNS says.
LOCAL_NAMES = ("localhost", "localhost.localdomain", "metadata.google.internal")
LOCAL_SUFFIXES = (".localhost", ".internal", ".local")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The URL may not be sent to; the message says why (without any network detail)."""


class NameNotResolved(Exception):
    """The URL's host name has no address (now)."""


@dataclass(frozen=True)
class Destination:
    """A URL that passed the checks: where to connect (``address``, or None for an
    allowlisted origin, connected by name) and the name that the Host header, TLS SNI
    and the certificate check use."""

    url: str
    scheme: str
    host: str
    port: int
    address: str | None


def origin(url: str) -> str | None:
    """``scheme://host:port`` of ``url`` (the default port written out), lower case;
    None when it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.scheme not in ("http", "https"):
        return None
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname.lower()
    return f"{parts.scheme}://[{host}]:{port}" if ":" in host else f"{parts.scheme}://{host}:{port}"


def allowlisted(url: str, allowlist: Iterable[str]) -> bool:
    """Whether the operator's allowlist names the origin of ``url``."""
    own = origin(url)
    return own is not None and own in {origin(entry) for entry in allowlist}


def public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (IPv4 in IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return public(mapped)
        if address in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64 of an IPv4 address
            return public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return address.is_global and not address.is_multicast


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def problem(url: str, allowlist: Iterable[str] = ()) -> str | None:
    """What is wrong with ``url`` as a destination without looking its name up; None
    when nothing is. The check a flow's ``alerts:`` webhook gets when the flow is read."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if allowlisted(url, allowlist):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        return "must be an https:// URL with a valid host and port"
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https:// URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    host = parts.hostname.lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES):
        return "must name a public host, not a local one"
    address = _literal(host)
    if address is not None and not public(address):
        return "must name a public address, not a loopback, private or link-local one"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to now (a literal address is itself)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise NameNotResolved(host) from exc
    # getaddrinfo gives (family, type, proto, canonname, sockaddr); sockaddr[0] is the address.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise NameNotResolved(host)
    return addresses


def checked(url: str, allowlist: Iterable[str] = ()) -> Destination:
    """The destination ``url`` stands for, its name resolved once; raises
    :class:`DestinationRefused` when any address it resolves to is not public (one bad
    address is enough: the connection could be sent there), :class:`NameNotResolved`
    when the name has no address."""
    allowlist = tuple(allowlist)
    reason = problem(url, allowlist)
    if reason is not None:
        raise DestinationRefused(reason)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if allowlisted(url, allowlist):
        return Destination(url, parts.scheme, host, port, None)
    addresses = resolve(host, port)
    if not all(public(address) for address in addresses):
        raise DestinationRefused("resolves to a loopback, private or link-local address")
    return Destination(url, parts.scheme, host, port, str(addresses[0]))
