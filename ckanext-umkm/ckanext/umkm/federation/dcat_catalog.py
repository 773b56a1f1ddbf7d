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

import datetime
import hashlib
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
    return CatalogSerializer().serialize_catalog({}, query["results"], _format=data_dict.get("format"),
                                                 pagination_info=pagination)


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
