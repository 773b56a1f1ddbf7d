"""The catalogue endpoints of ckanext-dcat as the portal serves them.

- The profile chain is the configured one with ``umkm_sdi`` always last: a
  caller cannot pick another chain (``?profiles=``), since the national
  profile is what keeps restricted files out of the graph.
- kegiatan, variabel and indikator records are members of the catalogue as
  ``dcat:resource`` (DCAT 3), not as ``dcat:dataset``.
- A page never holds more records than a search may return
  (``ckan.search.rows_max``).
- Bad ``page`` / ``modified_since`` / ``profiles`` values are a ValidationError
  (the views answer 400), never a search error.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import hashlib
import os
import tempfile
import time
from typing import Any

import ckan.plugins.toolkit as tk
from dateutil import tz
from dateutil.parser import ParserError
from dateutil.parser import parse as parse_date
from rdflib import BNode, ConjunctiveGraph, Graph, URIRef

from ckanext.dcat import logic as dcat_logic
from ckanext.dcat.processors import RDF_PROFILES_CONFIG_OPTION, RDFSerializer
from ckanext.dcat.profiles import DCAT, RDF
from ckanext.dcat.utils import CONTENT_TYPES, catalog_uri

PROFILE = "umkm_sdi"
PER_PAGE = "ckanext.dcat.datasets_per_page"
MAX_PAGE = 100_000


def profiles() -> list[str]:
    configured = (tk.config.get(RDF_PROFILES_CONFIG_OPTION) or "euro_dcat_ap_3").split()
    return [p for p in configured if p != PROFILE] + [PROFILE]


def bound_page_size(config: Any) -> None:
    """Called at start-up: a catalogue page is at most a search's rows."""
    rows_max = tk.asint(config.get("ckan.search.rows_max") or 1000)
    per_page = tk.asint(config.get(PER_PAGE) or dcat_logic.DATASETS_PER_PAGE)
    config[PER_PAGE] = str(max(1, min(per_page, rows_max)))


def stable_blank_nodes(g: Graph) -> Graph:
    """The graph with its blank nodes named by what they say and where they
    hang (a few rounds of refinement, linear in the graph's size): the same
    graph serializes to the same text, so its ETag is stable. rdflib names
    blank nodes at random. Blank nodes still alike after the rounds are
    interchangeable, so any numbering of them serializes alike."""
    bnodes = sorted({n for t in g for n in (t[0], t[2]) if isinstance(n, BNode)})
    sig = dict.fromkeys(bnodes, "")
    for _ in range(3):
        new = {}
        for b in bnodes:
            out = sorted(f"{p}>{sig[o] if isinstance(o, BNode) else o.n3()}" for _, p, o in g.triples((b, None, None)))
            into = sorted(f"{sig[s] if isinstance(s, BNode) else s.n3()}>{p}" for s, p, _ in g.triples((None, None, b)))
            new[b] = hashlib.sha256("|".join([*out, "#", *into]).encode()).hexdigest()[:24]
        sig = new
    seen: dict[str, int] = {}
    names: dict[BNode, BNode] = {}
    for b in sorted(bnodes, key=sig.__getitem__):
        seen[sig[b]] = seen.get(sig[b], 0) + 1
        names[b] = BNode(f"b{sig[b]}{seen[sig[b]]}")
    stable = Graph()
    for prefix, namespace in g.namespaces():
        stable.bind(prefix, namespace, override=True, replace=True)
    for s, p, o in sorted(((names.get(s, s), p, names.get(o, o)) for s, p, o in g), key=lambda t: t[0].n3() + t[1].n3()
                          + t[2].n3()):
        stable.add((s, p, o))
    return stable


class StableGraph(ConjunctiveGraph):
    def serialize(self, *args: Any, **kwargs: Any) -> Any:
        return stable_blank_nodes(self).serialize(*args, **kwargs)


class DatasetSerializer(RDFSerializer):
    """The configured chain with the national profile last, serialized stably."""

    def __init__(self) -> None:
        super().__init__(profiles=profiles())
        self.g = StableGraph()


class CatalogSerializer(DatasetSerializer):
    """Records that are not datasets join the catalogue as ``dcat:resource``."""

    def _add_source_catalog(self, root_catalog_ref: URIRef, dataset_dict: dict[str, Any],
                            dataset_ref: URIRef) -> URIRef | None:
        if (dataset_ref, RDF.type, DCAT.Dataset) in self.g:
            return super()._add_source_catalog(root_catalog_ref, dataset_dict, dataset_ref)
        self.g.add((root_catalog_ref, DCAT.resource, dataset_ref))
        return root_catalog_ref


