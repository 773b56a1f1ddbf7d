"""Text analysis for the schema's text field types, done in Python.

tantivy has no Indonesian stemmer, so analysis happens here and tantivy gets
a pre-analysed, space-separated token stream (indexed with its whitespace
tokenizer, so positions survive and phrase queries work).

Chain for ``text`` (mirrors CKAN's schema.xml, plus Indonesian):
  whitespace tokenizer -> word delimiter (split on non-alphanumerics, case
  changes and letter/digit transitions; catenated words/numbers at index
  time) -> lowercase -> ASCII folding -> Snowball Indonesian -> Snowball
  English.

Why both stemmers in sequence rather than two tokens per position: the
whitespace-tokenized stream cannot carry two tokens at one position, and one
canonical stem per word keeps phrase queries and BM25 statistics simple.
Indonesian goes first because it is the portal's main language and strips
affixes (meN-, ber-, -kan, -an, -nya) to a root; English then only strips
English suffixes, which Indonesian roots almost never carry. The same fixed
order runs at index and query time, so both sides always agree.

``text_general`` is word delimiter (no case-change split) + lowercase only.
``text_ngram`` is handled by tantivy's own n-gram tokenizer at index time
and whitespace + lowercase at query time.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import Stemmer

from .schema import Kind

_LOWER, _UPPER, _DIGIT, _DELIM = 1, 2, 4, 8
_ALPHA = _LOWER | _UPPER
MAX_TOKEN_CHARS = 255  # Lucene's whitespace tokenizer limit

_STEM_ID = Stemmer.Stemmer("indonesian")
_STEM_EN = Stemmer.Stemmer("english")

# Characters NFKD does not decompose but Lucene's ASCIIFoldingFilter folds.
_FOLD_EXTRA = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
        "ł": "l", "Ł": "L", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH", "ð": "d",
        "ı": "i", "ħ": "h", "ŧ": "t", "ŀ": "l", "ĸ": "q",
    }
)


@functools.lru_cache(maxsize=65536)
def _char_type(ch: str) -> int:
    cat = unicodedata.category(ch)
    if cat == "Lu":
        return _UPPER
    if cat == "Ll":
        return _LOWER
    if cat in ("Lt", "Lm", "Lo", "Mn", "Me", "Mc"):
        return _ALPHA
    if cat in ("Nd", "Nl", "No"):
        return _DIGIT
    if cat == "Cs":
        return _ALPHA | _DIGIT
    return _DELIM


def _is_break(last: int, cur: int, split_case: bool) -> bool:
    # Lucene WordDelimiterIterator.isBreak with splitOnNumerics=1.
    if cur & last:
        return False
    if not split_case and last & _ALPHA and cur & _ALPHA:
        return False
    if last & _UPPER and cur & _ALPHA:
        return False
    return True


# The same rules for ASCII words, in C: long unique tokens such as URLs made
# the character loop below a third of indexing time.
_ASCII_PARTS = {
    True: re.compile(r"[A-Z]*[a-z]+|[A-Z]+|[0-9]+"),  # split on lower->UPPER too
    False: re.compile(r"[A-Za-z]+|[0-9]+"),
}


def split_word(word: str, split_case: bool) -> list[tuple[str, bool]]:
    """Word-delimiter subwords of one whitespace token: [(text, is_number)]."""
    if word.endswith(("'s", "'S")):  # stemEnglishPossessive=1
        word = word[:-2]
    if word.isascii():
        return [(p, p[0] <= "9") for p in _ASCII_PARTS[split_case].findall(word)]
    parts: list[tuple[str, bool]] = []
    start = -1
    last = 0
    for i, ch in enumerate(word):
        t = _char_type(ch)
        if t == _DELIM:
            if start >= 0:
                parts.append((word[start:i], last == _DIGIT))
                start = -1
            last = 0
            continue
        if start < 0:
            start = i
        elif _is_break(last, t, split_case):
            parts.append((word[start:i], last == _DIGIT))
            start = i
        last = t
    if start >= 0:
        parts.append((word[start:], last == _DIGIT))
    return parts


def _catenations(parts: list[tuple[str, bool]]) -> list[str]:
    """catenateWords=1 / catenateNumbers=1: runs of 2+ same-kind subwords."""
    out: list[str] = []
    run: list[str] = []
    run_kind: bool | None = None
    for text, is_num in parts + [("", None)]:  # type: ignore[list-item]
        if is_num is run_kind and is_num is not None:
            run.append(text)
            continue
        if len(run) > 1:
            out.append("".join(run))
        run, run_kind = [text], is_num
    return out


def fold(token: str) -> str:
    """ASCII folding (approximation of Lucene's ASCIIFoldingFilter)."""
    if token.isascii():
        return token
    token = token.translate(_FOLD_EXTRA)
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())


