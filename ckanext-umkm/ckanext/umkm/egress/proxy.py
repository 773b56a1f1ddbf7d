"""The egress guard as a forward proxy, for fetchers that take a proxy
setting but no hook: the DataStore loader (ckanext-xloader downloads every
resource URL through ``ckan.download_proxy``).

``ckan umkm egress-proxy`` runs it (``bin/run`` starts it beside the worker,
the production compose file as a service of its own). For each request:

- ``CONNECT host:port`` (https): the host is checked (``egress.check``) and
  the tunnel goes to the address checked;
- a plain http request (absolute URL): checked likewise, fetched with the
  guard, redirects handed back to the client (which comes back through the
  proxy for the next hop, and is checked again);
- the portal's own uploads, and only they, are admitted although the portal
  is internal: a GET of ``/dataset/<id>/resource/<id>/download…`` on the
  portal's own origin (``ckan.site_url``, ``ckanext.xloader.site_url``).

Every transfer is bounded: ``ckanext.umkm.egress.proxy_max_mb`` (default
the loader's ``ckanext.xloader.max_content_length``) and
``ckanext.umkm.egress.proxy_timeout`` seconds in all (default 600). A
refusal is a 403 whose body says why.
"""

from __future__ import annotations

import http.server
import logging
import re
import select
import socket
import socketserver
import time
from typing import Any
from urllib.parse import urlsplit

import ckan.plugins.toolkit as tk
import requests

from ckanext.umkm import egress

log = logging.getLogger(__name__)

OWN_UPLOAD = re.compile(r"^/(?:[a-z]{2}/)?dataset/[^/]+/resource/[0-9a-f-]{36}/download(?:/[^/?]*)?$")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "proxy-connection"}


def _origin(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url or "")
    return (parts.scheme, parts.netloc.lower()) if parts.scheme and parts.netloc else None


def own_upload(url: str) -> bool:
    """A download of one of the portal's own uploads, on its own origin."""
    parts = urlsplit(url)
    origins = {_origin(tk.config.get("ckan.site_url") or ""), _origin(tk.config.get("ckanext.xloader.site_url") or "")}
    return (parts.scheme, parts.netloc.lower()) in origins and bool(OWN_UPLOAD.match(parts.path))


def limits() -> tuple[int, float]:
    default = tk.asint(tk.config.get("ckanext.xloader.max_content_length") or 1_000_000_000)
    max_bytes = tk.asint(tk.config.get("ckanext.umkm.egress.proxy_max_mb") or 0) * 1024 * 1024 or default
    return max_bytes, float(tk.config.get("ckanext.umkm.egress.proxy_timeout") or 600)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "UmkmEgressGuard/1.0"
    flask_app: Any = None

    def log_message(self, fmt: str, *args: Any) -> None:
        log.info("%s %s", self.client_address[0], fmt % args)

    def _refuse(self, reason: str) -> None:
        log.warning("refused %s %s: %s", self.command, self.path, reason)
        body = reason.encode("utf-8")
        self.send_response(403, "Refused by the egress guard")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _in_app(self, work: Any) -> None:
        # Messages are translated, and the settings read, in CKAN's app.
        with self.flask_app.test_request_context():
            work()

    def do_CONNECT(self) -> None:  # noqa: N802 - the stdlib's name
        self._in_app(self._connect)

    def _connect(self) -> None:
        host, _, port = self.path.rpartition(":")
        try:
            target = egress.check(f"https://{host}:{int(port)}/")
        except (egress.Refused, ValueError) as e:
            self._refuse(getattr(e, "reason", str(e)))
            return
        max_bytes, timeout = limits()
        try:
            upstream = socket.create_connection((str(target.address), target.port), timeout=min(timeout, 30))
        except OSError as e:
            self._refuse(f"cannot connect: {e}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        _relay(self.connection, upstream, max_bytes, time.monotonic() + timeout)
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        self._in_app(self._forward)

    def do_HEAD(self) -> None:  # noqa: N802
        self._in_app(self._forward)

    def _forward(self) -> None:
        url = self.path
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        max_bytes, timeout = limits()
        own = own_upload(url)
        if own:
            # The portal's own storage, through its download route (the gate).
            session = requests.Session()
            session.trust_env = False
        else:
            session = egress.session(max_redirects=0)
        try:
            with session:
                reply = session.request(self.command, url, headers=headers, stream=True, allow_redirects=False,
                                        timeout=(min(timeout, 30), timeout))
                with reply:
                    self._answer(reply, max_bytes, time.monotonic() + timeout)
        except egress.Refused as e:
            self._refuse(e.reason)
        except requests.RequestException as e:
            self._refuse(f"cannot fetch: {type(e).__name__}")

    def _answer(self, reply: requests.Response, max_bytes: int, deadline: float) -> None:
        length = reply.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            self._refuse(f"larger than {max_bytes} bytes")
            return
        self.send_response(reply.status_code, reply.reason)
        for key, value in reply.headers.items():
            if key.lower() not in HOP_BY_HOP | {"content-encoding", "content-length"}:
                self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return
        sent = 0
        for chunk in reply.iter_content(egress.CHUNK):
            sent += len(chunk)
            if sent > max_bytes or time.monotonic() > deadline:
                log.warning("cut off %s after %d bytes", self.path, sent)
                return
            self.wfile.write(chunk)


def _relay(client: socket.socket, upstream: socket.socket, max_bytes: int, deadline: float) -> None:
    """Bytes both ways until either side closes, the size or the time is up."""
    moved = 0
    sockets = [client, upstream]
    try:
        while time.monotonic() < deadline and moved <= max_bytes:
            readable, _, broken = select.select(sockets, [], sockets, 5)
            if broken:
                return
            for sock in readable:
                data = sock.recv(egress.CHUNK)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
                moved += len(data)
    finally:
        upstream.close()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(host: str, port: int, flask_app: Any) -> None:
    Handler.flask_app = flask_app
    with Server((host, port), Handler) as server:
        log.info("egress guard proxy on %s:%d", host, port)
        server.serve_forever()
