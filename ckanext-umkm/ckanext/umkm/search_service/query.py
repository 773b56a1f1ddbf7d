"""Solr query syntax -> tantivy queries.

Covers the parsers CKAN and its extensions use: the standard Lucene parser
(parsed with luqum), dismax/edismax (qf, mm, tie, bq), and local params
({!lucene q.op=AND}, {!bool must=...}, {!dismax qf=...}, {!tag=...},
{!field f=...}, {!term f=...}, {!prefix f=...}).

Every field reference goes through the schema model: string fields match
exactly, text fields are analysed exactly as at index time, int/date fields
match and range numerically (dates with Solr date math).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import tantivy
from luqum import tree as lt
from luqum.exceptions import ParseError
from luqum.thread import parse as luqum_parse

from . import analysis
from .dates import DateError, parse_date_math
from .schema import Field, Kind, resolve

Q = tantivy.Query
MUST, SHOULD, MUST_NOT = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
# Dynamic date values are indexed as fixed-width decimal strings so that
# lexicographic (regex) ranges over them are chronological.
DATE_TOKEN_OFFSET = 10**15
MAX_MM_COMBINATIONS = 256
MAX_TERM_BYTES = 32766  # Lucene's limit; longer terms are not indexed


class QuerySyntaxError(ValueError):
    """Unparseable query; surfaced to clients as HTTP 400 like Solr's SyntaxError."""


# ---------------------------------------------------------------- field mapping


def tantivy_field(f: Field) -> str:
    """Name of the tantivy field holding a schema field's inverted index."""
    if f.dynamic:
        return {Kind.STRING: "_ds", Kind.DATE: "_dd", Kind.INT: "_dd"}.get(f.kind, "_dt")
    if f.kind is Kind.STRING:
        return "s_" + f.name
    if f.kind in (Kind.INT, Kind.DATE):
        return "i_" + f.name
    if f.kind is Kind.NGRAM:
        return "n_" + f.name
    return "t_" + f.name


def fast_field(f: Field) -> str | None:
    """Name of the fast (columnar) field used to sort/facet on a schema field."""
    if f.dynamic:
        if f.kind is Kind.STRING:
            return "_dsf." + f.name
        if f.kind is Kind.DATE:
            return "_ddf." + f.name
        return None
    if f.kind is Kind.STRING:
        return "s_" + f.name
    if f.kind in (Kind.INT, Kind.DATE):
        return "i_" + f.name
    return None


def dyn_prefix(f: Field) -> str:
    """Dynamic fields share tantivy fields; their terms carry 'name:' in front."""
    return f.name + ":" if f.dynamic else ""


def encode_date_token(ms: int) -> str:
    return f"{ms + DATE_TOKEN_OFFSET:016d}"


# ----------------------------------------------------------------- regex helpers