@functools.lru_cache(maxsize=50_000)
def _normalize_text(sub: str) -> str:
    token = fold(sub.lower())
    return _STEM_EN.stemWord(_STEM_ID.stemWord(token))


# Caches are keyed by plain strings and bools (hashing an Enum member runs
# Python code) and sized to stay within the service's memory budget: long
# unique tokens (URLs, slugs) pass through them and get evicted.
def _analyze(word: str, text: bool, index: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One whitespace token -> (positional tokens, extra catenated tokens)."""
    if len(word) > MAX_TOKEN_CHARS:
        word = word[:MAX_TOKEN_CHARS]
    parts = split_word(word, split_case=text)
    norm = _normalize_text if text else str.lower
    tokens = tuple(filter(None, map(norm, [p for p, _n in parts])))
    extra: tuple[str, ...] = ()
    if index and len(parts) > 1:
        extra = tuple(filter(None, map(norm, _catenations(parts))))
    return tokens, extra


_analyze_word = functools.lru_cache(maxsize=10_000)(_analyze)  # query side


@functools.lru_cache(maxsize=40_000)
def _word_text(word: str) -> tuple[str, str]:
    toks, extra = _analyze(word, True, True)
    return " ".join(toks), " ".join(extra)


@functools.lru_cache(maxsize=10_000)
def _word_general(word: str) -> tuple[str, str]:
    toks, extra = _analyze(word, False, True)
    return " ".join(toks), " ".join(extra)


def _index_tokens(value: str, text: bool) -> str:
    # Single-argument caches and C-level map/filter/join: this runs for
    # every text value of every indexed document.
    words = value.split()
    if not words:
        return ""
    mains, extras = zip(*map(_word_text if text else _word_general, words), strict=True)
    out = " ".join(filter(None, mains))
    if any(extras):
        more = " ".join(filter(None, extras))
        out = f"{out} {more}" if out else more
    return out


# Short values (tags, groups, organization, formats, extras) repeat across
# datasets; analysing each distinct one once keeps bulk indexing fast.
_index_tokens_short = functools.lru_cache(maxsize=20_000)(_index_tokens)
SHORT_VALUE_CHARS = 200


def index_tokens(value: str, kind: Kind) -> str:
    """Analyse a field value for indexing; returns space-joined tokens.

    Catenated forms (wi-fi -> wifi) go after the value's own tokens: the
    whitespace tokenizer cannot stack them on the first part's position,
    and appending them keeps every phrase between real tokens intact.
    """
    if kind is Kind.NGRAM:
        return value
    text = kind is Kind.TEXT
    if len(value) <= SHORT_VALUE_CHARS:
        return _index_tokens_short(value, text)
    return _index_tokens(value, text)


def query_tokens(value: str, kind: Kind) -> list[list[str]]:
    """Analyse query text: one list of subword tokens per whitespace word."""
    out: list[list[str]] = []
    for word in value.split():
        if kind is Kind.NGRAM:
            out.append([word.lower()])
            continue
        toks, _extra = _analyze_word(word, kind is Kind.TEXT, False)
        if toks:
            out.append(list(toks))
    return out


def multiterm(value: str, kind: Kind) -> str:
    """Normalisation for wildcard/prefix/range text on analysed fields.

    Like Solr's multi-term analysis: only lowercase and folding apply, no
    stemming or splitting.
    """
    if kind is Kind.TEXT:
        return fold(value.lower())
    if kind in (Kind.TEXT_GENERAL, Kind.NGRAM):
        return value.lower()
    return value