def checked(data_dict: dict[str, Any]) -> dict[str, Any]:
    """The request's parameters, or a ValidationError naming the bad one."""
    errors: dict[str, list[str]] = {}
    out = dict(data_dict)
    chosen = out.pop("profiles", None)
    if chosen:
        chosen = chosen.split(",") if isinstance(chosen, str) else list(chosen)
        if [p.strip() for p in chosen] != profiles():
            errors["profiles"] = [tk._("This catalogue is served in one profile chain: {}").format(
                ",".join(profiles()))]
    page = out.get("page")
    if page not in (None, ""):
        try:
            number = int(str(page))
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_PAGE:
            errors["page"] = [tk._("Page must be a whole number from 1 to {}").format(MAX_PAGE)]
        else:
            out["page"] = number
    since = out.get("modified_since")
    if since not in (None, ""):
        try:
            when = parse_date(str(since))
            if when.tzinfo is not None:
                when = when.astimezone(tz.UTC).replace(tzinfo=None)
            if when.year < 1900:
                raise ValueError(since)
            # ckanext-dcat appends the Z itself.
            out["modified_since"] = when.isoformat(timespec="seconds")
        except (ValueError, OverflowError, ParserError, TypeError):
            errors["modified_since"] = [tk._("Use an ISO 8601 date, e.g. 2025-01-31 or 2025-01-31T08:00:00Z")]
    fmt = out.get("format")
    if fmt and fmt not in CONTENT_TYPES:
        errors["format"] = [tk._("Unknown format")]
    for key in ("q", "fq"):
        if out.get(key) is not None and not isinstance(out[key], str):
            errors[key] = [tk._("Must be a string")]
    if errors:
        raise tk.ValidationError(errors)
    return out


def search(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """ckanext-dcat's page query; a query the search service refuses is the caller's error."""
    from ckan.lib.search import SearchError, SearchQueryError

    try:
        return dcat_logic._search_ckan_datasets(context, data_dict)
    except (SearchQueryError, SearchError) as e:
        raise tk.ValidationError({"q": [tk._("The search service refused this query")]}) from e


def serialize_catalog(context: dict[str, Any], data_dict: dict[str, Any]) -> str:
    data_dict = checked(data_dict)
    query = search(context, data_dict)
    pagination = dcat_logic._pagination_info(query, data_dict)
    fmt = data_dict.get("format") or "xml"
    if fmt in FRAGMENT_FORMATS and not context.get("user"):
        page = _page_from_fragments(query["results"], pagination, fmt)
        if page is not None:
            return page
    return CatalogSerializer().serialize_catalog({}, query["results"], _format=fmt, pagination_info=pagination)


# --- the anonymous catalogue, assembled from per-record fragments -------------
#
# Building and serializing the graph of 100 records with rdflib takes about a
# second. Every record's own triples depend only on the record (and on the
# records and agency it links to), so each is serialized once, stored on disk
# under its id and ``metadata_modified``, and a page is the catalogue's own
# triples followed by its records' fragments. Only anonymous requests (what
# harvesters make) use it. A fragment is rebuilt after FRAGMENT_MAX_AGE, so a
# change to a linked record or agency (which does not touch the record's own
# ``metadata_modified``) shows within a day.

FRAGMENT_FORMATS = {"ttl": "turtle", "jsonld": "json-ld"}
FRAGMENT_VERSION = "1"  # bump when the profile's output changes
FRAGMENT_MAX_AGE = 24 * 3600


def _fragment_dir() -> str | None:
    storage = tk.config.get("ckan.storage_path")
    return os.path.join(storage, "umkm", "dcat") if storage else None


def _fragment_path(pkg: dict[str, Any], fmt: str) -> str | None:
    root = _fragment_dir()
    if root is None:
        return None
    key = hashlib.sha256("|".join([FRAGMENT_VERSION, catalog_uri(), " ".join(profiles()), fmt,
                                   str(pkg.get("metadata_modified"))]).encode()).hexdigest()[:16]
    pkg_id = str(pkg["id"])
    return os.path.join(root, fmt, pkg_id[:2], f"{pkg_id}.{key}")


def _record_graph(pkg: dict[str, Any]) -> Graph:
    serializer = DatasetSerializer()
    serializer.graph_from_dataset(pkg)
    return stable_blank_nodes(serializer.g)


def _fresh(path: str | None) -> bool:
    try:
        return path is not None and time.time() - os.path.getmtime(path) < FRAGMENT_MAX_AGE
    except OSError:
        return False


def fragment(pkg: dict[str, Any], fmt: str, graph: Graph | None = None) -> str:
    """One record's triples in ``fmt``, from the disk cache when fresh
    (``graph``: the record's graph, when the caller has built it already)."""
    path = _fragment_path(pkg, fmt)
    if _fresh(path):
        with contextlib.suppress(OSError), open(path, encoding="utf-8") as f:
            return f.read()
    text = (graph if graph is not None else _record_graph(pkg)).serialize(format=FRAGMENT_FORMATS[fmt])
    if path is not None:
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            for old in glob.glob(path.rsplit(".", 1)[0] + ".*"):
                os.remove(old)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=os.path.dirname(path), delete=False) as f:
                f.write(text)
            os.replace(f.name, path)
    return text


def _split_turtle(text: str) -> tuple[dict[str, str], str]:
    prefixes: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (lines[i].startswith("@prefix ") or not lines[i].strip()):
        if lines[i].startswith("@prefix "):
            name, iri = lines[i][len("@prefix "):].rstrip(" .").split(":", 1)
            prefixes[name] = iri.strip()
        i += 1
    return prefixes, "\n".join(lines[i:]).strip()


