"""The WSGI application: Solr's HTTP API over one or more :class:`Core` objects.

Routes (as Solr lays them out, so CKAN takes ``http://HOST:PORT/solr/<core>``
unchanged as ``solr_url``):

  /solr/<core>/select           GET or form POST; wt=json answers
  /solr/<core>/update[/json]    JSON docs / JSON commands / XML add, delete, commit
  /solr/<core>/schema           ?wt=schema.xml (CKAN's version check) or JSON
  /solr/<core>/admin/file       ?file=schema.xml (CKAN's fallback check)
  /solr/<core>/admin/ping       health
  /solr/admin/cores             ?action=STATUS, the cores and their sizes
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from . import memory
from .index import Core, SolrError
from .schema import schema_json, schema_xml

log = logging.getLogger(__name__)

# Larger bodies are refused: a full rebuild sends many moderate batches.
MAX_BODY_BYTES = 256 * 1024 * 1024
TRUE = ("true", "on", "1", "yes")

StartResponse = Callable[..., Any]


def _params(query_string: str) -> dict[str, list[str]]:
    return parse_qs(query_string, keep_blank_values=True)


def _merge(a: Mapping[str, list[str]], b: Mapping[str, list[str]]) -> dict[str, list[str]]:
    out = {k: list(v) for k, v in a.items()}
    for k, v in b.items():
        out.setdefault(k, []).extend(v)
    return out


def _flag(params: Mapping[str, list[str]], name: str) -> bool:
    return any(v.lower() in TRUE for v in params.get(name, []))


def _error_body(code: int, msg: str) -> dict[str, Any]:
    cls = "org.apache.solr.common.SolrException"
    return {
        "responseHeader": {"status": code, "QTime": 0},
        "error": {"metadata": ["error-class", cls, "root-error-class", cls], "msg": msg, "code": code},
    }


class UpdateRequest:
    """One update request parsed completely before anything is written."""

    def __init__(self) -> None:
        self.adds: list[Any] = []
        self.delete_ids: list[str] = []
        self.delete_queries: list[str] = []
        self.commit = False

    def parse_json(self, body: bytes) -> None:
        try:
            data = orjson.loads(body or b"[]")
        except orjson.JSONDecodeError as e:
            raise SolrError(400, f"Cannot parse provided JSON: {e}") from None
        if isinstance(data, list):
            self.adds.extend(data)
            return
        if not isinstance(data, dict):
            raise SolrError(400, "Update body must be a JSON array of documents or an object of commands")
        if not any(k in data for k in ("add", "delete", "commit", "optimize")):
            self.adds.append(data)  # a single document
            return
        for key, value in data.items():
            if key == "add":
                for item in value if isinstance(value, list) else [value]:
                    doc = item.get("doc") if isinstance(item, dict) and "doc" in item else item
                    self.adds.append(doc)
            elif key == "delete":
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict) and "query" in item:
                        self.delete_queries.append(str(item["query"]))
                    elif isinstance(item, dict) and "id" in item:
                        self.delete_ids.append(str(item["id"]))
                    elif isinstance(item, (str, int)):
                        self.delete_ids.append(str(item))
                    else:
                        raise SolrError(400, f"Invalid delete command: {item!r}")
            elif key in ("commit", "optimize"):
                self.commit = True
            else:
                raise SolrError(400, f"Unknown command '{key}'")

    def parse_xml(self, body: bytes) -> None:
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise SolrError(400, "DTDs are not allowed in update requests")
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            raise SolrError(400, f"Unexpected XML: {e}") from None
        # A bare <add>/<delete>/<commit/> or several wrapped in <update>.
        elements = list(root) if root.tag == "update" else [root]
        for el in elements:
            if el.tag == "add":
                for doc_el in el.findall("doc"):
                    doc: dict[str, Any] = {}
                    for f in doc_el.findall("field"):
                        name = f.get("name")
                        if not name:
                            raise SolrError(400, "<field> without a name")
                        value = f.text or ""
                        if name in doc:
                            prev = doc[name]
                            doc[name] = (prev if isinstance(prev, list) else [prev]) + [value]
                        else:
                            doc[name] = value
                    self.adds.append(doc)
            elif el.tag == "delete":
                for child in el:
                    text = (child.text or "").strip()
                    if child.tag == "id" and text:
                        self.delete_ids.append(text)
                    elif child.tag == "query" and text:
                        self.delete_queries.append(text)
                    else:
                        raise SolrError(400, f"Invalid delete element <{child.tag}>")
            elif el.tag in ("commit", "optimize"):
                self.commit = True
            elif el.tag == "rollback":
                raise SolrError(400, "rollback is not supported")
            else:
                raise SolrError(400, f"Unexpected tag <{el.tag}>")


class SearchApp:
    def __init__(self, cores: Mapping[str, Core]) -> None:
        self.cores = dict(cores)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            status, ctype, body = self._dispatch(environ)
        except SolrError as e:
            status, ctype, body = e.code, "application/json", _error_body(e.code, e.msg)
        except Exception as e:  # answered, never crashes the server
            log.exception("internal error")
            status, ctype, body = 500, "application/json", _error_body(500, f"{type(e).__name__}: {e}")
        if isinstance(body, dict):
            header = body.get("responseHeader")
            if isinstance(header, dict) and "QTime" in header and not header["QTime"]:
                header["QTime"] = int((time.perf_counter() - started) * 1000)
            data = orjson.dumps(body)
            ctype = "application/json; charset=utf-8"
        else:
            data = body.encode("utf-8") if isinstance(body, str) else body
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  413: "Payload Too Large", 500: "Server Error"}.get(status, "Error")
        start_response(f"{status} {reason}", [("Content-Type", ctype), ("Content-Length", str(len(data)))])
        return [data]

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise SolrError(400, "Invalid Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise SolrError(413, "Request body too large")
        return environ["wsgi.input"].read(length) if length > 0 else b""

    def _dispatch(self, environ: dict[str, Any]) -> tuple[int, str, Any]:
        path = environ.get("PATH_INFO", "").strip("/")
        parts = path.split("/")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if len(parts) < 2 or parts[0] != "solr":
            raise SolrError(404, f"Not found: /{path}")
        if parts[1] == "admin":
            return 200, "application/json", self._cores_status()
        core = self.cores.get(parts[1])
        if core is None:
            raise SolrError(404, f"No such core: {parts[1]}")
        handler = "/".join(parts[2:])
        params = _params(environ.get("QUERY_STRING", ""))
        ctype = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()

        if handler in ("select", "query"):
            if method == "POST":
                body = self._read_body(environ)
                if ctype in ("", "application/x-www-form-urlencoded"):
                    params = _merge(params, _params(body.decode("utf-8", "replace")))
                else:
                    raise SolrError(400, f"Unsupported content type for select: {ctype}")
            elif method != "GET":
                raise SolrError(405, f"Method {method} not allowed")
            return 200, "application/json", core.select(params)

        if handler in ("update", "update/json", "update/xml"):
            if method not in ("POST", "GET"):
                raise SolrError(405, f"Method {method} not allowed")
            req = UpdateRequest()
            body = self._read_body(environ) if method == "POST" else b""
            if body.strip():
                looks_xml = body.lstrip()[:1] == b"<"
                if handler == "update/json" or ctype.endswith("json") or (not looks_xml and ctype != "text/xml"):
                    req.parse_json(body)
                else:
                    req.parse_xml(body)
            commit = req.commit or _flag(params, "commit") or _flag(params, "softCommit")
            if req.adds or req.delete_ids or req.delete_queries:
                try:
                    core.update(req.adds, req.delete_ids, req.delete_queries, commit=commit)
                finally:
                    del req, body
                    memory.trim()
            elif commit:
                core.commit()
            return 200, "application/json", {"responseHeader": {"status": 0, "QTime": 0}}

        if handler == "schema" or handler == "admin/file":
            wt = (params.get("wt") or [""])[0]
            wants_xml = wt == "schema.xml" or (params.get("file") or [""])[0] == "schema.xml"
            if wants_xml:
                return 200, "application/xml; charset=utf-8", schema_xml()
            return 200, "application/json", {"responseHeader": {"status": 0, "QTime": 0}, "schema": schema_json()}

        if handler == "admin/ping":
            return 200, "application/json", {
                "responseHeader": {"status": 0, "QTime": 0}, "status": "OK", "numDocs": core.num_docs()}

        raise SolrError(404, f"Unknown handler: /{handler}")

    def _cores_status(self) -> dict[str, Any]:
        return {
            "responseHeader": {"status": 0, "QTime": 0},
            "status": {name: {"name": name, "dataDir": c.path, "index": {"numDocs": c.num_docs()}}
                       for name, c in self.cores.items()},
        }
