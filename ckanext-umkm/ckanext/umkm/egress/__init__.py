"""The one egress guard: every server-side fetch of a URL that a user, a
harvest source or an import supplied goes through ``check`` and connects to
the address it checked: ``fetch`` (the release checks), ``session`` and
``GuardedAdapter`` (the harvesters, ``egress.harvesters``), and the forward
proxy of the DataStore loader (``egress.proxy``).

A URL from outside must not make the portal read its own network: the
search service and PostgreSQL on loopback, the cloud's metadata endpoint,
other machines of a government LAN. So ``fetch``:

- accepts http and https only, on any port;
- resolves the host and refuses it when any of its addresses is not a
  public one: loopback, private, link-local (cloud metadata
  169.254.169.254), shared CGNAT, multicast, unspecified, reserved,
  documentation, for IPv4 and IPv6, including IPv4 inside IPv6 (mapped,
  6to4, NAT64, Teredo); odd spellings of an address (decimal, hex, octal,
  short forms such as ``127.1``) resolve to the address they mean and are
  judged by it;
- connects to the very address it checked (the TLS certificate is still
  checked against the host name), so that a second DNS answer cannot swap
  in an internal address (DNS rebinding);
- checks every redirect again, and follows at most ``max_redirects``;
- bounds the size (``max_bytes``) and the time: connecting, each read, and
  the whole transfer.

``ckanext.umkm.egress.allowed_hosts`` names hosts (or networks, in CIDR
form) that are admitted although internal, for deployments that harvest
inside a government network.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import ckan.plugins.toolkit as tk
import requests
from requests.adapters import HTTPAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CHUNK = 64 * 1024
NAT64 = ipaddress.ip_network("64:ff9b::/96")
USER_AGENT = "PortalSatuDataUMKM/1.0 (+egress-guard)"


class Refused(Exception):
    """A URL the portal will not fetch; ``reason`` says why (in words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """Whether an address is one of the public internet's."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_public(inner)
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _allowed() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    hosts: set[str] = set()
    networks = []
    for item in tk.aslist(tk.config.get("ckanext.umkm.egress.allowed_hosts", "")):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.lower().rstrip("."))
    return hosts, networks


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(tk._("The host name cannot be resolved")) from None
    out: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip not in out:
            out.append(ip)
    if not out:
        raise Refused(tk._("The host name cannot be resolved"))
    return out


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress


def check(url: str) -> Target:
    """The address to connect to for ``url``, or Refused."""
    _ = tk._
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused(_("The URL is not valid")) from None
    if parts.scheme not in ("http", "https"):
        raise Refused(_("Only http and https URLs are fetched"))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Refused(_("The URL has no host"))
    if parts.username or parts.password:
        raise Refused(_("URLs with a user name or password are not fetched"))
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    hosts, networks = _allowed()
    admitted = host in hosts
    for ip in addresses:
        if admitted or any(ip in n for n in networks):
            continue
        if not is_public(ip):
            raise Refused(_("The URL leads to an address inside the network ({address}), which the portal "
                            "does not fetch").format(address=ip))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


class GuardedAdapter(HTTPAdapter):
    """A requests transport that checks every request's URL (``check``) and
    connects to the address it checked, naming the host only for the Host
    header and TLS. Mounted on a session, it guards each redirect too, as
    requests sends every hop through it. Proxies from the environment are
    not used: the guard is the way out."""

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> Any:
        target = check(request.url)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        host_params = dict(host_params, host=str(target.address), port=target.port)
        if host_params.get("scheme") == "https":
            pool_kwargs = dict(pool_kwargs, server_hostname=target.host, assert_hostname=target.host)
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def request_url(self, request: Any, proxies: Any) -> str:
        return super().request_url(request, {})

    def add_headers(self, request: Any, **kwargs: Any) -> None:
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc.rsplit("@", 1)[-1]


def session(max_redirects: int = 5) -> requests.Session:
    """A requests session whose every request goes through the guard."""
    guarded = requests.Session()
    guarded.trust_env = False
    guarded.max_redirects = max_redirects
    guarded.headers["User-Agent"] = USER_AGENT
    adapter = GuardedAdapter(max_retries=0)
    guarded.mount("http://", adapter)
    guarded.mount("https://", adapter)
    return guarded


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    _raw: requests.Response = field(repr=False)
    _deadline: float = field(repr=False)
    _max_bytes: int = field(repr=False)
    received: int = 0

    def iter_content(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The body in chunks, within the size and time bounds."""
        _ = tk._
        try:
            for chunk in self._raw.iter_content(chunk_size):
                self.received += len(chunk)
                if self.received > self._max_bytes:
                    raise Refused(_("The file is larger than {size} MB").format(
                        size=self._max_bytes // (1024 * 1024)))
                if time.monotonic() > self._deadline:
                    raise Refused(_("The download took too long"))
                yield chunk
        except requests.RequestException as e:
            raise Refused(_("The URL cannot be fetched: {error}").format(error=type(e).__name__)) from None

    def read(self) -> bytes:
        return b"".join(self.iter_content())


@contextlib.contextmanager
def fetch(url: str, *, max_bytes: int, timeout: float = 30, max_redirects: int = 5,
          headers: dict[str, str] | None = None) -> Iterator[Response]:
    """GET ``url`` through the guard; the body is read with ``iter_content``
    (or ``read``) within ``max_bytes`` and ``timeout`` seconds in all.
    Raises Refused, with the reason in words."""
    _ = tk._
    deadline = time.monotonic() + timeout
    with session(max_redirects) as guarded:
        try:
            raw = guarded.get(url, stream=True, timeout=(min(timeout, 10), timeout), headers=headers)
        except requests.TooManyRedirects:
            raise Refused(_("Too many redirects (more than {n})").format(n=max_redirects)) from None
        except requests.RequestException as e:
            # (A refusal of the guard is raised as it is, not wrapped.)
            raise Refused(_("The URL cannot be fetched: {error}").format(error=type(e).__name__)) from None
        with raw:
            length = raw.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise Refused(_("The file is larger than {size} MB").format(size=max_bytes // (1024 * 1024)))
            yield Response(raw.url, raw.status_code, dict(raw.headers), raw, deadline, max_bytes)