def rx_escape(text: str) -> str:
    """Escape for tantivy's regex dialect: everything but [A-Za-z0-9] as \\x{..}."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)


def _rx_gt_alternatives(a: str, inclusive: bool) -> list[str]:
    """Regexes whose union is the strings lexicographically after a (code point order)."""
    alts = []
    for i, ch in enumerate(a):
        if ord(ch) < 0x10FFFF:
            alts.append(f"{rx_escape(a[:i])}[\\x{{{ord(ch) + 1:x}}}-\\x{{10ffff}}].*")
    alts.append(rx_escape(a) + ".+")
    if inclusive:
        alts.append(rx_escape(a))
    return alts


def _rx_lt_alternatives(b: str, inclusive: bool) -> list[str]:
    """Regexes whose union is the strings lexicographically before b."""
    alts = []
    for i, ch in enumerate(b):
        if ord(ch) > 0:
            alts.append(f"{rx_escape(b[:i])}[\\x{{0}}-\\x{{{ord(ch) - 1:x}}}].*")
        alts.append(rx_escape(b[:i]))  # proper prefixes of b sort before it
    if inclusive:
        alts.append(rx_escape(b))
    return alts


def _rx_gt(a: str, inclusive: bool) -> str:
    return "(" + "|".join(_rx_gt_alternatives(a, inclusive)) + ")"


def _rx_lt(b: str, inclusive: bool) -> str:
    return "(" + "|".join(_rx_lt_alternatives(b, inclusive)) + ")"


# -------------------------------------------------------------------- context


@dataclass
class Context:
    schema: tantivy.Schema
    params: Mapping[str, Sequence[str]]
    df: str = "text"
    q_op: str = "OR"
    now: int | None = None
    # edismax: unfielded terms expand over qf instead of df.
    qf: list[tuple[Field, float]] | None = None
    tie: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def param(self, name: str, default: str | None = None) -> str | None:
        vals = self.params.get(name)
        return vals[0] if vals else default


# ----------------------------------------------------------- leaf query builders


def match_all() -> Q:
    return Q.all_query()


def match_none() -> Q:
    return Q.empty_query()


def boolean(clauses: list[tuple[tantivy.Occur, Q]]) -> Q:
    """Boolean query; a purely negative one gets an implicit *:* like Solr."""
    if clauses and all(o == MUST_NOT for o, _ in clauses):
        clauses = [(MUST, Q.all_query())] + clauses
    return Q.boolean_query(clauses)


def exists_query(ctx: Context, f: Field) -> Q:
    return Q.term_query(ctx.schema, "_has", f.name, index_option="basic")


def _raw_term(ctx: Context, f: Field, value: str) -> Q | None:
    term = dyn_prefix(f) + value
    if len(term.encode("utf-8")) > MAX_TERM_BYTES:
        return None
    return Q.term_query(ctx.schema, tantivy_field(f), term, index_option="basic")


def _number(f: Field, value: str, ctx: Context) -> int:
    if f.kind is Kind.DATE:
        try:
            return parse_date_math(value, ctx.now)
        except DateError as e:
            raise QuerySyntaxError(str(e)) from None
    try:
        return int(value)
    except ValueError:
        try:
            fv = float(value)
        except ValueError:
            raise QuerySyntaxError(f"Invalid Number: {value}") from None
        if not math.isfinite(fv):
            raise QuerySyntaxError(f"Invalid Number: {value}") from None
        return int(fv)


def _int_range(ctx: Context, f: Field, lo: int, hi: int, inc_lo: bool, inc_hi: bool) -> Q:
    if not inc_lo:
        lo += 1
    if not inc_hi:
        hi -= 1
    if lo > hi:
        return match_none()
    if not f.dynamic:
        return Q.range_query(ctx.schema, tantivy_field(f), tantivy.FieldType.Integer, lo, hi)
    # Dynamic dates: regex over fixed-width tokens.
    lo_t, hi_t = encode_date_token(max(lo, -DATE_TOKEN_OFFSET + 1)), encode_date_token(hi)
    prefix = rx_escape(dyn_prefix(f))
    return Q.boolean_query(
        [
            (MUST, Q.regex_query(ctx.schema, "_dd", prefix + _rx_gt(lo_t, True))),
            (MUST, Q.regex_query(ctx.schema, "_dd", prefix + _rx_lt(hi_t, True))),
        ]
    )


def _text_terms(ctx: Context, f: Field, words: list[list[str]]) -> list[str]:
    prefix = dyn_prefix(f)
    return [prefix + tok for word in words for tok in word]


def text_query(ctx: Context, f: Field, text: str, phrase: bool, slop: int = 0) -> Q | None:
    """Analysed query on a text field; None when analysis leaves nothing."""
    words = analysis.query_tokens(text, f.kind)
    terms = _text_terms(ctx, f, words)
    if not terms:
        return None
    tf = tantivy_field(f)
    if f.kind is Kind.NGRAM:
        return ngram_query(ctx, f, terms)
    opt = "position"
    if len(terms) == 1:
        return Q.term_query(ctx.schema, tf, terms[0], index_option=opt)
    if phrase:
        return Q.phrase_query(ctx.schema, tf, list(enumerate(terms)), slop=slop)
    # One query word split by the word delimiter (or several escaped-space
    # words): all parts are required, as with q.op=AND in Solr.
    clauses: list[tuple[tantivy.Occur, Q]] = []
    for word in words:
        word_terms = [dyn_prefix(f) + t for t in word]
        if len(word_terms) == 1:
            clauses.append((MUST, Q.term_query(ctx.schema, tf, word_terms[0], index_option=opt)))
        else:
            clauses.append((MUST, Q.phrase_query(ctx.schema, tf, list(enumerate(word_terms)), slop=slop)))
    return Q.boolean_query(clauses)


NGRAM_MIN, NGRAM_MAX = 2, 10


def ngram_query(ctx: Context, f: Field, tokens: list[str]) -> Q:
    """A text_ngram match without indexing every n-gram.

    Solr indexes the 2..10-character n-grams of the value; a (lowercased,
    whitespace-split) query token matches when it is one of them, that is a
    substring of the lowercased value of that length. The index holds the
    lowercased value as one term, and each token becomes a substring regex.
    Every token is required. Matches score alike.
    """
    clauses: list[tuple[tantivy.Occur, Q]] = []
    for tok in tokens:
        if not NGRAM_MIN <= len(tok) <= NGRAM_MAX:
            return match_none()
        clauses.append((MUST, Q.regex_query(ctx.schema, tantivy_field(f), "(?s).*" + rx_escape(tok) + ".*")))
    return clauses[0][1] if len(clauses) == 1 else Q.boolean_query(clauses)


def field_value_query(ctx: Context, f: Field, value: str, phrase: bool, slop: int = 0) -> Q | None:
    """field:value / field:"value" after unescaping."""
    if not f.indexed:
        return match_none()
    if f.kind is Kind.STRING:
        return _raw_term(ctx, f, value)
    if f.kind in (Kind.INT, Kind.DATE):
        n = _number(f, value, ctx)
        return _int_range(ctx, f, n, n, True, True)
    return text_query(ctx, f, value, phrase, slop)


def wildcard_query(ctx: Context, f: Field, parts: list[tuple[str, bool]]) -> Q | None:
    """Trailing/inner wildcards: parts are (text, is_wildcard_char)."""
    if not f.indexed or f.kind in (Kind.INT, Kind.DATE):
        return match_none()
    pieces = [rx_escape(dyn_prefix(f))]
    for text, wild in parts:
        if wild:
            pieces.append(".*" if text == "*" else ".")
        else:
            pieces.append(rx_escape(analysis.multiterm(text, f.kind)))
    if f.kind is Kind.NGRAM:
        # A prefix of any n-gram is a substring of the value (see ngram_query).
        pieces = [".*", *pieces[1:], ".*"]
    return Q.regex_query(ctx.schema, tantivy_field(f), "(?s)" + "".join(pieces))


def range_query(
    ctx: Context, f: Field, lo: str | None, hi: str | None, inc_lo: bool, inc_hi: bool
) -> Q:
    if not f.indexed:
        return match_none()
    if lo is None and hi is None:
        return exists_query(ctx, f)
    if f.kind in (Kind.INT, Kind.DATE):
        lo_n = I64_MIN if lo is None else _number(f, lo, ctx)
        hi_n = I64_MAX if hi is None else _number(f, hi, ctx)
        if lo is None:
            inc_lo = True
        if hi is None:
            inc_hi = True
        return _int_range(ctx, f, lo_n, hi_n, inc_lo, inc_hi)
    prefix = rx_escape(dyn_prefix(f))
    tf = tantivy_field(f)

    def union(alternatives: list[str]) -> Q:
        # One small regex per alternative: a single regex for a long bound
        # (a UUID) would pass tantivy's limit of 1000 automaton states.
        return Q.boolean_query([(SHOULD, Q.regex_query(ctx.schema, tf, "(?s)" + prefix + alt))
                                for alt in alternatives])

    clauses: list[tuple[tantivy.Occur, Q]] = []
    if lo is not None:
        clauses.append((MUST, union(_rx_gt_alternatives(analysis.multiterm(lo, f.kind), inc_lo))))
    if hi is not None:
        clauses.append((MUST, union(_rx_lt_alternatives(analysis.multiterm(hi, f.kind), inc_hi))))
    return Q.boolean_query(clauses)


# --------------------------------------------------------------- Lucene parser

_ESCAPE_RE = re.compile(r"\\(.)", re.S)


def unescape(text: str) -> str:
    return _ESCAPE_RE.sub(r"\1", text)


def _wild_parts(text: str) -> list[tuple[str, bool]] | None:
    """Split a raw term into literal runs and unescaped * / ? (None if none)."""
    parts: list[tuple[str, bool]] = []
    buf: list[str] = []
    wild = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
            continue
        if ch in "*?":
            if buf:
                parts.append(("".join(buf), False))
                buf = []
            parts.append((ch, True))
            wild = True
        else:
            buf.append(ch)
        i += 1
    if buf:
        parts.append(("".join(buf), False))
    return parts if wild else None


def _field_for(name: str) -> Field:
    if not name or name == "*":
        raise QuerySyntaxError("undefined field *")
    return resolve(unescape(name))


class LuceneConverter:
    """luqum tree -> tantivy query, with Lucene's occur semantics."""

    def __init__(self, ctx: Context, dismax_terms: bool = False) -> None:
        self.ctx = ctx
        self.dismax_terms = dismax_terms  # edismax: unfielded terms use qf
        self.top_level_mm: str | None = None

    def convert(self, node: lt.Item, fld: str | None = None) -> Q | None:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise QuerySyntaxError(f"Unsupported query syntax: {node}")
        return method(node, fld)

    # structure
    def _SearchField(self, node: lt.SearchField, fld: str | None) -> Q | None:
        name = node.name
        if name == "*":
            if isinstance(node.expr, lt.Word) and node.expr.value == "*":
                return match_all()
            raise QuerySyntaxError(f"Cannot parse '{node}': '*' is only valid in *:*")
        if name in ("_query_", "_val_"):  # Solr's magic fields (exact names only)
            raise QuerySyntaxError("Magic fields are not supported")
        return self.convert(node.expr, name)

    def _Group(self, node: lt.Group, fld: str | None) -> Q | None:
        return self.convert(node.expr, fld)

    _FieldGroup = _Group

    def _Boost(self, node: lt.Boost, fld: str | None) -> Q | None:
        inner = self.convert(node.expr, fld)
        if inner is None:
            return None
        force = float(node.force) if node.force is not None else 1.0
        return Q.boost_query(inner, force)

    def _occur_of(self, node: lt.Item, default: tantivy.Occur) -> tuple[tantivy.Occur, lt.Item]:
        if isinstance(node, lt.Plus):
            return MUST, node.a
        if isinstance(node, (lt.Prohibit, lt.Not)):
            return MUST_NOT, node.a
        return default, node

    def _operation(self, node: lt.BaseOperation, fld: str | None, default: tantivy.Occur) -> Q | None:
        clauses: list[tuple[tantivy.Occur, Q]] = []
        for operand in node.children:
            occur, inner = self._occur_of(operand, default)
            q = self.convert(inner, fld)
            if q is None:
                continue
            clauses.append((occur, q))
        if not clauses:
            return None
        if len(clauses) == 1 and clauses[0][0] != MUST_NOT:
            return clauses[0][1]
        return boolean(clauses)

    def _AndOperation(self, node: lt.AndOperation, fld: str | None) -> Q | None:
        return self._operation(node, fld, MUST)

    def _OrOperation(self, node: lt.OrOperation, fld: str | None) -> Q | None:
        return self._operation(node, fld, SHOULD)

    def _UnknownOperation(self, node: lt.UnknownOperation, fld: str | None) -> Q | None:
        return self._operation(node, fld, MUST if self.ctx.q_op == "AND" else SHOULD)

    def _unary(self, node: lt.Unary, fld: str | None) -> Q | None:
        occur, inner = self._occur_of(node, SHOULD)
        q = self.convert(inner, fld)
        if q is None:
            return None
        if occur == MUST_NOT:
            return boolean([(MUST_NOT, q)])
        return q

    _Plus = _Not = _Prohibit = _unary

    # leaves
    def _fields(self, fld: str | None) -> list[tuple[Field, float]]:
        if fld is not None:
            return [(_field_for(fld), 1.0)]
        if self.dismax_terms and self.ctx.qf:
            return self.ctx.qf
        return [(_field_for(self.ctx.df), 1.0)]

    def _per_field(self, fld: str | None, build: Callable[[Field], Q | None]) -> Q | None:
        fields = self._fields(fld)
        if len(fields) == 1 and fields[0][1] == 1.0:
            return build(fields[0][0])
        subs = []
        for f, boost in fields:
            q = build(f)
            if q is None:
                continue
            subs.append(Q.boost_query(q, boost) if boost != 1.0 else q)
        if not subs:
            return None
        if len(subs) == 1:
            return subs[0]
        return Q.disjunction_max_query(subs, tie_breaker=self.ctx.tie)

    def _Word(self, node: lt.Word, fld: str | None) -> Q | None:
        raw = node.value
        if raw == "*" and fld is not None:
            f = _field_for(fld)
            return exists_query(self.ctx, f)
        wild = _wild_parts(raw)
        if wild is not None:
            if self.dismax_terms and fld is None:
                return self._per_field(fld, lambda f: wildcard_query(self.ctx, f, wild))
            return wildcard_query(self.ctx, self._fields(fld)[0][0], wild)
        value = unescape(raw)
        return self._per_field(fld, lambda f: field_value_query(self.ctx, f, value, False))

    def _Phrase(self, node: lt.Phrase, fld: str | None, slop: int = 0) -> Q | None:
        value = unescape(node.value[1:-1])
        return self._per_field(fld, lambda f: field_value_query(self.ctx, f, value, True, slop))

    def _Proximity(self, node: lt.Proximity, fld: str | None) -> Q | None:
        if not isinstance(node.term, lt.Phrase):
            return self.convert(node.term, fld)
        return self._Phrase(node.term, fld, slop=int(float(node.degree or 0)))

    def _Fuzzy(self, node: lt.Fuzzy, fld: str | None) -> Q | None:
        if not isinstance(node.term, lt.Word):
            return self.convert(node.term, fld)
        degree = node.degree
        dist = 2 if degree is None or float(degree) < 1 else min(int(float(degree)), 2)
        value = unescape(node.term.value)

        def build(f: Field) -> Q | None:
            if f.kind in (Kind.TEXT, Kind.TEXT_GENERAL):
                toks = _text_terms(self.ctx, f, analysis.query_tokens(value, f.kind))
                if not toks:
                    return None
                return Q.fuzzy_term_query(self.ctx.schema, tantivy_field(f), toks[0], distance=dist)
            if f.kind is Kind.STRING:
                if f.dynamic:
                    return _raw_term(self.ctx, f, value)
                return Q.fuzzy_term_query(self.ctx.schema, tantivy_field(f), value, distance=dist)
            return field_value_query(self.ctx, f, value, False)

        return self._per_field(fld, build)

    def _Regex(self, node: lt.Regex, fld: str | None) -> Q | None:
        f = self._fields(fld)[0][0]
        if f.kind in (Kind.INT, Kind.DATE) or not f.indexed:
            return match_none()
        pattern = node.value[1:-1]
        prefix = rx_escape(dyn_prefix(f))
        try:
            return Q.regex_query(self.ctx.schema, tantivy_field(f), "(?s)" + prefix + "(" + pattern + ")")
        except ValueError as e:
            raise QuerySyntaxError(f"Invalid regular expression: {e}") from None

    def _bound(self, node: lt.Item) -> str | None:
        if isinstance(node, lt.Word):
            return None if node.value == "*" else unescape(node.value)
        if isinstance(node, lt.Phrase):
            return unescape(node.value[1:-1])
        raise QuerySyntaxError(f"Invalid range bound: {node}")

    def _Range(self, node: lt.Range, fld: str | None) -> Q | None:
        lo, hi = self._bound(node.low), self._bound(node.high)
        f = self._fields(fld)[0][0]
        return range_query(self.ctx, f, lo, hi, node.include_low, node.include_high)

    def _From(self, node: lt.From, fld: str | None) -> Q | None:
        f = self._fields(fld)[0][0]
        return range_query(self.ctx, f, self._bound(node.a), None, node.include, True)

    def _To(self, node: lt.To, fld: str | None) -> Q | None:
        f = self._fields(fld)[0][0]
        return range_query(self.ctx, f, None, self._bound(node.a), True, node.include)


