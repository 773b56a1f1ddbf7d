"""One Solr core backed by a tantivy index: upsert, delete, commit, search, facets.

Layout of the tantivy schema (fixed; schema.xml's dynamic fields are mapped
onto a few shared tantivy fields so no schema change is ever needed):

  s_<name>   static string fields: raw term, fast (facets, sorting)
  t_<name>   static text fields: pre-analysed tokens, positions
  n_<name>   title_ngram / name_ngram: the lowercased value as one term
  i_<name>   static int/date fields: i64 (dates as epoch ms), indexed + fast
  _ds        dynamic string fields as 'name:value' raw terms
  _dt        dynamic text fields as 'name:token' tokens, positions
  _dd        dynamic date fields as 'name:<16-digit ms>' raw terms (ranges by regex)
  _dsf/_ddf  JSON fast fields {name: value} for faceting/sorting dynamic fields
  _has       names of the fields a document has (field:* / [* TO *])
  _src       the normalised document (JSON text), stored only
  _raw       its long single string values (CKAN's data_dict and
             validated_data_dict), stored as they are, in the order of _src's
             {"$raw": n} placeholders: JSON-escaping them again cost more than
             all the rest of writing the document

Writes go through one IndexWriter per core under a lock; a commit reloads the
reader so the next search sees it (Solr's commit + waitSearcher). Searches
take the current searcher and never wait for the writer.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import tantivy

from . import analysis
from .dates import DateError, format_date, now_ms, parse_date
from .query import (
    MAX_TERM_BYTES,
    MUST,
    MUST_NOT,
    Context,
    QuerySyntaxError,
    boolean,
    encode_date_token,
    exists_query,
    fast_field,
    is_match_all_text,
    match_none,
    parse_query_param,
    range_query,
    split_local_params,
    tantivy_field,
)
from .schema import STATIC_FIELDS, UNIQUE_KEY, Field, Kind, copy_targets, resolve

log = logging.getLogger(__name__)

Q = tantivy.Query
LAYOUT_VERSION = 2
LAYOUT_FILE = "umkm-search-layout.json"
# tantivy's aggregation bucket limit; also our cap for unlimited facets.
# (Lower only in tests: the environment variable lets them page past it cheaply.)
MAX_BUCKETS = int(os.environ.get("UMKM_SEARCH_MAX_BUCKETS") or 65000)
# How far past the requested page we look for documents tied on the first
# sort key before giving up on exact secondary ordering.
MAX_TIE_WINDOW = 2000
REQUIRED_FIELDS = ("index_id", "id", "site_id")
# Pages ending past this many hits get their count first, which bounds the
# size of the page search (tantivy keeps a heap of that many hits).
COUNT_WITH_PAGE_MAX = 10_000
RAW_MIN_CHARS = 512  # string values at least this long are stored in _raw


class SolrError(Exception):
    """An error answered to the client in Solr's JSON error shape."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for f in STATIC_FIELDS.values():
        if not f.indexed:
            continue
        name = tantivy_field(f)
        if f.kind is Kind.STRING:
            sb.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
        elif f.kind in (Kind.INT, Kind.DATE):
            sb.add_integer_field(name, stored=False, indexed=True, fast=True)
        elif f.kind is Kind.NGRAM:
            # The lowercased value as one term; n-gram matching is a substring
            # match over it at query time (see query.ngram_query).
            sb.add_text_field(name, stored=False, tokenizer_name="lower_raw", index_option="basic")
        else:
            sb.add_text_field(name, stored=False, tokenizer_name="ws", index_option="position")
    # Field names never contain whitespace: one space-joined value per document.
    sb.add_text_field("_has", stored=False, tokenizer_name="ws", index_option="basic")
    sb.add_text_field("_ds", stored=False, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("_dd", stored=False, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("_dt", stored=False, tokenizer_name="ws", index_option="position")
    sb.add_json_field("_dsf", stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_json_field("_ddf", stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    # Stored only: the "none" tokenizer yields no terms. (A text field, because
    # tantivy-py copies bytes values element by element.)
    sb.add_text_field("_src", stored=True, tokenizer_name="none", index_option="basic")
    sb.add_text_field("_raw", stored=True, tokenizer_name="none", index_option="basic")
    return sb.build()


def register_tokenizers(index: tantivy.Index) -> None:
    index.register_tokenizer("ws", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    index.register_tokenizer("lower_raw", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.lowercase()).build())
    index.register_tokenizer("none", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.remove_long(1)).build())


# ------------------------------------------------------------------ documents


@dataclass
class PreparedDoc:
    index_id: str
    doc: tantivy.Document


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None]
    return [value]


def _to_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def _to_int(v: Any, doc_id: str, name: str) -> int:
    if isinstance(v, bool):
        raise SolrError(400, f"ERROR: [doc={doc_id}] Error adding field '{name}'='{v}' msg=For input string: \"{v}\"")
    try:
        if isinstance(v, float) and v.is_integer():
            n = int(v)
        else:
            n = int(str(v).strip())
    except ValueError:
        raise SolrError(400, f"ERROR: [doc={doc_id}] Error adding field '{name}'='{v}' msg=For input string: \"{v}\"") from None
    if not -(2**63) <= n < 2**63:
        raise SolrError(400, f"ERROR: [doc={doc_id}] Error adding field '{name}'='{v}' msg=Number out of range")
    return n


@dataclass(frozen=True)
class _Plan:
    """What indexing does with one field name (computed once per name)."""

    field: Field
    tantivy: str | None  # inverted-index field, None when not indexed
    number: bool  # int or date
    copies: tuple[tuple[str, Field], ...]  # copyField destinations


@functools.lru_cache(maxsize=8192)
def _plan(name: str) -> _Plan | None:
    """None for a name Solr would reject."""
    if not name or ":" in name or any(c.isspace() for c in name):
        return None
    f = resolve(name)
    return _Plan(
        field=f,
        tantivy=tantivy_field(f) if f.indexed else None,
        number=f.kind in (Kind.INT, Kind.DATE),
        copies=tuple((dest, resolve(dest)) for dest in copy_targets(name)),
    )


def prepare_document(raw: Any, version: int) -> PreparedDoc:
    """Validate and convert one Solr JSON document (raises SolrError 400)."""
    if not isinstance(raw, dict):
        raise SolrError(400, "Document must be a JSON object")
    key = raw.get(UNIQUE_KEY)
    if isinstance(key, list) and len(key) == 1:
        key = key[0]
    if key is None or key == "" or isinstance(key, (list, dict)):
        raise SolrError(400, f"Document is missing mandatory uniqueKey field: {UNIQUE_KEY}")
    doc_id = _to_text(key)
    for req in REQUIRED_FIELDS:
        if raw.get(req) in (None, "", []):
            raise SolrError(400, f"[doc={doc_id}] missing required field: {req}")

    src: dict[str, Any] = {}
    texts: dict[str, list[str]] = {}  # indexed string/text values, incl. copies
    nums: dict[str, list[int]] = {}
    for name, value in raw.items():
        plan = _plan(name) if isinstance(name, str) else None
        if plan is None:
            raise SolrError(400, f"ERROR: [doc={doc_id}] invalid field name: {name!r}")
        if value is None or value == "":
            continue  # pysolr drops these too; Solr treats them as absent
        f = plan.field
        if type(value) is str:
            values: list[Any] = [value]
        else:
            values = _as_list(value)
            if plan.number:
                values = [v for v in values if v != ""]
            if not values:
                continue
            if not f.multi and len(values) > 1 and f.stored:
                shown = ", ".join(_to_text(v) for v in values)
                raise SolrError(400, f"ERROR: [doc={doc_id}] multiple values encountered for non multiValued field {name}: [{shown}]")
        if f.kind is Kind.DATE:
            try:
                ms_vals = [parse_date(_to_text(v)) for v in values]
            except DateError as e:
                raise SolrError(400, f"ERROR: [doc={doc_id}] Error adding field '{name}'='{values[0]}' msg={e}") from None
            nums[name] = ms_vals
            out: list[Any] = [format_date(ms) for ms in ms_vals]
        elif f.kind is Kind.INT:
            ints = [_to_int(v, doc_id, name) for v in values]
            nums[name] = ints
            out = list(ints)
        else:
            out = values if type(value) is str else [_to_text(v) for v in values]
            if plan.tantivy is not None:
                texts.setdefault(name, []).extend(out)
            for dest, dest_f in plan.copies:
                texts.setdefault(dest, []).extend(out)
                if dest_f.stored:
                    prev = src.get(dest)
                    merged = (prev if isinstance(prev, list) else [prev] if prev is not None else []) + out
                    src[dest] = merged if dest_f.multi else merged[0]
        src[name] = out if f.multi or len(out) > 1 else out[0]

    if "indexed_ts" not in src:
        ts = now_ms()
        nums["indexed_ts"] = [ts]
        src["indexed_ts"] = format_date(ts)
    src["_version_"] = str(version)
    texts.setdefault("_version_", []).append(str(version))
    # urls is itself copied into text (handled by copy_targets for its sources).

    doc = tantivy.Document()
    dsf: dict[str, list[str]] = {}
    ddf: dict[str, int] = {}
    has: list[str] = []
    for name, vals in texts.items():
        plan = _plan(name)
        assert plan is not None
        f, tf = plan.field, plan.tantivy
        if tf is None:
            continue
        added = False
        if f.kind is Kind.STRING:
            prefix = name + ":" if f.dynamic else ""
            seen: set[str] = set()
            for v in vals:
                if v in seen:
                    continue
                seen.add(v)
                term = prefix + v
                if len(term) * 4 > MAX_TERM_BYTES and len(term.encode("utf-8")) > MAX_TERM_BYTES:
                    continue  # Lucene would reject an immense term; keep it stored only
                doc.add_text(tf, term)
                if f.dynamic:
                    dsf.setdefault(name, []).append(v)
                added = True
        elif f.kind is Kind.NGRAM:
            for v in vals:
                if len(v) * 4 > MAX_TERM_BYTES:
                    v = v.encode("utf-8")[:MAX_TERM_BYTES].decode("utf-8", "ignore")
                doc.add_text(tf, v)
                added = True
        else:
            for v in vals:
                toks = analysis.index_tokens(v, f.kind)
                if not toks:
                    continue
                if f.dynamic:
                    toks = " ".join(name + ":" + t for t in toks.split(" "))
                doc.add_text(tf, toks)
                added = True
        if added:
            has.append(name)
    for name, ns in nums.items():
        plan = _plan(name)
        assert plan is not None and plan.tantivy is not None
        if plan.field.dynamic:
            for n in ns:
                doc.add_text("_dd", f"{name}:{encode_date_token(n)}")
            ddf[name] = ns[0]
        else:
            for n in ns:
                doc.add_integer(plan.tantivy, n)
        has.append(name)
    doc.add_text("_has", " ".join(has))
    if dsf:
        doc.add_json("_dsf", dsf)
    if ddf:
        doc.add_json("_ddf", ddf)
    raw_count = 0
    for name, v in src.items():
        if type(v) is str and len(v) >= RAW_MIN_CHARS:
            doc.add_text("_raw", v)
            src[name] = {"$raw": raw_count}  # src never holds objects otherwise
            raw_count += 1
    doc.add_text("_src", orjson.dumps(src).decode("utf-8"))
    return PreparedDoc(doc_id, doc)


def load_source(doc: tantivy.Document) -> dict[str, Any]:
    """The stored fields of a document, as prepare_document kept them."""
    src: dict[str, Any] = orjson.loads(doc.get_first("_src"))
    raws: list[str] | None = None
    for name, v in src.items():
        if type(v) is dict:
            if raws is None:
                raws = doc.get_all("_raw")
            src[name] = raws[v["$raw"]]
    return src


# ---------------------------------------------------------------- parameters

Params = Mapping[str, Sequence[str]]


def _first(params: Params, name: str, default: str | None = None) -> str | None:
    vals = params.get(name)
    return vals[0] if vals else default


def _int_param(params: Params, name: str, default: int) -> int:
    raw = _first(params, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SolrError(400, f'For input string: "{raw}"') from None


def _bool_param(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "on", "yes", "1")


@dataclass
class SortKey:
    kind: str  # score | num | str | docid
    desc: bool
    field: Field | None = None
    fast: str | None = None


def parse_sort(spec: str) -> list[SortKey]:
    keys: list[SortKey] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split()
        if len(parts) != 2 or parts[1].lower() not in ("asc", "desc"):
            raise SolrError(400, f"Can't determine a Sort Order (asc or desc) in sort spec '{spec}', pos={len(spec)}")
        name, desc = parts[0], parts[1].lower() == "desc"
        if name == "score":
            keys.append(SortKey("score", desc))
            continue
        if name == "_docid_":
            keys.append(SortKey("docid", desc))
            continue
        if "(" in name or ")" in name:
            raise SolrError(400, f"sort by function is not supported: {name}")
        f = resolve(name)
        if not f.indexed:
            raise SolrError(400, f"can not sort on unindexed field: {name}")
        if f.multi:
            raise SolrError(400, f"can not sort on multivalued field: {name} of type: {f.kind.value}")
        if f.kind not in (Kind.STRING, Kind.INT, Kind.DATE):
            raise SolrError(
                400,
                "can not sort on a field w/o docValues unless it is indexed=true uninvertible=true "
                f"and the type supports Uninversion: {name}",
            )
        keys.append(SortKey("num" if f.kind in (Kind.INT, Kind.DATE) else "str", desc, f, fast_field(f)))
    return keys


def parse_fl(fl: str | None) -> tuple[bool, bool, list[str]]:
    """fl -> (all stored fields?, score?, explicit names/globs)."""
    if fl is None or not fl.strip():
        return True, False, []
    want_all, want_score = False, False
    names: list[str] = []
    for item in fl.replace(",", " ").split():
        if item == "*":
            want_all = True
        elif item == "score":
            want_score = True
        elif item.startswith("["):
            continue  # doc transformers are not supported
        else:
            names.append(item.split(":", 1)[1] if ":" in item and not item.startswith(":") else item)
    if not names and not want_all and not want_score:
        want_all = True
    return want_all, want_score, names


def _select_fields(src: dict[str, Any], want_all: bool, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    globs = tuple(n[:-1] for n in names if n.endswith("*"))
    if want_all or globs:
        chosen: Iterable[str] = src if want_all else [n for n in src if n in names or n.startswith(globs)]
    else:
        chosen = [n for n in names if n in src]  # the usual fl=id,validated_data_dict
    for name in chosen:
        f = resolve(name)
        if f.stored:
            value = src[name]
            out[name] = value if not f.multi or isinstance(value, list) else [value]
    return out


# ---------------------------------------------------------------------- core


@dataclass
class _Filter:
    query: Q
    tags: set[str] = field(default_factory=set)


class _Cache:
    """Tiny LRU for facet/count results of one searcher generation."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


class Core:
    def __init__(self, name: str, path: str, heap_bytes: int = 48_000_000, autocommit_ms: int = 5000) -> None:
        self.name = name
        self.path = path
        os.makedirs(path, exist_ok=True)
        layout_path = os.path.join(path, LAYOUT_FILE)
        schema = build_schema()
        if tantivy.Index.exists(path):
            try:
                with open(layout_path, encoding="utf-8") as fh:
                    layout = json.load(fh).get("layout")
            except (OSError, ValueError):
                layout = None
            if layout != LAYOUT_VERSION:
                raise RuntimeError(
                    f"index in {path} has layout {layout!r}, this service needs {LAYOUT_VERSION}; "
                    "move it away and run `ckan search-index rebuild`"
                )
        self.index = tantivy.Index(schema, path=path, reuse=True)
        with open(layout_path, "w", encoding="utf-8") as fh:
            json.dump({"layout": LAYOUT_VERSION}, fh)
        register_tokenizers(self.index)
        self.index.config_reader("manual")
        self.schema = self.index.schema
        self._writer = self.index.writer(heap_bytes, 1)
        self._write_lock = threading.Lock()
        self._pending = 0  # operations since the last commit
        self._generation = 0  # bumped on every reader reload
        self._version = time.time_ns() // 1000
        self._version_lock = threading.Lock()
        self._cache = _Cache()
        self._closed = threading.Event()
        self._autocommit_ms = autocommit_ms
        if autocommit_ms > 0:
            threading.Thread(target=self._autocommit_loop, name=f"autocommit-{name}", daemon=True).start()

    # ------------------------------------------------------------ writing

    def update(
        self,
        adds: Sequence[Any],
        delete_ids: Sequence[str],
        delete_queries: Sequence[str],
        commit: bool,
        now: int | None = None,
    ) -> None:
        """Apply one update request; everything is validated before any write."""
        with self._version_lock:
            first = self._version + 1
            self._version += len(adds)
        prepared = [prepare_document(d, first + i) for i, d in enumerate(adds)]
        ctx = Context(self.schema, {}, df="text", q_op="OR", now=now)
        del_queries: list[Q] = []
        for text in delete_queries:
            q, _lp = self._parse(text, ctx, "lucene")
            del_queries.append(q if q is not None else match_none())
        with self._write_lock:
            try:
                for did in delete_ids:
                    self._writer.delete_documents_by_term("s_" + UNIQUE_KEY, str(did))
                for q in del_queries:
                    self._writer.delete_documents_by_query(q)
                for p in prepared:
                    self._writer.delete_documents_by_term("s_" + UNIQUE_KEY, p.index_id)
                    self._writer.add_document(p.doc)
            except Exception:
                # Never leave a half-applied request behind.
                log.exception("update failed, rolling back uncommitted changes")
                self._writer.rollback()
                self._pending = 0
                raise
            self._pending += len(delete_ids) + len(del_queries) + len(prepared)
            if commit:
                self._commit_locked()

    def commit(self) -> None:
        with self._write_lock:
            self._commit_locked()

    def _commit_locked(self) -> None:
        if self._pending:
            self._writer.commit()
            self._pending = 0
        self.index.reload()
        self._generation += 1
        self._cache.clear()

    def _autocommit_loop(self) -> None:
        # Like Solr's autoCommit: uncommitted changes become durable and
        # visible within autocommit_ms even if no client commits.
        while not self._closed.wait(self._autocommit_ms / 1000):
            if self._pending:
                try:
                    self.commit()
                except Exception:
                    log.exception("autocommit failed")

    def close(self) -> None:
        self._closed.set()
        with self._write_lock:
            if self._pending:
                self._writer.commit()
                self._pending = 0

    def num_docs(self) -> int:
        return self.index.searcher().num_docs

    # ------------------------------------------------------------ reading

    def _parse(self, text: str, ctx: Context, def_type: str, opts: Mapping[str, str | None] | None = None) -> tuple[Q | None, Any]:
        try:
            return parse_query_param(text, ctx, def_type, opts)
        except QuerySyntaxError as e:
            raise SolrError(400, str(e)) from None
        except ValueError as e:  # tantivy rejected a generated query (e.g. regex)
            raise SolrError(400, f"org.apache.solr.search.SyntaxError: {e}") from None

    def select(self, params: Params) -> dict[str, Any]:
        started = time.perf_counter()
        searcher = self.index.searcher()
        generation = self._generation
        now = now_ms()
        q_op = (_first(params, "q.op") or "OR").upper()
        if q_op not in ("AND", "OR"):
            raise SolrError(400, f"Invalid q.op: {q_op}")
        ctx = Context(self.schema, params, df=_first(params, "df") or "text", q_op=q_op, now=now)
        def_type = _first(params, "defType") or "lucene"
        opts = {k: _first(params, k) for k in ("qf", "mm", "tie", "bq", "q.alt")}

        q_text = _first(params, "q")
        if q_text is None or not q_text.strip():
            main: Q | None = tantivy.Query.all_query()
            constant_score = True
        else:
            main, _lp = self._parse(q_text, ctx, def_type, opts)
            body = split_local_params(q_text)
            constant_score = is_match_all_text(body.body if body and body.type is None else q_text)

        filters: list[_Filter] = []
        for fq in params.get("fq", []):
            if not fq or not fq.strip():
                continue
            fq_q, fq_lp = self._parse(fq, ctx, "lucene")
            tags: set[str] = set()
            if fq_lp is not None:
                for t in fq_lp.params.get("tag", []):
                    tags.update(x.strip() for x in t.split(",") if x.strip())
            filters.append(_Filter(fq_q if fq_q is not None else match_none(), tags))

        query = self._combine(main, filters)

        start = _int_param(params, "start", 0)
        rows = _int_param(params, "rows", 10)
        if start < 0 or rows < 0:
            raise SolrError(400, "'start' and 'rows' parameters must be non-negative")
        sort_spec = _first(params, "sort")
        keys = parse_sort(sort_spec) if sort_spec and sort_spec.strip() else [SortKey("score", True)]
        if constant_score:
            keys = [k for k in keys if k.kind != "score"]
        if not keys or keys[-1].kind != "docid":
            keys.append(SortKey("docid", False))
        want_all, want_score, names = parse_fl(_first(params, "fl"))

        count_key = ("q", q_text, def_type, q_op, ctx.df, tuple(sorted(opts.items())), tuple(params.get("fq", [])))
        total = self._cached_count(generation, count_key)
        if total is None and start + rows > COUNT_WITH_PAGE_MAX:
            total = self._count(searcher, query, generation, count_key)
        # Without a known count, the page's own search also counts the
        # matches: one pass over them instead of two.
        pager = _Pager(searcher, self.schema, ctx, count_root=query if total is None else None)
        limit = start + rows if total is None else min(start + rows, total)
        page = pager.page(query, keys, start, limit - start) if limit > start else []
        if total is None:
            total = pager.count if pager.count is not None else self._count(searcher, query, generation, count_key)
            self._store_count(generation, count_key, total)

        docs = []
        max_score: float | None = None
        if want_score:
            max_score = 1.0 if constant_score else 0.0
            if not constant_score and total:
                top = searcher.search(query, 1, count=False).hits
                max_score = float(top[0][0]) if top else 0.0
        for addr, score in page:
            src = pager.source(addr)
            out = _select_fields(src, want_all, names)
            if want_score:
                if score is None:
                    score = 1.0 if constant_score else _explain_score(query, searcher, addr)
                out["score"] = float(score)
            docs.append(out)

        response: dict[str, Any] = {"numFound": total, "start": start}
        if want_score:
            response["maxScore"] = max_score
        response["numFoundExact"] = True
        response["docs"] = docs
        result: dict[str, Any] = {
            "responseHeader": {"status": 0, "QTime": 0, "params": _echo(params)},
            "response": response,
        }
        if _bool_param(_first(params, "facet")):
            result["facet_counts"] = self._facets(searcher, generation, params, ctx, main, filters, query)
        result["responseHeader"]["QTime"] = int((time.perf_counter() - started) * 1000)
        return result

    @staticmethod
    def _combine(main: Q | None, filters: Iterable[_Filter]) -> Q:
        clauses: list[tuple[tantivy.Occur, Q]] = [(MUST, main if main is not None else match_none())]
        # Filters are required and score nothing, so q can never widen them.
        clauses.extend((MUST, Q.const_score_query(f.query, 0.0)) for f in filters)
        if len(clauses) == 1:
            return clauses[0][1]
        return Q.boolean_query(clauses)

    def _cached_count(self, generation: int, key: Any) -> int | None:
        if "NOW" in repr(key):
            return None  # date math moves with the clock; never serve it from cache
        hit = self._cache.get(("count", generation, key))
        return None if hit is None else int(hit)

    def _store_count(self, generation: int, key: Any, count: int) -> None:
        if generation == self._generation and "NOW" not in repr(key):
            self._cache.put(("count", generation, key), count)

    def _count(self, searcher: tantivy.Searcher, query: Q, generation: int, key: Any) -> int:
        count = self._cached_count(generation, key)
        if count is None:
            count = searcher.search(query, 1, count=True).count or 0
            self._store_count(generation, key, count)
        return count

    # ----------------------------------------------------------- faceting

    def _facets(
        self,
        searcher: tantivy.Searcher,
        generation: int,
        params: Params,
        ctx: Context,
        main: Q | None,
        filters: list[_Filter],
        query: Q,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "facet_queries": {},
            "facet_fields": {},
            "facet_ranges": {},
            "facet_intervals": {},
            "facet_heatmaps": {},
        }
        cache_key = (
            "facets",
            generation,
            tuple(sorted((k, tuple(v)) for k, v in params.items() if k not in ("start", "rows", "sort", "fl", "wt", "json.nl"))),
        )
        cacheable = "NOW" not in repr(cache_key)
        cached = self._cache.get(cache_key) if cacheable else None
        if cached is not None:
            return orjson.loads(cached)

        for fq_text in params.get("facet.query", []):
            fq_q, fq_lp = self._parse(fq_text, ctx, "lucene")
            base = self._facet_base(main, filters, fq_lp, query)
            key = fq_text
            if fq_lp is not None and "key" in fq_lp.params:
                key = fq_lp.params["key"][0]
            sub = Q.boolean_query([(MUST, base), (MUST, fq_q if fq_q is not None else match_none())])
            out["facet_queries"][key] = searcher.search(sub, 1, count=True).count or 0

        specs: list[_FacetSpec] = []
        for raw in params.get("facet.field", []):
            specs.append(_FacetSpec.parse(raw, params))
        # Group facets that share a base query into one aggregation pass.
        groups: dict[frozenset[str], list[_FacetSpec]] = {}
        for spec in specs:
            groups.setdefault(frozenset(spec.ex), []).append(spec)
        for ex, group in groups.items():
            base = query if not ex else self._combine(main, [f for f in filters if not (f.tags & ex)])
            filter_only = self._combine(Q.all_query(), [f for f in filters if not (f.tags & ex)])
            self._facet_group(searcher, base, filter_only, group, out["facet_fields"])
        if cacheable and generation == self._generation:
            self._cache.put(cache_key, orjson.dumps(out))
        return out

    def _facet_base(self, main: Q | None, filters: list[_Filter], lp: Any, query: Q) -> Q:
        ex: set[str] = set()
        if lp is not None:
            for e in lp.params.get("ex", []):
                ex.update(x.strip() for x in e.split(","))
        if not ex:
            return query
        return self._combine(main, [f for f in filters if not (f.tags & ex)])

    def _facet_group(
        self,
        searcher: tantivy.Searcher,
        base: Q,
        filter_only: Q,
        specs: list[_FacetSpec],
        out: dict[str, Any],
    ) -> None:
        aggs: dict[str, Any] = {}
        for i, spec in enumerate(specs):
            if spec.fast is None:
                continue
            aggs[f"f{i}"] = spec.agg(spec.initial_size())
        results = _aggregate(searcher, base, aggs) if aggs else {}
        for i, spec in enumerate(specs):
            if spec.fast is None:
                out[spec.key] = []
                continue
            buckets, truncated = _buckets(results.get(f"f{i}"))
            if truncated and spec.needs_more(buckets):
                buckets, truncated = _buckets(_aggregate(searcher, base, {"x": spec.agg(MAX_BUCKETS)}).get("x"))
            counts = {spec.format_key(b["key"]): b["doc_count"] for b in buckets}
            if spec.mincount <= 0:
                # Zero-count terms come only from documents the filters allow,
                # never from the whole index (that would leak private values).
                universe, _t = _buckets(_aggregate(searcher, filter_only, {"x": spec.agg(MAX_BUCKETS, 1)}).get("x"))
                for b in universe:
                    counts.setdefault(spec.format_key(b["key"]), 0)
            items = [(k, c) for k, c in counts.items() if c >= spec.mincount and k.startswith(spec.prefix)]
            if spec.sort == "index":
                items.sort(key=lambda kc: spec.index_key(kc[0]))
            else:
                items.sort(key=lambda kc: (-kc[1], spec.index_key(kc[0])))
            if spec.offset:
                items = items[spec.offset :]
            if spec.limit >= 0:
                items = items[: spec.limit]
            flat: list[Any] = []
            for k, c in items:
                flat.extend((k, c))
            if spec.missing:
                sub = boolean([(MUST, base), (MUST_NOT, exists_query(Context(self.schema, {}), spec.field))])
                flat.extend((None, searcher.search(sub, 1, count=True).count or 0))
            out[spec.key] = flat


def _echo(params: Params) -> dict[str, Any]:
    return {k: (v[0] if len(v) == 1 else list(v)) for k, v in params.items()}


def _aggregate(searcher: tantivy.Searcher, query: Q, aggs: dict[str, Any]) -> dict[str, Any]:
    try:
        return searcher.aggregate(query, aggs)
    except ValueError as e:
        # A fast column that no segment has yet (e.g. a dynamic field never
        # indexed) is simply empty.
        log.debug("aggregation failed: %s", e)
        if len(aggs) > 1:
            merged: dict[str, Any] = {}
            for name, spec in aggs.items():
                merged.update(_aggregate(searcher, query, {name: spec}))
            return merged
        return {}


def _buckets(res: dict[str, Any] | None) -> tuple[list[dict[str, Any]], bool]:
    if not res:
        return [], False
    return res.get("buckets", []), bool(res.get("sum_other_doc_count"))


def _explain_score(query: Q, searcher: tantivy.Searcher, addr: tantivy.DocAddress) -> float:
    try:
        return float(json.loads(query.explain(searcher, addr).to_json()).get("value", 0.0))
    except (ValueError, AttributeError):
        return 0.0


@dataclass
class _FacetSpec:
    key: str
    field: Field
    fast: str | None
    ex: set[str]
    limit: int
    offset: int
    mincount: int
    sort: str
    prefix: str
    missing: bool

    @classmethod
    def parse(cls, raw: str, params: Params) -> _FacetSpec:
        try:
            lp = split_local_params(raw)
        except QuerySyntaxError as e:
            raise SolrError(400, str(e)) from None
        name = (lp.body if lp else raw).strip()
        ex: set[str] = set()
        key = name
        if lp is not None:
            for e in lp.params.get("ex", []):
                ex.update(x.strip() for x in e.split(",") if x.strip())
            if "key" in lp.params:
                key = lp.params["key"][0]
        if not name or ":" in name:
            raise SolrError(400, f"undefined field: {name!r}")
        f = resolve(name)

        def per_field(opt: str) -> str | None:
            return _first(params, f"f.{name}.facet.{opt}", _first(params, f"facet.{opt}"))

        def int_opt(opt: str, default: int) -> int:
            raw_v = per_field(opt)
            if raw_v is None or raw_v == "":
                return default
            try:
                return int(raw_v)
            except ValueError:
                raise SolrError(400, f'For input string: "{raw_v}"') from None

        limit = int_opt("limit", 100)
        sort = (per_field("sort") or ("count" if limit > 0 else "index")).lower()
        if sort in ("lex", "false"):
            sort = "index"
        elif sort == "true":
            sort = "count"
        if sort not in ("count", "index"):
            raise SolrError(400, f"Unknown facet sort value: {sort}")
        mincount = int_opt("mincount", 0)
        if _first(params, "facet.zeros") is not None and not _bool_param(_first(params, "facet.zeros")):
            mincount = max(mincount, 1)
        return cls(
            key=key,
            field=f,
            fast=fast_field(f) if f.indexed else None,
            ex=ex,
            limit=limit,
            offset=max(0, int_opt("offset", 0)),
            mincount=mincount,
            sort=sort,
            prefix=per_field("prefix") or "",
            missing=_bool_param(per_field("missing")),
        )

    def initial_size(self) -> int:
        if self.limit < 0 or self.prefix or self.mincount <= 0:
            return MAX_BUCKETS
        wanted = self.offset + self.limit
        # Headroom so ties at the cut-off can be ordered like Solr (term asc).
        return min(MAX_BUCKETS, wanted + max(10, wanted // 2))

    def agg(self, size: int, min_doc_count: int | None = None) -> dict[str, Any]:
        terms: dict[str, Any] = {
            "field": self.fast,
            "size": size,
            "segment_size": MAX_BUCKETS,
            "min_doc_count": max(1, self.mincount if min_doc_count is None else min_doc_count),
        }
        if self.sort == "index" and self.limit >= 0 and not self.prefix and self.mincount > 0:
            terms["order"] = {"_key": "asc"}
        return {"terms": terms}

    def needs_more(self, buckets: list[dict[str, Any]]) -> bool:
        if self.sort == "index":
            return False
        wanted = self.offset + self.limit
        if self.limit < 0 or len(buckets) <= wanted:
            return True
        counts = sorted((b["doc_count"] for b in buckets), reverse=True)
        return counts[-1] >= counts[wanted - 1] if wanted > 0 else False

    def format_key(self, key: Any) -> str:
        if self.field.kind is Kind.DATE:
            return format_date(int(key))
        if self.field.kind is Kind.INT:
            return str(int(key))
        return str(key)

    def index_key(self, key: str) -> Any:
        if self.field.kind is Kind.INT:
            return int(key)
        return key


# ---------------------------------------------------------------- paging


class _Pager:
    """Orders matches by Solr sort keys and returns one page of addresses."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, ctx: Context, count_root: Q | None = None) -> None:
        self.searcher = searcher
        self.schema = schema
        self.ctx = ctx
        # When set, the first search of exactly this query also counts its
        # matches into self.count.
        self._count_root = count_root
        self.count: int | None = None
        self._sources: dict[tuple[int, int], dict[str, Any]] = {}

    def source(self, addr: tantivy.DocAddress) -> dict[str, Any]:
        """A document's stored fields, decoded once per request."""
        k = (addr.segment_ord, addr.doc)
        src = self._sources.get(k)
        if src is None:
            src = self._sources[k] = load_source(self.searcher.doc(addr))
        return src

    def page(self, query: Q, keys: list[SortKey], start: int, rows: int) -> list[tuple[tantivy.DocAddress, float | None]]:
        if rows <= 0:
            return []
        key, rest = keys[0], keys[1:]
        if key.kind == "str":
            return self._page_str(query, key, rest, start, rows)
        if key.kind == "docid":
            return self._page_docid(query, key, start, rows)
        return self._page_window(query, key, rest, start, rows)

    def _search(self, query: Q, key: SortKey, limit: int, offset: int = 0) -> list[tuple[Any, tantivy.DocAddress]]:
        count = query is self._count_root and self.count is None
        if key.kind == "score":
            res = self.searcher.search(query, limit, count=count, offset=offset)
        else:
            order = tantivy.Order.Desc if key.desc else tantivy.Order.Asc
            try:
                res = self.searcher.search(query, limit, count=count, order_by_field=key.fast, offset=offset, order=order)
            except ValueError:
                # No segment has this (dynamic) column: every doc is "missing".
                res = self.searcher.search(Q.const_score_query(query, 1.0), limit, count=count, offset=offset)
        if count:
            self.count = res.count or 0
        return res.hits

    def _page_docid(self, query: Q, key: SortKey, start: int, rows: int) -> list[tuple[tantivy.DocAddress, float | None]]:
        const = Q.const_score_query(query, 1.0)  # equal scores -> index order
        if not key.desc:
            hits = self.searcher.search(const, rows, count=False, offset=start).hits
            return [(addr, None) for _s, addr in hits]
        total = self.searcher.search(const, 1, count=True).count or 0
        hits = self.searcher.search(const, total, count=False).hits if total else []
        hits.reverse()
        return [(addr, None) for _s, addr in hits[start : start + rows]]

    def _page_window(
        self, query: Q, key: SortKey, rest: list[SortKey], start: int, rows: int
    ) -> list[tuple[tantivy.DocAddress, float | None]]:
        end = start + rows
        score_asc = key.kind == "score" and not key.desc
        meaningful_rest = [k for k in rest if not (k.kind == "docid" and not k.desc)]
        if not meaningful_rest and not score_asc:
            hits = self._search(query, key, rows, offset=start)
            return [(addr, float(s) if key.kind == "score" else None) for s, addr in hits]
        if score_asc:
            total = self.searcher.search(query, 1, count=True).count or 0
            hits = self._search(query, key, max(total, 1))
            hits.reverse()
        else:
            # Room for ties at the page boundary: one scoring pass costs the
            # same for 21 or 200 hits, a second pass costs it all again.
            window = end + 200
            while True:
                hits = self._search(query, key, window)
                if len(hits) < window or hits[-1][0] != hits[min(end, len(hits)) - 1][0] or window >= end + MAX_TIE_WINDOW:
                    break
                window = min(window * 2, end + MAX_TIE_WINDOW)
        # Re-order runs of equal first-key values that touch the page.
        ordered: list[tuple[Any, tantivy.DocAddress]] = []
        i = 0
        while i < len(hits) and i < end:
            j = i + 1
            while j < len(hits) and hits[j][0] == hits[i][0]:
                j += 1
            run = hits[i:j]
            if j > start and len(run) > 1:
                run = self._refine(run, rest)
            ordered.extend(run)
            i = j
        return [(addr, float(s) if key.kind == "score" else None) for s, addr in ordered[start:end]]

    def _refine(self, run: list[tuple[Any, tantivy.DocAddress]], rest: list[SortKey]) -> list[tuple[Any, tantivy.DocAddress]]:
        values = []
        for s, addr in run:
            src = self.source(addr)
            values.append(([_sort_value(src, k) for k in rest], (addr.segment_ord, addr.doc), (s, addr)))

        def cmp(a: Any, b: Any) -> int:
            for k, va, vb in zip(rest, a[0], b[0], strict=False):
                if k.kind == "docid":
                    c = (a[1] > b[1]) - (a[1] < b[1])
                    if c:
                        return -c if k.desc else c
                    continue
                if va is None or vb is None:
                    if va is None and vb is None:
                        continue
                    return 1 if va is None else -1  # missing values sort last
                c = (va > vb) - (va < vb)
                if c:
                    return -c if k.desc else c
            return (a[1] > b[1]) - (a[1] < b[1])

        values.sort(key=functools.cmp_to_key(cmp))
        return [v[2] for v in values]

    def _key_term(self, key: SortKey, value: str) -> Q:
        assert key.field is not None
        prefix = key.field.name + ":" if key.field.dynamic else ""
        return Q.term_query(self.schema, tantivy_field(key.field), prefix + value, index_option="basic")

    def _unique_values(self, query: Q, key: SortKey, values: list[str]) -> list[tuple[tantivy.DocAddress, float | None]]:
        """The documents holding values that one document each has, in the values' order.

        One search for the whole run instead of one per value: sorting 100
        rows by id used to cost 100 searches.
        """
        if not values:
            return []
        assert key.field is not None
        prefix = key.field.name + ":" if key.field.dynamic else ""
        terms = Q.term_set_query(self.schema, tantivy_field(key.field), [prefix + v for v in values])
        hits = self.searcher.search(Q.boolean_query([(MUST, query), (MUST, Q.const_score_query(terms, 0.0))]), len(values)).hits
        rank = {v: i for i, v in enumerate(values)}
        placed = sorted((rank.get(_sort_value(self.source(addr), key), len(values)), addr.segment_ord, addr.doc, addr) for _s, addr in hits)
        return [(p[3], None) for p in placed]

    def _page_str(
        self, query: Q, key: SortKey, rest: list[SortKey], start: int, rows: int
    ) -> list[tuple[tantivy.DocAddress, float | None]]:
        # Exact string order via a terms aggregation ordered by key: it
        # yields values in order with their counts, so the page is located
        # without reading every matching document.
        end = start + rows
        assert key.field is not None
        agg = {
            "k": {
                "terms": {
                    "field": key.fast,
                    "size": min(end, MAX_BUCKETS),
                    "segment_size": min(end, MAX_BUCKETS),
                    "order": {"_key": "desc" if key.desc else "asc"},
                }
            }
        }
        buckets, _t = _buckets(_aggregate(self.searcher, query, agg).get("k"))
        out: list[tuple[tantivy.DocAddress, float | None]] = []
        singles: list[str] = []  # consecutive values held by one document each
        pos = 0
        for b in buckets:
            count = int(b["doc_count"])
            lo, hi = pos, pos + count
            if hi > start and lo < end:
                if count == 1:
                    singles.append(str(b["key"]))
                else:
                    out.extend(self._unique_values(query, key, singles))
                    singles = []
                    sub = Q.boolean_query([(MUST, query), (MUST, Q.const_score_query(self._key_term(key, str(b["key"])), 0.0))])
                    out.extend(self.page(sub, rest, max(start - lo, 0), min(end, hi) - max(start, lo)))
            pos = hi
            if pos >= end:
                break
        out.extend(self._unique_values(query, key, singles))
        if pos < end and len(buckets) >= MAX_BUCKETS:
            # One aggregation holds at most MAX_BUCKETS values: the page lies
            # past them (e.g. a harvester sorting 100,000 records by id), so
            # go on among the values after the last one read.
            last = str(buckets[-1]["key"])
            after = (range_query(self.ctx, key.field, None, last, True, False) if key.desc
                     else range_query(self.ctx, key.field, last, None, False, True))
            sub = Q.boolean_query([(MUST, query), (MUST, after)])
            out.extend(self._page_str(sub, key, rest, max(start - pos, 0), end - max(start, pos)))
        elif pos < end and len(buckets) < min(end, MAX_BUCKETS):
            # Documents without a value sort last (sortMissingLast="true").
            sub = boolean([(MUST, query), (MUST_NOT, exists_query(self.ctx, key.field))])
            out.extend(self.page(sub, rest, max(start - pos, 0), end - max(start, pos)))
        return out


def _sort_value(src: dict[str, Any], key: SortKey) -> Any:
    if key.kind in ("score", "docid") or key.field is None:
        return None
    v = src.get(key.field.name)
    if isinstance(v, list):
        v = v[0] if v else None
    if v is None:
        return None
    if key.field.kind is Kind.DATE:
        try:
            return parse_date(str(v))
        except DateError:
            return None
    if key.field.kind is Kind.INT:
        return int(v)
    return str(v)
