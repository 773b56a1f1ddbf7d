"""The one egress guard: every server-side fetch of a URL that a user, a
harvest source or an import supplied goes through ``fetch``.

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
from urllib.parse import urljoin, urlsplit

import ckan.plugins.toolkit as tk

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


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    _raw: Any = field(repr=False)
    _deadline: float = field(repr=False)
    _max_bytes: int = field(repr=False)
    received: int = 0

    def iter_content(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The body in chunks, within the size and time bounds."""
        _ = tk._
        for chunk in self._raw.stream(chunk_size, decode_content=True):
            self.received += len(chunk)
            if self.received > self._max_bytes:
                raise Refused(_("The file is larger than {size} MB").format(size=self._max_bytes // (1024 * 1024)))
            if time.monotonic() > self._deadline:
                raise Refused(_("The download took too long"))
            yield chunk

    def read(self) -> bytes:
        return b"".join(self.iter_content())


def _open(target: Target, timeout: float) -> Any:
    import certifi
    import urllib3

    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    if ":" in target.host and not target.host.startswith("["):
        host_header = f"[{target.host}]" if target.port in (80, 443) else f"[{target.host}]:{target.port}"
    address = str(target.address)
    common = {"port": target.port, "timeout": urllib3.Timeout(connect=min(timeout, 10), read=timeout),
              "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, server_hostname=target.host, assert_hostname=target.host,
                                           cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **common)
    else:
        pool = urllib3.HTTPConnectionPool(address, **common)
    return pool.urlopen("GET", target.path, headers={"Host": host_header, "User-Agent": USER_AGENT,
                                                      "Accept-Encoding": "gzip, deflate"},
                        redirect=False, preload_content=False, assert_same_host=False)


@contextlib.contextmanager
def fetch(url: str, *, max_bytes: int, timeout: float = 30, max_redirects: int = 5) -> Iterator[Response]:
    """GET ``url`` through the guard; the response's body is read with
    ``iter_content`` (or ``read``) within ``max_bytes`` and ``timeout``
    seconds in all. Raises Refused, or OSError-like network errors as
    Refused with the reason."""
    import urllib3

    _ = tk._
    deadline = time.monotonic() + timeout
    current = url
    for _hop in range(max_redirects + 1):
        target = check(current)
        try:
            raw = _open(target, max(deadline - time.monotonic(), 1))
        except urllib3.exceptions.HTTPError as e:
            raise Refused(_("The URL cannot be fetched: {error}").format(error=type(e).__name__)) from None
        if raw.status in (301, 302, 303, 307, 308) and raw.headers.get("Location"):
            location = raw.headers["Location"]
            raw.release_conn()
            current = urljoin(current, location)
            continue
        length = raw.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raw.release_conn()
            raise Refused(_("The file is larger than {size} MB").format(size=max_bytes // (1024 * 1024)))
        response = Response(current, raw.status, dict(raw.headers), raw, deadline, max_bytes)
        try:
            yield response
        except urllib3.exceptions.HTTPError as e:
            raise Refused(_("The URL cannot be fetched: {error}").format(error=type(e).__name__)) from None
        finally:
            raw.release_conn()
        return
    raise Refused(_("Too many redirects (more than {n})").format(n=max_redirects))
