"""The national code lists as linked data (SKOS), issue 14.

Each list of :mod:`ckanext.umkm.metadata.reference_codes` is a
``skos:ConceptScheme`` at ``/kode/<scheme>``, each code a ``skos:Concept`` at
``/kode/<scheme>/<code>`` (URIs from :mod:`ckanext.umkm.federation.uris`),
linked up and down by ``skos:broader``/``skos:narrower``. The levels
(provinsi … desa/kelurahan, kategori … kelompok) are ``skos:Collection``\\ s
(``xkos:ClassificationLevel``) at ``/kode/<scheme>#<level>``.

One concept or the scheme is a small rdflib graph built per request. The
whole-scheme dump (about 91,600 wilayah concepts) is written once per edition
to a file under ``ckan.storage_path`` by streaming the rows from the database
and serialising each node by hand: an rdflib graph of the whole list would
take hundreds of megabytes and about a minute per request.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import glob
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from ckanext.umkm.federation import uris
from ckanext.umkm.metadata import reference_codes

CC = Namespace("http://creativecommons.org/ns#")
VOID = Namespace("http://rdfs.org/ns/void#")
XKOS = Namespace("http://rdf-vocabulary.ddialliance.org/xkos#")

PREFIXES: dict[str, Namespace] = {
    "rdf": Namespace(str(RDF)), "rdfs": Namespace(str(RDFS)), "xsd": Namespace(str(XSD)),
    "skos": Namespace(str(SKOS)), "dct": Namespace(str(DCTERMS)), "owl": Namespace(str(OWL)),
    "cc": CC, "void": VOID, "xkos": XKOS,
}

# Bump when the shape of the RDF changes, so cached dumps are rewritten.
DUMP_VERSION = "1"


@dataclass(frozen=True)
class Format:
    suffix: str
    media_type: str
    rdflib_name: str
    label: str


FORMATS: dict[str, Format] = {f.suffix: f for f in (
    Format("ttl", "text/turtle", "turtle", "Turtle"),
    Format("jsonld", "application/ld+json", "json-ld", "JSON-LD"),
    Format("rdf", "application/rdf+xml", "pretty-xml", "RDF/XML"),
    Format("nt", "application/n-triples", "nt", "N-Triples"),
)}

# What each list is, where it comes from and under which terms it is shared
# (metadata/reference/*/SOURCE.md). The region list is ODbL 1.0: its
# attribution must travel with every copy, so it is on the scheme and in dumps.
SCHEME_INFO: dict[str, dict[str, Any]] = {
    "wilayah": {
        "title": {"id": "Kode Wilayah Administrasi Pemerintahan",
                  "en": "Codes of government administrative regions"},
        "description": {
            "id": "Kode dan nama provinsi, kabupaten/kota, kecamatan, dan desa/kelurahan menurut "
                  "Keputusan Menteri Dalam Negeri Nomor 300.2.2-2138 Tahun 2025 (format kode "
                  "Permendagri 58/2021).",
            "en": "Codes and names of provinces, regencies/cities, districts and villages as set by "
                  "Decree of the Minister of Home Affairs 300.2.2-2138 of 2025 (code format of "
                  "Permendagri 58/2021).",
        },
        "source": "https://github.com/fityannugroho/idn-area-data/tree/"
                  "b36d0792e039555eee86bda3d3092cdfcacb16f4",
        "license": "https://opendatacommons.org/licenses/odbl/1-0/",
        "license_title": "Open Database License (ODbL) 1.0",
        "attribution_name": "Contributors of fityannugroho/idn-area-data",
        "attribution_url": "https://github.com/fityannugroho/idn-area-data",
        "rights": {
            "id": "Data wilayah © para kontributor fityannugroho/idn-area-data, tersedia dengan "
                  "Open Database License (ODbL 1.0). Adaptasi basis data wilayah dibagikan dengan "
                  "lisensi yang sama.",
            "en": "Region data © the contributors of fityannugroho/idn-area-data, made available "
                  "under the Open Database License (ODbL 1.0). Adaptations of the region database "
                  "are shared under the same licence.",
        },
        "citation": "Kode wilayah: Keputusan Menteri Dalam Negeri Nomor 300.2.2-2138 Tahun 2025; "
                    "data © contributors of fityannugroho/idn-area-data (commit b36d0792), ODbL 1.0.",
    },
    "kbli": {
        "title": {"id": "Klasifikasi Baku Lapangan Usaha Indonesia (KBLI) 2020",
                  "en": "Indonesian Standard Industrial Classification (KBLI) 2020"},
        "description": {
            "id": "Klasifikasi lapangan usaha menurut Peraturan Badan Pusat Statistik Nomor 2 Tahun "
                  "2020: kategori, golongan pokok, golongan, subgolongan, dan kelompok.",
            "en": "The business-sector classification of Statistics Indonesia Regulation 2 of 2020: "
                  "sections, divisions, groups, classes and subclasses.",
        },
        "source": "https://github.com/UserGhost411/KBLI-2020-Dataset/tree/"
                  "a167e30217d0fee03bcede4e9bb00693f4149620",
        # A regulation and its annex are not protected by copyright.
        "license": "https://creativecommons.org/publicdomain/mark/1.0/",
        "license_title": "Public Domain Mark 1.0",
        "attribution_name": "Badan Pusat Statistik",
        "attribution_url": "https://www.bps.go.id/",
        "rights": {
            "id": "Peraturan BPS Nomor 2 Tahun 2020 beserta lampirannya tidak dilindungi hak cipta "
                  "(UU 28/2014 Pasal 42).",
            "en": "Statistics Indonesia Regulation 2 of 2020 and its annex are not subject to "
                  "copyright (Law 28/2014 Article 42).",
        },
        "citation": "KBLI 2020: Peraturan Badan Pusat Statistik Nomor 2 Tahun 2020 tentang "
                    "Klasifikasi Baku Lapangan Usaha Indonesia.",
    },
}

LEVEL_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "wilayah": {
        "provinsi": ("Provinsi", "Province"),
        "kabupaten_kota": ("Kabupaten/Kota", "Regency/City"),
        "kecamatan": ("Kecamatan", "District"),
        "desa_kelurahan": ("Desa/Kelurahan", "Village"),
    },
    "kbli": {
        "kategori": ("Kategori", "Section"),
        "golongan_pokok": ("Golongan Pokok", "Division"),
        "golongan": ("Golongan", "Group"),
        "subgolongan": ("Subgolongan", "Class"),
        "kelompok": ("Kelompok", "Subclass"),
    },
}

# Longest well-formed code (PP.KK.CC.DDDD); anything longer is refused unread.
MAX_CODE_LENGTH = 13
_SAFE_CODE = re.compile(r"[0-9A-Za-z.]{1,13}")

Triple = tuple[URIRef, URIRef, Node]


# --- lookups ---------------------------------------------------------------


def canonical_code(scheme: str, raw: str) -> str | None:
    """The canonical spelling of a code taken from a URL, or None when it
    cannot be a code of the list (checked before any database query)."""
    if scheme not in reference_codes.SCHEMES or len(raw) > MAX_CODE_LENGTH:
        return None
    if not _SAFE_CODE.fullmatch(raw):
        return None
    code = reference_codes.normalize(scheme, raw)
    if not _SAFE_CODE.fullmatch(code) or reference_codes.level_of(scheme, code) is None:
        return None
    return code


def edition(scheme: str) -> dict[str, Any] | None:
    """The edition of the list now loaded, or None when it is not loaded."""
    found = reference_codes.editions(scheme)
    return found[0] if found else None


def level_uri(scheme: str, level: str) -> URIRef:
    return URIRef(f"{uris.scheme_uri(scheme)}#{level}")


def dump_url(scheme: str, suffix: str) -> str:
    return f"{uris.scheme_uri(scheme)}.{suffix}"


def level_label(scheme: str, level: str, lang: str = "id") -> str:
    id_label, en_label = LEVEL_LABELS[scheme][level]
    return en_label if lang == "en" else id_label


# --- triples ---------------------------------------------------------------


def _concept(scheme: str, code: str) -> URIRef:
    return URIRef(uris.concept_uri(scheme, code))


def scheme_summary_triples(scheme: str, loaded: dict[str, Any] | None) -> Iterator[Triple]:
    """What every document of a list says about the list: its names, edition,
    source and licence with the attribution."""
    info = SCHEME_INFO[scheme]
    s = URIRef(uris.scheme_uri(scheme))
    yield s, RDF.type, SKOS.ConceptScheme
    for lang, title in info["title"].items():
        yield s, SKOS.prefLabel, Literal(title, lang=lang)
        yield s, DCTERMS.title, Literal(title, lang=lang)
    if loaded:
        yield s, OWL.versionInfo, Literal(loaded["edition"])
        yield s, DCTERMS.modified, Literal(loaded["loaded_at"][:19], datatype=XSD.dateTime)
    licence = URIRef(info["license"])
    yield s, DCTERMS.license, licence
    yield licence, RDF.type, DCTERMS.LicenseDocument
    yield licence, RDFS.label, Literal(info["license_title"])
    yield s, CC.license, licence
    for lang, rights in info["rights"].items():
        yield s, DCTERMS.rights, Literal(rights, lang=lang)
    yield s, CC.attributionName, Literal(info["attribution_name"])
    yield s, CC.attributionURL, URIRef(info["attribution_url"])
    yield s, DCTERMS.bibliographicCitation, Literal(info["citation"])
    yield s, DCTERMS.source, URIRef(info["source"])


def scheme_triples(scheme: str, loaded: dict[str, Any] | None,
                   tops: Iterable[reference_codes.Code]) -> Iterator[Triple]:
    """The scheme in full: summary, description, top concepts, levels and dumps."""
    info = SCHEME_INFO[scheme]
    s = URIRef(uris.scheme_uri(scheme))
    yield from scheme_summary_triples(scheme, loaded)
    for lang, text in info["description"].items():
        yield s, DCTERMS.description, Literal(text, lang=lang)
    for suffix in FORMATS:
        yield s, VOID.dataDump, URIRef(dump_url(scheme, suffix))
    levels = reference_codes.LEVELS[scheme]
    yield s, XKOS.numberOfLevels, Literal(len(levels))
    for depth, level in enumerate(levels, start=1):
        lv = level_uri(scheme, level)
        yield lv, RDF.type, SKOS.Collection
        yield lv, RDF.type, XKOS.ClassificationLevel
        id_label, en_label = LEVEL_LABELS[scheme][level]
        yield lv, SKOS.prefLabel, Literal(id_label, lang="id")
        yield lv, SKOS.prefLabel, Literal(en_label, lang="en")
        yield lv, SKOS.notation, Literal(level)
        yield lv, XKOS.depth, Literal(depth)
        yield lv, DCTERMS.isPartOf, s
    for top in tops:
        yield s, SKOS.hasTopConcept, _concept(scheme, top.code)


def concept_triples(scheme: str, code: reference_codes.Code, narrower: Iterable[str]) -> Iterator[Triple]:
    """One code: its notation, name, place in the list and its links."""
    c = _concept(scheme, code.code)
    s = URIRef(uris.scheme_uri(scheme))
    yield c, RDF.type, SKOS.Concept
    yield c, SKOS.notation, Literal(code.code)
    yield c, SKOS.prefLabel, Literal(code.name, lang="id")
    yield c, SKOS.inScheme, s
    if code.parent:
        yield c, SKOS.broader, _concept(scheme, code.parent)
    else:
        yield c, SKOS.topConceptOf, s
    for child in narrower:
        yield c, SKOS.narrower, _concept(scheme, child)
    yield level_uri(scheme, code.level), SKOS.member, c


def label_triples(scheme: str, code: reference_codes.Code) -> Iterator[Triple]:
    """Enough of a neighbouring code to show it without fetching it."""
    c = _concept(scheme, code.code)
    yield c, RDF.type, SKOS.Concept
    yield c, SKOS.notation, Literal(code.code)
    yield c, SKOS.prefLabel, Literal(code.name, lang="id")


def _graph(triples: Iterable[Triple]) -> Graph:
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    for triple in triples:
        graph.add(triple)
    return graph


def concept_graph(scheme: str, code: reference_codes.Code) -> Graph:
    """The document of one code: the code, its parent and children by name,
    its level and the list it belongs to."""
    loaded = edition(scheme)
    kids = reference_codes.children(scheme, code.code)
    parent = reference_codes.get(scheme, code.parent) if code.parent else None

    def triples() -> Iterator[Triple]:
        yield from concept_triples(scheme, code, (k.code for k in kids))
        for neighbour in ([parent] if parent else []) + kids:
            yield from label_triples(scheme, neighbour)
        lv = level_uri(scheme, code.level)
        id_label, en_label = LEVEL_LABELS[scheme][code.level]
        yield lv, RDF.type, SKOS.Collection
        yield lv, SKOS.prefLabel, Literal(id_label, lang="id")
        yield lv, SKOS.prefLabel, Literal(en_label, lang="en")
        yield from scheme_summary_triples(scheme, loaded)

    return _graph(triples())


def scheme_graph(scheme: str) -> Graph:
    tops = reference_codes.children(scheme, None)

    def triples() -> Iterator[Triple]:
        yield from scheme_triples(scheme, edition(scheme), tops)
        for top in tops:
            yield from label_triples(scheme, top)
            yield _concept(scheme, top.code), SKOS.topConceptOf, URIRef(uris.scheme_uri(scheme))

    return _graph(triples())


def serialize(graph: Graph, suffix: str) -> bytes:
    fmt = FORMATS[suffix]
    if suffix == "jsonld":
        context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
        return graph.serialize(format="json-ld", context=context, auto_compact=True,
                               indent=2, encoding="utf-8")
    return graph.serialize(format=fmt.rdflib_name, encoding="utf-8")


# --- whole-scheme dumps ----------------------------------------------------


def _dump_rows(scheme: str) -> Iterator[tuple[reference_codes.Code, list[str]]]:
    """Every code with its children, streamed by a server-side cursor so the
    list is never held in memory whole."""
    code, kid = reference_codes.code_table.alias("c"), reference_codes.code_table.alias("k")
    query = (
        sa.select(code.c.code, code.c.parent, code.c.level, code.c.name,
                  sa.func.array_remove(sa.func.array_agg(sa.text("k.code ORDER BY k.code")),
                                       None).label("children"))
        .select_from(code.outerjoin(kid, sa.and_(kid.c.scheme == code.c.scheme,
                                                 kid.c.parent == code.c.code)))
        .where(code.c.scheme == scheme)
        .group_by(code.c.code, code.c.parent, code.c.level, code.c.name)
        .order_by(code.c.code)
    )
    from ckan import model

    with model.meta.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, max_row_buffer=2000).execute(query)
        for row in result:
            yield (reference_codes.Code(scheme, row.code, row.name, row.level, row.parent),
                   list(row.children or []))


def dump_nodes(scheme: str) -> Iterator[list[Triple]]:
    """The dump as a sequence of small groups of triples (one node each)."""
    loaded = edition(scheme)
    yield list(scheme_triples(scheme, loaded, reference_codes.children(scheme, None)))
    for code, kids in _dump_rows(scheme):
        triples = list(concept_triples(scheme, code, kids))
        # The level's membership goes out as its own group, after the concept.
        yield [t for t in triples if t[1] != SKOS.member]
        yield [t for t in triples if t[1] == SKOS.member]


def _nt_literal(value: Literal) -> str:
    text = (str(value).replace("\\", "\\\\").replace('"', '\\"')
            .replace("\n", "\\n").replace("\r", "\\r"))
    if value.language:
        return f'"{text}"@{value.language}'
    if value.datatype:
        return f'"{text}"^^<{value.datatype}>'
    return f'"{text}"'


def _nt_term(term: Node) -> str:
    return _nt_literal(term) if isinstance(term, Literal) else f"<{term}>"


def _qname(term: URIRef) -> str:
    for prefix, ns in PREFIXES.items():
        if str(term).startswith(str(ns)):
            local = str(term)[len(str(ns)):]
            if local and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", local):
                return f"{prefix}:{local}"
    raise ValueError(f"no prefix for {term}")


def _group(triples: list[Triple]) -> dict[URIRef, list[tuple[URIRef, Node]]]:
    by_subject: dict[URIRef, list[tuple[URIRef, Node]]] = {}
    for s, p, o in triples:
        by_subject.setdefault(s, []).append((p, o))
    return by_subject


def write_turtle(out: IO[str], nodes: Iterable[list[Triple]]) -> None:
    for prefix, ns in PREFIXES.items():
        out.write(f"@prefix {prefix}: <{ns}> .\n")
    for triples in nodes:
        for subject, pairs in _group(triples).items():
            out.write(f"\n<{subject}>")
            sep = " "
            for p, o in pairs:
                pred = "a" if p == RDF.type else _qname(p)
                out.write(f"{sep}{pred} {_nt_term(o)}")
                sep = " ;\n    "
            out.write(" .\n")


def write_ntriples(out: IO[str], nodes: Iterable[list[Triple]]) -> None:
    for triples in nodes:
        for s, p, o in triples:
            out.write(f"<{s}> <{p}> {_nt_term(o)} .\n")


def _jsonld_value(term: Node) -> Any:
    if isinstance(term, Literal):
        if term.language:
            return {"@value": str(term), "@language": term.language}
        if term.datatype:
            return {"@value": str(term), "@type": str(term.datatype)}
        return str(term)
    return {"@id": str(term)}


def write_jsonld(out: IO[str], nodes: Iterable[list[Triple]]) -> None:
    context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
    out.write('{\n"@context": ' + json.dumps(context) + ',\n"@graph": [')
    first = True
    for triples in nodes:
        for subject, pairs in _group(triples).items():
            node: dict[str, Any] = {"@id": str(subject)}
            for p, o in pairs:
                if p == RDF.type:
                    node.setdefault("@type", []).append(_qname(o))
                else:
                    node.setdefault(_qname(p), []).append(_jsonld_value(o))
            out.write(("\n" if first else ",\n") + json.dumps(node, ensure_ascii=False))
            first = False
    out.write("\n]\n}\n")


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_rdfxml(out: IO[str], nodes: Iterable[list[Triple]]) -> None:
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF')
    for prefix, ns in PREFIXES.items():
        out.write(f"\n    xmlns:{prefix}={quoteattr(str(ns))}")
    out.write(">\n")
    for triples in nodes:
        for subject, pairs in _group(triples).items():
            out.write(f"  <rdf:Description rdf:about={quoteattr(str(subject))}>\n")
            for p, o in pairs:
                tag = _qname(p)
                if isinstance(o, Literal):
                    attrs = f" xml:lang={quoteattr(o.language)}" if o.language else ""
                    if o.datatype:
                        attrs += f" rdf:datatype={quoteattr(str(o.datatype))}"
                    text = xml_escape(_XML_INVALID.sub("", str(o)))
                    out.write(f"    <{tag}{attrs}>{text}</{tag}>\n")
                else:
                    out.write(f"    <{tag} rdf:resource={quoteattr(str(o))}/>\n")
            out.write("  </rdf:Description>\n")
    out.write("</rdf:RDF>\n")


WRITERS: dict[str, Callable[[IO[str], Iterable[list[Triple]]], None]] = {
    "ttl": write_turtle, "jsonld": write_jsonld, "rdf": write_rdfxml, "nt": write_ntriples,
}


@dataclass(frozen=True)
class Dump:
    path: str
    media_type: str
    etag: str
    last_modified: datetime.datetime


def dump_key(scheme: str, loaded: dict[str, Any], suffix: str) -> str:
    """Changes with the edition's content, the site's URIs and the RDF shape."""
    raw = "\n".join((scheme, loaded["edition"], loaded["checksum"], uris.site_url(), suffix,
                     DUMP_VERSION))
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def dump_dir() -> str | None:
    base = tk.config.get("ckan.storage_path") or ""
    return os.path.join(base, "umkm", "kode") if base else None


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", text).strip("-").lower()[:60] or "edition"


def dump(scheme: str, suffix: str) -> Dump | None:
    """The dump file of the loaded edition, written on first use; None when
    the list is not loaded. Raises RuntimeError without a storage path."""
    loaded = edition(scheme)
    if loaded is None:
        return None
    directory = dump_dir()
    if directory is None:
        raise RuntimeError("ckan.storage_path is not configured")
    os.makedirs(directory, exist_ok=True)
    key = dump_key(scheme, loaded, suffix)
    path = os.path.join(directory, f"{scheme}-{_slug(loaded['edition'])}-{key}.{suffix}")
    last_modified = datetime.datetime.fromisoformat(loaded["loaded_at"]).replace(
        tzinfo=datetime.UTC, microsecond=0)
    result = Dump(path, FORMATS[suffix].media_type, key, last_modified)
    if os.path.exists(path):
        return result
    # One writer at a time; the others wait for its file instead of writing their own.
    with open(os.path.join(directory, f".{scheme}.{suffix}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(path):
            write_dump(scheme, suffix, path)
            for old in glob.glob(os.path.join(directory, f"{scheme}-*.{suffix}")):
                if old != path:
                    with contextlib.suppress(OSError):
                        os.remove(old)
    return result


def write_dump(scheme: str, suffix: str, path: str) -> None:
    """Write the dump to ``path`` atomically (a temporary file renamed)."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{scheme}-", suffix=f".{suffix}.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            WRITERS[suffix](out, dump_nodes(scheme))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a front web server may serve it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
