"""The outbound address policy: public addresses only, checked where the URL is given and
again where it is used, the connection pinned to what was checked."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import XydEnv
from tests.fake_dns import FakeDNS
from xinyidai.core import outbound

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The blocks the policy must refuse, as the issue and the IANA special-purpose registries
# name them; hypothesis draws addresses from inside each of them as well as anywhere.
NOT_PUBLIC = [
    "0.0.0.0/8",  # "this network"; 0.0.0.0 itself reaches the local host
    "10.0.0.0/8",
    "100.64.0.0/10",  # carrier-grade NAT (Alibaba Cloud's metadata service is in it)
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local: cloud metadata at 169.254.169.254
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",  # 6to4 relay anycast, deprecated (RFC 7526)
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
    "::/128",
    "::1/128",
    "::ffff:0:0/96",  # IPv4-mapped: judged by the IPv4 address, drawn below
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
    "3fff::/20",
    "fc00::/7",  # unique local (AWS's IPv6 metadata is fd00:ec2::254)
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local, deprecated
    "ff00::/8",  # multicast
]
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _globally_reachable_unicast(address: IPAddress) -> bool:
    """What the policy should allow, said the long way: this Python's reading of the IANA
    registries (``is_global``), less multicast, reserved and deprecated blocks and the
    special-purpose blocks every Python does not know; an IPv6 address that stands for an
    IPv4 address (mapped, NAT64) is that IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _globally_reachable_unicast(address.ipv4_mapped)
        if address in NAT64:
            return _globally_reachable_unicast(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.is_site_local or address not in ipaddress.IPv6Network("2000::/3"):
            return False
    if any(
        address in ipaddress.ip_network(net)
        for net in NOT_PUBLIC
        if ipaddress.ip_network(net).version == address.version
    ):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def _inside(network: str) -> st.SearchStrategy[IPAddress]:
    net = ipaddress.ip_network(network)
    return st.ip_addresses(network=net)


ANY_ADDRESS = st.one_of(
    st.ip_addresses(),
    st.ip_addresses(v=4),
    *(_inside(net) for net in NOT_PUBLIC),
    st.ip_addresses(v=4).map(lambda a: ipaddress.IPv6Address(f"::ffff:{a}")),
    st.ip_addresses(v=4).map(lambda a: ipaddress.IPv6Address(int(NAT64[0]) | int(a))),
    _inside("2000::/3"),
)


@given(ANY_ADDRESS)
def test_the_policy_refuses_exactly_the_addresses_that_are_not_globally_reachable(
    address: IPAddress,
) -> None:
    assert (outbound.refusal(address) is None) == _globally_reachable_unicast(address)


@given(st.one_of(*(_inside(net) for net in NOT_PUBLIC if net != "::ffff:0:0/96")))
def test_no_address_of_a_special_purpose_block_is_allowed(address: IPAddress) -> None:
    assert not outbound.allowed(address)


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_in_ipv6_clothing_is_judged_as_itself(
    address: ipaddress.IPv4Address,
) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(int(NAT64[0]) | int(address))
    assert outbound.refusal(mapped) == outbound.refusal(address)
    assert outbound.refusal(nat64) == outbound.refusal(address)


@given(st.one_of(_inside("127.0.0.0/8"), st.just(ipaddress.IPv6Address("::1"))))
def test_loopback_passes_only_when_allowed(address: IPAddress) -> None:
    assert not outbound.allowed(address)
    assert outbound.allowed(address, allow_loopback=True)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", outbound.Refusal.LOOPBACK),
        ("::1", outbound.Refusal.LOOPBACK),
        ("::ffff:127.0.0.1", outbound.Refusal.LOOPBACK),
        ("10.0.0.5", outbound.Refusal.PRIVATE),
        ("172.31.255.1", outbound.Refusal.PRIVATE),
        ("192.168.1.1", outbound.Refusal.PRIVATE),
        ("fd00:ec2::254", outbound.Refusal.PRIVATE),
        ("169.254.169.254", outbound.Refusal.LINK_LOCAL),
        ("fe80::1", outbound.Refusal.LINK_LOCAL),
        ("0.0.0.0", outbound.Refusal.UNSPECIFIED),
        ("::", outbound.Refusal.UNSPECIFIED),
        ("224.0.0.251", outbound.Refusal.MULTICAST),
        ("ff02::1", outbound.Refusal.MULTICAST),
        ("100.100.100.200", outbound.Refusal.SHARED),
        ("255.255.255.255", outbound.Refusal.RESERVED),
        ("2001:db8::1", outbound.Refusal.RESERVED),
        ("8.8.8.8", None),
        ("2400:3200::1", None),
        ("64:ff9b::808:808", None),
    ],
)
def test_each_refusal_names_its_reason(address: str, why: outbound.Refusal | None) -> None:
    assert outbound.refusal(ipaddress.ip_address(address)) is why


# --------------------------------------------------------------------------- URLs


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    return FakeDNS(monkeypatch)