def _luqum(text: str) -> lt.Item:
    try:
        return luqum_parse(text)
    except (ParseError, ValueError, TypeError) as e:
        raise QuerySyntaxError(f"org.apache.solr.search.SyntaxError: Cannot parse '{text}': {e}") from None


def is_match_all_text(text: str) -> bool:
    return text.strip() in ("*:*", "*", "(*:*)")


def parse_lucene(text: str, ctx: Context) -> Q | None:
    if not text.strip():
        return None
    if is_match_all_text(text):
        return match_all()
    return LuceneConverter(ctx).convert(_luqum(text))


# -------------------------------------------------------------- (e)dismax

_DISMAX_TOKEN_RE = re.compile(r'([+-]?)("[^"]*"|\S+)')


def parse_qf(spec: str) -> list[tuple[Field, float]]:
    out = []
    for item in spec.split():
        name, _, boost = item.partition("^")
        try:
            out.append((resolve(name), float(boost) if boost else 1.0))
        except ValueError:
            raise QuerySyntaxError(f"Invalid qf entry: {item}") from None
    return out


def min_should_match(spec: str | None, n: int) -> int:
    """Solr's mm calculation (SolrPluginUtils.calculateMinShouldMatch)."""
    if not spec:
        return n
    spec = re.sub(r"\s*<\s*", "<", spec.strip())
    if "<" in spec:
        result = n
        for part in spec.split():
            bound, _, val = part.partition("<")
            try:
                if n <= int(bound):
                    return result
            except ValueError:
                raise QuerySyntaxError(f"Invalid mm: {spec}") from None
            result = min_should_match(val, n)
        return result
    try:
        if spec.endswith("%"):
            calc = n * int(spec[:-1]) / 100.0
            result = n + int(calc) if calc < 0 else int(calc)
        else:
            calc_i = int(spec)
            result = n + calc_i if calc_i < 0 else calc_i
    except ValueError:
        raise QuerySyntaxError(f"Invalid mm: {spec}") from None
    return max(0, min(result, n))


