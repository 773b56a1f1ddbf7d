"""Row-level scoped extracts of restricted DataStore tables.

A restricted table reaches an agency whose scope does not cover the whole
dataset as only the rows within that scope: the DataStore query gets a WHERE
clause on the columns that the dataset's linked variables declare as
Kemendagri wilayah or KBLI codes (``value_domain_reference``). The clause is
ANDed with whatever the caller asked, so no filter or full-text query can
reach rows outside it. Wilayah codes match with or without dots
(``32.73.01`` and ``327301``). A table without the needed column cannot be
scoped: nothing is delivered.
"""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa

from ckanext.umkm.access.scope import Scope
from ckanext.umkm.metadata import reference_codes
from ckanext.umkm.release import checks as release_checks


class Unscoped(Exception):
    """The table has no column to limit the rows by."""


def scope_columns(pkg_dict: dict[str, Any]) -> dict[str, str]:
    """The column holding wilayah codes and the one holding KBLI codes."""
    out: dict[str, str] = {}
    for name, column in release_checks.linked_columns(pkg_dict).items():
        if column.reference and column.reference[0] in ("wilayah", "kbli"):
            out.setdefault(column.reference[0], name)
    return out


def _kbli_golpok(letter: str) -> list[str]:
    return [c.code for c in reference_codes.children("kbli", letter)]


def where_clause(scopes: list[Scope], pkg_dict: dict[str, Any], fields_types: dict[str, str]
                 ) -> tuple[str, dict[str, Any]]:
    """``(clause, params)`` limiting rows to the union of ``scopes``."""
    columns = scope_columns(pkg_dict)
    counter = itertools.count()
    params: dict[str, Any] = {}

    def param(value: Any) -> str:
        key = f"umkm_scope_{next(counter)}"
        params[key] = value
        return f":{key}"

    def column(scheme: str) -> str:
        name = columns.get(scheme)
        if not name or name not in fields_types:
            raise Unscoped(scheme)
        return f"({sa.column(name)})::text"

    alternatives = []
    for scope in scopes:
        parts = []
        if scope.regions is not None:
            col = column("wilayah")
            parts.append(" OR ".join(
                f"replace({col}, '.', '') LIKE {param(r.replace('.', '') + '%')}" for r in scope.regions) or "false")
        if scope.sectors is not None:
            col = column("kbli")
            options = []
            for s in scope.sectors:
                if s.isalpha():
                    golpok = _kbli_golpok(s)
                    options.append(f"upper({col}) = {param(s)}")
                    if golpok:
                        # One parameter per code: CSV dumps render the query with literal values.
                        options.append(f"left({col}, 2) IN ({', '.join(param(g) for g in golpok)})")
                else:
                    options.append(f"{col} LIKE {param(s + '%')}")
            parts.append(" OR ".join(options) or "false")
        alternatives.append(" AND ".join(f"({p})" for p in parts) or "true")
    return " OR ".join(f"({a})" for a in alternatives) or "false", params