def _page_from_fragments(results: list[dict[str, Any]], pagination: dict[str, Any], fmt: str) -> str | None:
    """The page, or None when the fragments cannot be joined (a prefix bound
    to two namespaces): then the whole graph is built as usual."""
    from ckanext.dcat.utils import dataset_uri

    head = CatalogSerializer()
    catalog_ref = head.graph_from_catalog({})
    for pkg in results:
        link = DCAT.dataset if pkg.get("type", "dataset") == "dataset" else DCAT.resource
        head.g.add((catalog_ref, link, URIRef(dataset_uri(pkg))))
    head._add_pagination_triples(pagination)
    parts = [head.g.serialize(format=FRAGMENT_FORMATS[fmt])] + [fragment(pkg, fmt) for pkg in results]
    if fmt == "jsonld":
        items = [part.strip()[1:-1].strip() for part in parts]
        return "[\n" + ",\n".join(item for item in items if item) + "\n]"
    prefixes: dict[str, str] = {}
    bodies = []
    for part in parts:
        found, body = _split_turtle(part)
        for name, iri in found.items():
            if prefixes.setdefault(name, iri) != iri:
                return None
        bodies.append(body)
    header = "".join(f"@prefix {name}: {iri} .\n" for name, iri in sorted(prefixes.items()))
    return header + "\n" + "\n\n".join(b for b in bodies if b) + "\n"


def last_modified(context: dict[str, Any], data_dict: dict[str, Any]) -> datetime.datetime | None:
    """The newest change among the records of the query (of every page)."""
    query = search(context, {**checked(data_dict), "page": 1})
    stamps = [r.get("metadata_modified") for r in query.get("results", []) if r.get("metadata_modified")]
    return parse_stamp(max(stamps)) if stamps else None


def parse_stamp(stamp: str | None) -> datetime.datetime | None:
    """CKAN's naive UTC timestamp as an aware datetime."""
    if not stamp:
        return None
    return parse_date(stamp).replace(tzinfo=datetime.UTC)


def restricted_as_page(pkg: dict[str, Any], dcat: dict[str, Any]) -> dict[str, Any]:
    """``/dcat.json``: a restricted dataset's distributions point at its page."""
    from ckanext.umkm.access import gate

    if gate.is_restricted(pkg):
        page = f"{catalog_uri().rstrip('/')}/dataset/{pkg['name']}"
        for distribution in dcat.get("distribution", []):
            distribution["accessURL"] = page
    return dcat


def serialize_dataset(context: dict[str, Any], data_dict: dict[str, Any]) -> str:
    data_dict = checked(data_dict)
    dataset_dict = tk.get_action("package_show")(context, {"id": data_dict.get("id")})
    return DatasetSerializer().serialize_dataset(dataset_dict, _format=data_dict.get("format"))


def warm(package_ids: list[str] | None = None) -> int:
    """Build the stored fragments of public records (``package_ids``, or all),
    from the same search results an anonymous page is made of; returns how
    many records. Run by the worker after each record is indexed, and by
    ``ckan umkm dcat warm`` after a bulk load or an index rebuild."""
    if _fragment_dir() is None:
        return 0
    from ckanext.umkm.federation.dcat_profile import RECORD_TYPES

    fq = f"+dataset_type:({' OR '.join(RECORD_TYPES)})"
    if package_ids:
        fq += " +id:(" + " OR ".join(f'"{i}"' for i in package_ids) + ")"
    done, start = 0, 0
    rows = tk.asint(tk.config.get("ckan.search.rows_max") or 1000)
    while True:
        found = tk.get_action("package_search")({"user": "", "ignore_auth": False}, {
            "q": "*:*", "fq": fq, "rows": rows, "start": start, "sort": "id asc"})["results"]
        for pkg in found:
            if not all(_fresh(_fragment_path(pkg, fmt)) for fmt in FRAGMENT_FORMATS):
                graph = _record_graph(pkg)  # built once for both formats
                for fmt in FRAGMENT_FORMATS:
                    fragment(pkg, fmt, graph)
        done += len(found)
        if len(found) < rows:
            return done
        start += rows


def warm_after_index(pkg_dict: dict[str, Any]) -> None:
    """``before_dataset_index``: a public record's fragments are rebuilt by the
    worker, so that harvesters rarely meet a cold page."""
    if pkg_dict.get("private") or pkg_dict.get("state") != "active" or _fragment_dir() is None:
        return
    from ckanext.umkm.federation.dcat_profile import RECORD_TYPES

    if pkg_dict.get("type") not in RECORD_TYPES:
        return
    if not tk.asbool(tk.config.get("ckanext.umkm.dcat.warm_in_background", True)):
        return
    with contextlib.suppress(Exception):  # no Redis: the page builds it when asked
        tk.enqueue_job(warm, [[pkg_dict["id"]]], title=f"DCAT fragments of {pkg_dict.get('name')}")