def at_least(clauses: list[Q], m: int, musts: list[tuple[tantivy.Occur, Q]]) -> Q | None:
    """Boolean requiring at least m of the optional clauses (Solr's mm)."""
    n = len(clauses)
    if not musts and m < 1 and n:
        m = 1
    if n == 0:
        return boolean(musts) if musts else None
    if m >= n:
        return boolean(musts + [(MUST, c) for c in clauses])
    if m <= 0 or m == 1 and not musts:
        return boolean(musts + [(SHOULD, c) for c in clauses])
    if math.comb(n, m) > MAX_MM_COMBINATIONS:
        # Too many combinations to spell out: require all (stricter than mm).
        return boolean(musts + [(MUST, c) for c in clauses])
    combos = [Q.boolean_query([(MUST, c) for c in combo]) for combo in itertools.combinations(clauses, m)]
    return boolean(musts + [(MUST, Q.boolean_query([(SHOULD, c) for c in combos]))] + [(SHOULD, c) for c in clauses])


def parse_dismax(text: str, ctx: Context, qf: list[tuple[Field, float]], mm: str | None) -> Q | None:
    """DisMax: +/- and quotes only; every clause is a DisjunctionMax over qf."""
    if text.count('"') % 2:
        text = text.replace('"', "")  # Solr strips unbalanced quotes
    tokens = _DISMAX_TOKEN_RE.findall(text)
    optional: list[Q] = []
    musts: list[tuple[tantivy.Occur, Q]] = []
    pending_op: str | None = None
    prev_optional_idx: int | None = None
    for sign, body in tokens:
        if not sign and body in ("AND", "OR", "NOT") and (optional or musts or body == "NOT"):
            pending_op = body
            continue
        phrase = body.startswith('"') and body.endswith('"') and len(body) >= 2
        value = body[1:-1] if phrase else body
        subs = []
        for f, boost in qf:
            if f.kind in (Kind.INT, Kind.DATE):
                try:
                    q = field_value_query(ctx, f, value, phrase)
                except QuerySyntaxError:
                    continue
            else:
                q = field_value_query(ctx, f, value, phrase)
            if q is None:
                continue
            subs.append(Q.boost_query(q, boost) if boost != 1.0 else q)
        if not subs:
            pending_op = None
            continue
        clause = subs[0] if len(subs) == 1 else Q.disjunction_max_query(subs, tie_breaker=ctx.tie)
        if sign == "-" or pending_op == "NOT":
            musts.append((MUST_NOT, clause))
        elif sign == "+":
            musts.append((MUST, clause))
        elif pending_op == "AND":
            if prev_optional_idx is not None and prev_optional_idx < len(optional):
                musts.append((MUST, optional.pop(prev_optional_idx)))
            musts.append((MUST, clause))
            prev_optional_idx = None
        else:
            optional.append(clause)
            prev_optional_idx = len(optional) - 1
            pending_op = None
            continue
        pending_op = None
        prev_optional_idx = None
    if not optional and not musts:
        return None
    m = min_should_match(mm, len(optional))
    return at_least(optional, m, musts)