@pytest.fixture
def loopback(db_url: str, xyd_env: XydEnv) -> None:
    xyd_env(XYD_OUTBOUND_ALLOW_LOOPBACK="true")


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/",
        "http://intranet/",
        "http://db.corp.internal/",
        "http://printer.local/",
        "http://router.home.arpa/",
        "http://LOCALHOST./",
        "http://api.localhost/",
    ],
)
def test_names_kept_for_private_networks_are_refused_without_asking_dns(
    url: str, dns: FakeDNS
) -> None:
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.check_url(url, field="callback")
    assert refused.value.field == "callback"
    assert dns.lookups == []


def test_every_address_of_a_name_must_be_public(dns: FakeDNS) -> None:
    dns.answers["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    target = outbound.check_url("https://hooks.example.com/in")
    assert [str(a) for a in target.addresses] == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]
    assert (target.host, target.port) == ("hooks.example.com", 443)
    dns.answers["hooks.example.com"].append("fd12::1")
    with pytest.raises(outbound.OutboundRefused, match="private network"):
        outbound.check_url("https://hooks.example.com/in")


def test_an_international_name_is_resolved_as_sent(dns: FakeDNS) -> None:
    dns.answers["xn--fsqu00a.xn--0zwm56d"] = ["10.0.0.7"]
    with pytest.raises(outbound.OutboundRefused, match="private network"):
        outbound.check_url("https://例子.测试/hooks")


# --------------------------------------------------------------------------- sending


class Server:
    """A local server answering each POST with ``status`` (and ``location``)."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                server.requests.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                body = b"x" * 100_000
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_port
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server(status=302, location="http://169.254.169.254/latest/meta-data/")
    yield running
    running.close()


def test_a_request_goes_to_the_checked_address_and_follows_no_redirect(
    dns: FakeDNS, loopback: None, server: Server
) -> None:
    dns.answers["hooks.example.com"] = ["127.0.0.1"]
    target = outbound.check_url(f"http://hooks.example.com:{server.port}/in")
    dns.answers["hooks.example.com"] = ["10.20.30.40"]  # what a rebinding resolver says next
    answer = outbound.post(target, content=b"{}", headers={}, timeout=5)
    assert answer.status_code == 302
    assert answer.location == "http://169.254.169.254/latest/meta-data/"
    assert len(answer.text) == outbound.ANSWER_BYTES  # a long answer is not read to its end
    [request] = server.requests
    assert request["host"] == f"hooks.example.com:{server.port}"
    assert dns.lookups == ["hooks.example.com"]


def test_a_checked_target_is_sent_nowhere_else(dns: FakeDNS, loopback: None) -> None:
    dns.answers["hooks.example.com"] = ["127.0.0.1"]
    target = outbound.check_url("http://hooks.example.com:9/in")
    import httpx

    with (
        httpx.Client(transport=outbound.PinnedTransport(target)) as client,
        pytest.raises(httpx.ConnectError, match="not the checked host"),
    ):
        client.post("http://other.example.com/in")


# --------------------------------------------------------------------------- TLS


def _certificate(names: list[str]) -> tuple[bytes, bytes]:
    """A self-signed certificate for ``names`` and its key, in PEM."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@pytest.fixture
def tls_server(tmp_path: Any) -> Iterator[tuple[Server, bytes, list[str]]]:
    """A local HTTPS server with a certificate for hooks.example.com; the SNI names it saw."""
    import ssl

    pem, key = _certificate(["hooks.example.com"])
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    seen: list[str] = []

    def remember(sock: Any, name: str | None, ctx: Any) -> None:
        seen.append(name or "")

    context.sni_callback = remember
    running = Server(status=204)
    running.http.socket = context.wrap_socket(running.http.socket, server_side=True)
    yield running, pem, seen
    running.close()


def test_a_pinned_https_request_keeps_the_name_for_sni_and_the_certificate(
    dns: FakeDNS, loopback: None, tls_server: tuple[Server, bytes, list[str]]
) -> None:
    import ssl

    import httpx

    server, pem, seen = tls_server
    trust = ssl.create_default_context(cadata=pem.decode())
    dns.answers["hooks.example.com"] = ["127.0.0.1"]
    dns.answers["elsewhere.example.com"] = ["127.0.0.1"]
    target = outbound.check_url(f"https://hooks.example.com:{server.port}/in")
    with httpx.Client(transport=outbound.PinnedTransport(target, verify=trust)) as client:
        answer = client.post(target.url, content=b"{}")
    assert answer.status_code == 204
    assert seen == ["hooks.example.com"]
    assert server.requests[0]["host"] == f"hooks.example.com:{server.port}"

    other = outbound.check_url(f"https://elsewhere.example.com:{server.port}/in")
    with (
        httpx.Client(transport=outbound.PinnedTransport(other, verify=trust)) as client,
        pytest.raises(httpx.ConnectError, match=r"certificate|hostname"),
    ):
        client.post(other.url, content=b"{}")
