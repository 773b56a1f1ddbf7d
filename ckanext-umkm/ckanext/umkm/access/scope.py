"""Access scopes of agencies and of restricted data (Permen UMKM 8/2025
Pasal 25(3), 27(2) and 27(7)).

A scope is a pair of prefix sets over the two reference code lists: regions
(Kemendagri wilayah codes) and sectors (KBLI 2020). ``None`` means
unlimited; an empty tuple means nothing. A wilayah code lies within a prefix
when it is the prefix or below it (``32.73.01`` lies within ``32.73``); a
KBLI code lies within a kategori letter through its golongan pokok, and
within a numeric code when it starts with it.

Agencies' standing scopes follow Pasal 27(7): a central ministry or agency
reads every region within its sectors; a provincial government its province
and everything below it; a regency/city government its regency/city and its
villages; a village government its village. Other stakeholders have no
standing scope: an explicit grant gives them one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ckanext.umkm.metadata import reference_codes

Prefixes = tuple[str, ...] | None

CENTRAL = ("KEMENTERIAN_LEMBAGA", "UNIT_ESELON_I")
REGIONAL = ("PEMERINTAH_PROVINSI", "PEMERINTAH_KABUPATEN_KOTA", "PEMERINTAH_DESA")


@dataclass(frozen=True)
class Scope:
    regions: Prefixes = None
    sectors: Prefixes = None

    @property
    def empty(self) -> bool:
        return self.regions == () or self.sectors == ()

    def as_dict(self) -> dict[str, Any]:
        return {"regions": list(self.regions) if self.regions is not None else None,
                "sectors": list(self.sectors) if self.sectors is not None else None}


EVERYTHING = Scope()
NOTHING = Scope((), ())


@functools.lru_cache(maxsize=4096)
def _kbli_kategori(code: str) -> str | None:
    if code.isalpha():
        return code
    found = reference_codes.get("kbli", code[:2])
    return found.parent if found else None


def within(scheme: str, code: str, prefix: str) -> bool:
    """Whether ``code`` is ``prefix`` or lies below it in the hierarchy."""
    code = reference_codes.normalize(scheme, code)
    prefix = reference_codes.normalize(scheme, prefix)
    if scheme == "wilayah":
        return code == prefix or code.startswith(prefix + ".")
    if prefix.isalpha():
        return _kbli_kategori(code) == prefix
    return not code.isalpha() and code.startswith(prefix)


def _intersect(scheme: str, a: Prefixes, b: Prefixes) -> Prefixes:
    if a is None:
        return b
    if b is None:
        return a
    out = {x for x in a for y in b if within(scheme, x, y)} | {y for x in a for y in b if within(scheme, y, x)}
    return tuple(sorted(out))


def intersect(a: Scope, b: Scope) -> Scope:
    return Scope(_intersect("wilayah", a.regions, b.regions), _intersect("kbli", a.sectors, b.sectors))


def _covers(scheme: str, outer: Prefixes, inner: Prefixes) -> bool:
    if outer is None:
        return True
    if inner is None:
        return False
    return all(any(within(scheme, i, o) for o in outer) for i in inner)


def covers(outer: Scope, inner: Scope) -> bool:
    """Whether everything in ``inner`` lies within ``outer``."""
    return _covers("wilayah", outer.regions, inner.regions) and _covers("kbli", outer.sectors, inner.sectors)


def union(scopes: Iterable[Scope]) -> list[Scope]:
    """Scopes are kept as a list: the union of (regions x sectors) pairs is not
    itself such a pair. Empty ones are dropped, duplicates merged."""
    out: list[Scope] = []
    for scope in scopes:
        if not scope.empty and scope not in out:
            out.append(scope)
    return out


def _codes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            value = json.loads(value)
        else:
            value = [value] if value else []
    return tuple(sorted({str(v).strip() for v in value or [] if str(v).strip()}))


def agency_scope(org: dict[str, Any] | None) -> Scope:
    """The standing scope of an agency (organization dict), per Pasal 27(7)."""
    if not org:
        return NOTHING
    kind = org.get("jenis_instansi")
    if kind in CENTRAL:
        sectors = _codes(org.get("sektor_kbli"))
        return Scope(None, sectors or ())
    if kind in REGIONAL:
        region = _codes(org.get("kode_wilayah"))
        return Scope(region or (), None)
    return NOTHING


def dataset_coverage(pkg_dict: dict[str, Any]) -> Scope:
    """What a dataset covers: its regions (none listed: national) and sectors
    (none listed: all)."""
    regions = _codes(pkg_dict.get("cakupan_wilayah"))
    sectors = _codes(pkg_dict.get("sektor_kbli"))
    return Scope(regions or None, sectors or None)


def grant_scope(regions: Any, sectors: Any) -> Scope:
    r, s = _codes(regions), _codes(sectors)
    return Scope(r or None, s or None)