def parse_edismax(text: str, ctx: Context, qf: list[tuple[Field, float]], mm: str | None) -> Q | None:
    if not text.strip():
        return None
    if is_match_all_text(text):
        return match_all()
    ectx = replace(ctx, qf=qf)
    conv = LuceneConverter(ectx, dismax_terms=True)
    node = _luqum(text)
    if isinstance(node, (lt.UnknownOperation, lt.OrOperation)):
        optional: list[Q] = []
        musts: list[tuple[tantivy.Occur, Q]] = []
        for operand in node.children:
            occur, inner = conv._occur_of(operand, SHOULD)
            q = conv.convert(inner)
            if q is None:
                continue
            if occur == SHOULD:
                optional.append(q)
            else:
                musts.append((occur, q))
        if isinstance(node, lt.OrOperation):
            mm = "1"
        elif mm is None and ctx.q_op == "AND":
            mm = "100%"
        return at_least(optional, min_should_match(mm, len(optional)), musts)
    return conv.convert(node)


# ------------------------------------------------------------- local params

_LP_TOKEN_RE = re.compile(r"""\s*([^\s=}'"]+)(?:=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s}]*))?""")


@dataclass
class LocalParams:
    type: str | None
    params: dict[str, list[str]]
    body: str


def split_local_params(text: str) -> LocalParams | None:
    """'{!type k=v ...}body' -> LocalParams, or None when there are none."""
    s = text.lstrip()
    if not s.startswith("{!"):
        return None
    pos = 2
    qtype: str | None = None
    params: dict[str, list[str]] = {}
    while True:
        while pos < len(s) and s[pos].isspace():
            pos += 1
        if pos >= len(s):
            raise QuerySyntaxError(f"org.apache.solr.search.SyntaxError: Missing end to unquoted value starting at {pos} str='{text}'")
        if s[pos] == "}":
            pos += 1
            break
        m = _LP_TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            raise QuerySyntaxError(f"org.apache.solr.search.SyntaxError: Expected identifier at pos {pos} str='{text}'")
        key, val = m.group(1), m.group(2)
        if val is None:
            if qtype is None and not params:
                qtype = key
            else:
                params.setdefault(key, []).append("")
        else:
            if len(val) >= 2 and val[0] in "'\"" and val[-1] == val[0]:
                val = re.sub(r"\\(.)", r"\1", val[1:-1])
            params.setdefault(key, []).append(val)
        pos = m.end()
    if "type" in params:
        qtype = params.pop("type")[0]
    return LocalParams(qtype, params, s[pos:])


