"""CKAN 2.11's Solr schema (ckan/config/solr/schema.xml) as a field model.

The service has no schema file of its own: this module is the single source
of truth for field types, which fields are stored/multi-valued, the dynamic
field patterns and the copyField rules, and it renders the schema XML that
CKAN fetches to check the schema version.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

SCHEMA_NAME = "ckan-2.11"
SCHEMA_VERSION = "1.6"
UNIQUE_KEY = "index_id"


class Kind(enum.Enum):
    """How a field is analysed and indexed (Solr fieldType classes)."""

    STRING = "string"  # solr.StrField: exact, unanalysed
    TEXT = "text"  # stemmed, word-delimited full text
    TEXT_GENERAL = "text_general"  # word-delimited, lowercased, unstemmed
    NGRAM = "text_ngram"  # 2..10 character n-grams, for autocomplete
    INT = "int"
    DATE = "date"
    BINARY = "binary"  # stored only


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    indexed: bool = True
    stored: bool = True
    multi: bool = False
    dynamic: bool = False  # matched a dynamicField pattern, not a <field>

    @property
    def sortable(self) -> bool:
        return self.indexed and not self.multi and self.kind in (Kind.STRING, Kind.INT, Kind.DATE)


def _f(name: str, kind: Kind, indexed: bool = True, stored: bool = True, multi: bool = False) -> Field:
    return Field(name, kind, indexed, stored, multi)


S, T, TG, NG, I, D = Kind.STRING, Kind.TEXT, Kind.TEXT_GENERAL, Kind.NGRAM, Kind.INT, Kind.DATE  # noqa: E741 (schema.xml type letters)

# <fields> of schema.xml, in its order.
STATIC_FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        _f("index_id", S),
        _f("id", S),
        _f("site_id", S),
        _f("title", T),
        _f("title_ngram", NG),
        _f("entity_type", S),
        _f("dataset_type", S),
        _f("state", S),
        _f("name", S),
        _f("name_ngram", NG),
        _f("revision_id", S),
        _f("version", S),
        _f("url", S),
        _f("ckan_url", S),
        _f("download_url", S),
        _f("notes", T),
        _f("author", TG),
        _f("author_email", TG),
        _f("maintainer", TG),
        _f("maintainer_email", TG),
        _f("license", S),
        _f("license_id", S),
        _f("tags", S, multi=True),
        _f("groups", S, multi=True),
        _f("organization", S),
        _f("capacity", S),
        _f("permission_labels", S, stored=False, multi=True),
        _f("res_name", TG, multi=True),
        _f("res_description", TG, multi=True),
        _f("res_format", S, multi=True),
        _f("res_url", S, multi=True),
        _f("res_type", S, multi=True),
        _f("text", T, stored=False, multi=True),
        _f("urls", T, stored=False, multi=True),
        _f("depends_on", T, stored=False, multi=True),
        _f("dependency_of", T, stored=False, multi=True),
        _f("derives_from", T, stored=False, multi=True),
        _f("has_derivation", T, stored=False, multi=True),
        _f("links_to", T, stored=False, multi=True),
        _f("linked_from", T, stored=False, multi=True),
        _f("child_of", T, stored=False, multi=True),
        _f("parent_of", T, stored=False, multi=True),
        _f("views_total", I, stored=False),
        _f("views_recent", I, stored=False),
        _f("resources_accessed_total", I, stored=False),
        _f("resources_accessed_recent", I, stored=False),
        _f("metadata_created", D),
        _f("metadata_modified", D),
        _f("indexed_ts", D),
        _f("title_string", S, stored=False),
        _f("data_dict", Kind.BINARY, indexed=False),
        _f("validated_data_dict", Kind.BINARY, indexed=False),
        _f("_version_", S),
    ]
}

# <dynamicField> patterns, most specific first as Solr resolves them
# (longer patterns win; "*" is the catch-all).
DYNAMIC_PATTERNS: list[tuple[str, str, Field]] = [
    ("suffix", "_date", Field("*_date", D, dynamic=True)),
    ("prefix", "res_extras_", Field("res_extras_*", T, multi=True, dynamic=True)),
    ("prefix", "extras_", Field("extras_*", T, dynamic=True)),
    ("prefix", "vocab_", Field("vocab_*", S, multi=True, dynamic=True)),
]
CATCH_ALL = Field("*", S, stored=False, dynamic=True)

# copyField rules: source (exact name or "prefix*") -> destinations.
_COPY_EXACT: dict[str, tuple[str, ...]] = {
    "url": ("urls",),
    "ckan_url": ("urls",),
    "download_url": ("urls",),
    "res_url": ("urls",),
    "title": ("title_ngram", "text"),
    "name": ("name_ngram", "text"),
    "license": ("text",),
    "notes": ("text",),
    "tags": ("text",),
    "groups": ("text",),
    "organization": ("text",),
    "res_name": ("text",),
    "res_description": ("text",),
    "maintainer": ("text",),
    "author": ("text",),
    # urls -> text is applied transitively (see copy_targets).
}
_COPY_PREFIX: tuple[tuple[str, str], ...] = (
    ("extras_", "text"),
    ("res_extras_", "text"),
    ("vocab_", "text"),
)


@functools.lru_cache(maxsize=4096)
def resolve(name: str) -> Field:
    """The field definition for a field name, static or dynamic."""
    static = STATIC_FIELDS.get(name)
    if static is not None:
        return static
    best: Field | None = None
    best_len = -1
    for how, affix, field in DYNAMIC_PATTERNS:
        hit = name.endswith(affix) if how == "suffix" else name.startswith(affix)
        # Solr prefers the longest matching pattern.
        if hit and len(affix) > best_len and len(name) > len(affix):
            best, best_len = field, len(affix)
    base = best or CATCH_ALL
    return Field(name, base.kind, base.indexed, base.stored, base.multi, dynamic=True)


@functools.lru_cache(maxsize=4096)
def copy_targets(name: str) -> tuple[str, ...]:
    """Fields a source field is copied into (copyField), transitively for urls."""
    out: list[str] = list(_COPY_EXACT.get(name, ()))
    for prefix, dest in _COPY_PREFIX:
        if name.startswith(prefix) and len(name) > len(prefix):
            out.append(dest)
    if "urls" in out:
        out.append("text")  # <copyField source="urls" dest="text"/>
    seen: list[str] = []
    for dest in out:
        if dest not in seen and dest != name:
            seen.append(dest)
    return tuple(seen)


def schema_xml() -> str:
    """A schema.xml describing this field model; CKAN reads its name attribute."""
    types = {
        Kind.STRING: '<fieldType name="string" class="solr.StrField" sortMissingLast="true" omitNorms="true"/>',
        Kind.TEXT: '<fieldType name="text" class="solr.TextField" positionIncrementGap="100"/>',
        Kind.TEXT_GENERAL: '<fieldType name="text_general" class="solr.TextField" positionIncrementGap="100"/>',
        Kind.NGRAM: '<fieldType name="text_ngram" class="solr.TextField" positionIncrementGap="100"/>',
        Kind.INT: '<fieldType name="int" class="solr.IntPointField" omitNorms="true"/>',
        Kind.DATE: '<fieldType name="date" class="solr.DatePointField" omitNorms="true"/>',
        Kind.BINARY: '<fieldType name="binary" class="solr.BinaryField"/>',
    }
    lines = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        f'<schema name="{SCHEMA_NAME}" version="{SCHEMA_VERSION}">',
        "<types>",
        *("  " + t for t in types.values()),
        "</types>",
        "<fields>",
    ]

    def attrs(f: Field) -> str:
        kind = "string" if f.kind is Kind.BINARY else f.kind.value
        return (
            f"name={quoteattr(f.name)} type={quoteattr(kind)} indexed=\"{str(f.indexed).lower()}\""
            f" stored=\"{str(f.stored).lower()}\" multiValued=\"{str(f.multi).lower()}\""
        )

    for f in STATIC_FIELDS.values():
        lines.append(f"  <field {attrs(f)}/>")
    for _how, _affix, f in DYNAMIC_PATTERNS:
        lines.append(f"  <dynamicField {attrs(f)}/>")
    lines.append(f"  <dynamicField {attrs(CATCH_ALL)}/>")
    lines.append("</fields>")
    lines.append(f"<uniqueKey>{UNIQUE_KEY}</uniqueKey>")
    for src, dests in _COPY_EXACT.items():
        for dest in dests:
            lines.append(f'<copyField source="{src}" dest="{dest}"/>')
    for prefix, dest in _COPY_PREFIX:
        lines.append(f'<copyField source="{prefix}*" dest="{dest}"/>')
    lines.append('<copyField source="urls" dest="text"/>')
    lines.append("</schema>")
    return "\n".join(lines) + "\n"


def schema_json() -> dict[str, object]:
    """The Schema API's JSON view (GET /schema)."""

    def desc(f: Field) -> dict[str, object]:
        return {
            "name": f.name,
            "type": "string" if f.kind is Kind.BINARY else f.kind.value,
            "indexed": f.indexed,
            "stored": f.stored,
            "multiValued": f.multi,
        }

    return {
        "name": SCHEMA_NAME,
        "version": float(SCHEMA_VERSION),
        "uniqueKey": UNIQUE_KEY,
        "fields": [desc(f) for f in STATIC_FIELDS.values()],
        "dynamicFields": [desc(f) for _h, _a, f in DYNAMIC_PATTERNS] + [desc(CATCH_ALL)],
    }
