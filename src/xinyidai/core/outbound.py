"""Outbound requests: where the node may send, decided here for every caller.

House rule: outbound requests refuse private addresses. A URL that someone outside gives
the node (a webhook endpoint today; a federation peer or an alert hook later) is checked
with ``check_url`` when it is registered and again each time it is used, and sent with
``post``:

- the scheme is http or https, https only when ``XYD_OUTBOUND_REQUIRE_HTTPS`` (the default
  in production); no user name or password in the URL;
- the host is not a cloud metadata name nor a name kept for private networks
  (``localhost``, ``.internal``, ``.local``, ``.home.arpa``…);
- the host resolves, and every address it resolves to is a globally reachable unicast
  address (``refusal`` says why one is not). Loopback addresses pass only with
  ``XYD_OUTBOUND_ALLOW_LOOPBACK`` outside production, for development and tests;
- ``post`` connects only to the addresses that were checked (the name is not resolved
  again between the check and the connection, so a DNS answer that changes in between —
  DNS rebinding — cannot slip a private address in), keeps the name for the ``Host``
  header and TLS (SNI and the certificate check), follows no redirect and uses no proxy
  from the environment (a proxy would resolve the name itself).

The URL is parsed by httpx, the client that sends it, so the check and the request read the
same host.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

import httpx

from xinyidai.core.errors import ValidationFailed
from xinyidai.core.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The receiver's answer kept for the log; a receiver cannot make the node read more.
ANSWER_BYTES = 4096

SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: embeds an IPv4 address
RFC1918 = tuple(
    ipaddress.IPv4Network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
# Special-purpose blocks refused whatever this Python's ``ipaddress`` says of them (its
# tables grew between releases): IETF protocol assignments, the deprecated 6to4 relay
# anycast and 6to4 itself, IPv6 documentation (RFC 9637).
SPECIAL_PURPOSE = (
    ipaddress.IPv4Network("192.0.0.0/24"),
    ipaddress.IPv4Network("192.88.99.0/24"),
    ipaddress.IPv6Network("2002::/16"),
    ipaddress.IPv6Network("3fff::/20"),
)

# Names of cloud instance metadata services (their addresses, 169.254.169.254,
# 100.100.100.200, fd00:ec2::254, are refused as addresses too).
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
    }
)
LOOPBACK_NAMES = ("localhost",)  # and every name under it (RFC 6761)
PRIVATE_SUFFIXES = ("internal", "local", "localdomain", "home.arpa", "lan", "intranet")


class Refusal(StrEnum):
    """Why an address is not one the node sends to."""

    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link_local"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    SHARED = "shared"
    RESERVED = "reserved"


class OutboundRefused(ValidationFailed):
    """A URL the node will not send to, with the field at fault and the reason."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its host as sent, and the addresses a request may connect to."""

    url: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class Answer:
    """What the receiver answered: its status and the start of its body."""

    status_code: int
    text: str
    location: str | None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped (``::ffff:a.b.c.d``) or
    NAT64 (``64:ff9b::a.b.c.d``, what DNS64 answers on an IPv6-only network)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> Refusal | None:
    """Why the node does not send to ``address``; ``None`` for a globally reachable unicast
    address. An IPv6 address that embeds an IPv4 address is judged by that address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return refusal(embedded)
    if address.is_unspecified:
        return Refusal.UNSPECIFIED
    if address.is_loopback:
        return Refusal.LOOPBACK
    if address.is_link_local:
        return Refusal.LINK_LOCAL
    if address.is_multicast:
        return Refusal.MULTICAST
    if isinstance(address, ipaddress.IPv4Address):
        if address in SHARED_ADDRESS_SPACE:
            return Refusal.SHARED
        if any(address in net for net in RFC1918):
            return Refusal.PRIVATE
    elif address in UNIQUE_LOCAL or address.is_site_local:
        return Refusal.PRIVATE
    elif address not in IPV6_GLOBAL_UNICAST:
        return Refusal.RESERVED
    if address.is_reserved or not address.is_global:
        return Refusal.RESERVED
    if any(address in net for net in SPECIAL_PURPOSE if net.version == address.version):
        return Refusal.RESERVED
    return None


def allowed(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """Whether the node may connect to ``address``."""
    why = refusal(address)
    return why is None or (why is Refusal.LOOPBACK and allow_loopback)


def _refuse(why: Refusal, host: str, field: str) -> NoReturn:
    if why is Refusal.LOOPBACK:
        raise OutboundRefused(
            "must be a public address: {host} points to this machine (loopback)",
            field=field,
            host=host,
        )
    if why is Refusal.PRIVATE:
        raise OutboundRefused(
            "must be a public address: {host} points to a private network", field=field, host=host
        )
    if why is Refusal.LINK_LOCAL:
        raise OutboundRefused(
            "must be a public address: {host} points to a link-local address, where cloud "
            "metadata services answer",
            field=field,
            host=host,
        )
    if why is Refusal.UNSPECIFIED:
        raise OutboundRefused(
            "must be a public address: {host} points to the unspecified address",
            field=field,
            host=host,
        )
    if why is Refusal.MULTICAST:
        raise OutboundRefused(
            "must be a public address: {host} points to a multicast address",
            field=field,
            host=host,
        )
    if why is Refusal.SHARED:
        raise OutboundRefused(
            "must be a public address: {host} points to the shared address space of "
            "carrier-grade NAT",
            field=field,
            host=host,
        )
    raise OutboundRefused(
        "must be a public address: {host} points to a reserved address", field=field, host=host
    )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_name(name: str, field: str, *, allow_loopback: bool) -> None:
    """Refuse host names that are not public whatever they resolve to."""
    bare = name.lower().rstrip(".")
    if bare in METADATA_HOSTS:
        raise OutboundRefused(
            "must not point to a cloud metadata service ({host})", field=field, host=name
        )
    if any(bare == n or bare.endswith("." + n) for n in LOOPBACK_NAMES):
        if not allow_loopback:
            _refuse(Refusal.LOOPBACK, name, field)
        return
    if "." not in bare or any(bare == s or bare.endswith("." + s) for s in PRIVATE_SUFFIXES):
        raise OutboundRefused(
            "must be a public host name: {host} is kept for private networks",
            field=field,
            host=name,
        )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order (empty when none)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        try:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError:
            continue
        if address not in found:
            found.append(address)
    return found


def check_url(url: str, *, field: str = "url") -> Target:
    """The checked target of ``url``, or ``OutboundRefused`` naming ``field`` and why."""
    settings = get_settings()
    allow_loopback = settings.outbound_loopback_allowed
    try:
        parsed = httpx.URL((url or "").strip())
    except httpx.InvalidURL:
        raise OutboundRefused("must be an http or https address", field=field) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise OutboundRefused("must be an http or https address", field=field)
    if settings.outbound_https_required and parsed.scheme != "https":
        raise OutboundRefused("must be an https address", field=field)
    if parsed.userinfo:
        raise OutboundRefused("must not carry a user name or password", field=field)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal = _literal(host)
    if literal is None:
        _check_name(host, field, allow_loopback=allow_loopback)
        addresses = resolve(host, port)
        if not addresses:
            raise OutboundRefused(
                "the host {host} does not resolve to any address", field=field, host=host
            )
    else:
        addresses = [literal]
    for address in addresses:
        if not allowed(address, allow_loopback=allow_loopback):
            why = refusal(address)
            assert why is not None
            _refuse(why, host, field)
    return Target(url=str(parsed), host=host, port=port, addresses=tuple(addresses))


class PinnedTransport(httpx.HTTPTransport):
    """Sends each request of its one host to that host's checked addresses, in turn until
    one connects, and nowhere else: the host name is never resolved again."""

    def __init__(self, target: Target, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self.target = target

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.raw_host.decode("ascii") != self.target.host:
            raise httpx.ConnectError("not the checked host", request=request)
        named = _literal(self.target.host) is None
        failure: httpx.TransportError | None = None
        for address in self.target.addresses:
            extensions = dict(request.extensions)
            if named and request.url.scheme == "https":
                extensions["sni_hostname"] = self.target.host
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=str(address)),
                headers=request.headers,  # the Host header keeps the name
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return super().handle_request(pinned)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure


def post(target: Target, *, content: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``content`` to a checked target; raises ``httpx.HTTPError`` when no answer came."""
    return _send("POST", target, content=content, headers=headers, timeout=timeout)


def get(target: Target, *, headers: dict[str, str], timeout: float) -> Answer:
    """GET a checked target; raises ``httpx.HTTPError`` when no answer came."""
    return _send("GET", target, content=None, headers=headers, timeout=timeout)


def _send(
    method: str, target: Target, *, content: bytes | None, headers: dict[str, str], timeout: float
) -> Answer:
    with (
        httpx.Client(
            transport=PinnedTransport(target),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        ) as client,
        client.stream(method, target.url, content=content, headers=headers) as response,
    ):
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= ANSWER_BYTES:
                break
        return Answer(
            status_code=response.status_code,
            text=body[:ANSWER_BYTES].decode("utf-8", errors="replace"),
            location=response.headers.get("location"),
        )