def _deref(value: str, ctx: Context) -> str:
    if value.startswith("$"):
        ref = ctx.param(value[1:])
        return ref or ""
    return value


def parse_query_param(
    text: str | None,
    ctx: Context,
    def_type: str = "lucene",
    dismax_opts: Mapping[str, str | None] | None = None,
) -> tuple[Q | None, LocalParams | None]:
    """Parse q/fq (with optional local params). Returns (query, local params).

    None as query means 'matches nothing' (empty or fully dropped query).
    """
    if text is None:
        return None, None
    lp = split_local_params(text)
    opts = dict(dismax_opts or {})
    if lp is None:
        return _parse_with(def_type, text, ctx, opts), None
    local = {k: _deref(v[-1], ctx) for k, v in lp.params.items()}
    body = _deref(lp.params["v"][-1], ctx) if "v" in lp.params else lp.body
    sub = replace(ctx)
    if "df" in local:
        sub.df = local["df"]
    if "q.op" in local:
        sub.q_op = local["q.op"].upper()
    for key in ("qf", "mm", "tie", "bq"):
        if key in local:
            opts[key] = local[key]
    qtype = lp.type
    if qtype is None:
        # {!tag=...}/{!ex=...} only: the default parser applies to the body.
        return _parse_with(def_type, body, sub, opts), lp
    if qtype == "bool":
        clauses: list[tuple[tantivy.Occur, Q]] = []
        for key, occur in (("must", MUST), ("filter", MUST), ("should", SHOULD), ("must_not", MUST_NOT)):
            for raw in lp.params.get(key, []):
                q, _ = parse_query_param(_deref(raw, ctx), sub, "lucene")
                if q is None:
                    if occur == MUST:
                        return match_none(), lp
                    continue
                clauses.append((occur, Q.const_score_query(q, 0.0) if key == "filter" else q))
        if not clauses:
            return None, lp
        return boolean(clauses), lp
    if qtype in ("field", "term", "prefix"):
        if "f" not in local:
            raise QuerySyntaxError(f"Missing 'f' local param for {{!{qtype}}}")
        f = resolve(local["f"])
        if qtype == "term":
            if f.kind is Kind.STRING:
                return _raw_term(sub, f, body), lp
            return field_value_query(sub, f, body, False), lp
        if qtype == "prefix":
            return wildcard_query(sub, f, [(body, False), ("*", True)]), lp
        return field_value_query(sub, f, body, True), lp
    if qtype in ("lucene", "dismax", "edismax"):
        return _parse_with(qtype, body, sub, opts), lp
    raise QuerySyntaxError(f"Unknown query parser '{qtype}'")


def _parse_with(def_type: str, text: str, ctx: Context, opts: Mapping[str, str | None]) -> Q | None:
    if def_type in ("dismax", "edismax"):
        qf_spec = opts.get("qf") or ctx.df
        qf = parse_qf(qf_spec)
        tie = opts.get("tie")
        try:
            ctx = replace(ctx, tie=float(tie) if tie else 0.0)
        except ValueError:
            raise QuerySyntaxError(f"Invalid tie: {tie}") from None
        mm = opts.get("mm")
        if def_type == "dismax":
            if not text.strip():
                alt = opts.get("q.alt")
                return parse_lucene(alt, ctx) if alt else None
            q = parse_dismax(text, ctx, qf, mm)
        else:
            q = parse_edismax(text, ctx, qf, mm)
        bq = opts.get("bq")
        if q is not None and bq:
            boost_q = parse_lucene(bq, ctx)
            if boost_q is not None:
                q = Q.boolean_query([(MUST, q), (SHOULD, boost_q)])
        return q
    if def_type in ("lucene", "standard", ""):
        return parse_lucene(text, ctx)
    raise QuerySyntaxError(f"Unknown query parser '{def_type}'")
