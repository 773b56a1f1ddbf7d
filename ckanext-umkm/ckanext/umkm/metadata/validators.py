"""Validators of the metadata standard (docs/metadata-standard-design.md).

Field-aware validators are scheming validators: scheming calls them with the
field (and schema) definition and uses the validator they return, so one
validator serves every field and reads its rules (choices, levels, the record
type a link points to, conditions) from the schema file.

Messages are English msgids; the ``id`` catalogue translates them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import StopOnError, missing

from ckanext.scheming.validation import scheming_validator

_ = tk._

Key = tuple[Any, ...]
Validator = Callable[[Key, dict, dict, Any], None]

TEXT_MAX = 1_000
MARKDOWN_MAX = 10_000
YES = {"true", "ya", "yes", "1", "on", "y"}
NO = {"false", "tidak", "no", "0", "off", "n"}


# --- small parts -----------------------------------------------------------

def is_empty(value: Any) -> bool:
    return value is missing or value is None or value == "" or value == [] or value == {}


def as_list(value: Any) -> list:
    """A multi-value answer as a list, whatever way it arrived: a list (API,
    repeated form inputs), a JSON list (stored), or a ``,``/``;`` separated
    string (one text input, spreadsheet cell)."""
    if is_empty(value):
        return []
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                items = [text]
        else:
            items = text.replace(";", ",").split(",")
    else:
        items = [value]
    out = []
    for item in items:
        item = str(item).strip() if not isinstance(item, str) else item.strip()
        if item and item not in out:
            out.append(item)
    return out


def yes_no(value: Any) -> bool | None:
    """True/False for the ways a yes/no answer is written; None if it is not one."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def _condition_values(value: Any) -> set[str]:
    """The other field's answer as strings comparable with ``condition.values``."""
    if isinstance(value, bool):
        return {"true" if value else "false"}
    values = set()
    for item in as_list(value):
        answer = yes_no(item)
        values.add(item if answer is None else ("true" if answer else "false"))
        values.add(item)
    return values


def _drop(key: Key, data: dict) -> None:
    """Forget an answer. A package column (notes, url, ...) is set to None so
    that an update clears it; any other field is removed, as ignore_missing does."""
    if len(key) == 1 and key[0] in _package_columns():
        data[key] = None
    else:
        data.pop(key, None)


def _package_columns() -> set[str]:
    return {c.name for c in model.package_table.columns}


def _stop_empty(field: dict, key: Key, data: dict, errors: dict) -> None:
    """Shared handling of an empty answer: an error if required, else drop it."""
    if field.get("required"):
        errors[key].append(_("Missing value"))
    _drop(key, data)
    raise StopOnError


def _add_error(errors: dict, key: Key, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _label(field: dict) -> str:
    label = field.get("label") or field["field_name"]
    if isinstance(label, dict):
        lang = tk.h.lang() if _has_request() else "id"
        return label.get(lang) or label.get("id") or label.get("en") or field["field_name"]
    return str(label)


def _has_request() -> bool:
    try:
        from flask import has_request_context

        return has_request_context()
    except Exception:  # noqa: BLE001 - outside Flask entirely
        return False


# --- conditions --------------------------------------------------------------

@scheming_validator
def umkm_conditional(field: dict, schema: dict) -> Validator:
    """Parts of a form that apply only for some answers (Blok V only for
    surveys, 4.2 only for repeated activities, ...): when the condition holds,
    ``required_when_applicable`` makes the field mandatory; when it does not,
    the answer is dropped so that hidden parts never keep stale values."""
    if not field.get("condition"):
        return lambda key, data, errors, context: None
    fields = {f["field_name"]: f for f in schema.get("dataset_fields") or schema.get("fields") or []}
    required = bool(field.get("required_when_applicable"))

    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        if not applies(field, data, fields):
            _drop(key, data)
            raise StopOnError
        if required and is_empty(data.get(key)):
            errors[key].append(_("Missing value"))
            raise StopOnError

    return validator


def applies(field: dict, data: dict, fields: dict[str, dict], depth: int = 0) -> bool:
    """Whether a conditional field applies, following conditions on
    conditional fields (4.5 → 4.4, identitas rekomendasi → rekomendasi → 5.x)."""
    condition = field.get("condition")
    if not condition or depth > 10:
        return True
    other = fields.get(condition["field"])
    if other is not None and not applies(other, data, fields, depth + 1):
        return False
    wanted = {str(v) for v in condition["values"]}
    return bool(_condition_values(data.get((condition["field"],))) & wanted)


# --- answers -----------------------------------------------------------------

@scheming_validator
def umkm_text(field: dict, schema: dict) -> Validator:
    default_max = MARKDOWN_MAX if field.get("form_snippet") == "markdown.html" else TEXT_MAX
    limit = int(field.get("max_length", default_max))

    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
        if is_empty(value):
            _stop_empty(field, key, data, errors)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            errors[key].append(_("Must be text"))
            raise StopOnError
        if len(value) > limit:
            errors[key].append(
                _("Must be at most {max} characters long (it has {n})").format(max=limit, n=len(value)))
            raise StopOnError
        data[key] = value

    return validator


def _choice_values(field: dict) -> list[str]:
    return [str(c["value"]) for c in field.get("choices", [])]


@scheming_validator
def umkm_choice(field: dict, schema: dict) -> Validator:
    allowed = _choice_values(field)

    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
        if is_empty(value):
            _stop_empty(field, key, data, errors)
        if str(value) not in allowed:
            errors[key].append(
                _('Unknown value "{value}"; allowed: {allowed}').format(
                    value=value, allowed=", ".join(allowed)))
            raise StopOnError
        data[key] = str(value)

    return validator


@scheming_validator
def umkm_multiple_choice(field: dict, schema: dict) -> Validator:
    allowed = _choice_values(field)

    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        values = as_list(data.get(key))
        if not values:
            if field.get("required"):
                errors[key].append(_("Select at least one"))
            _drop(key, data)
            raise StopOnError
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors[key].append(
                _('Unknown value "{value}"; allowed: {allowed}').format(
                    value=", ".join(unknown), allowed=", ".join(allowed)))
            raise StopOnError
        # Stored in the schema's order, like the paper form's bitmask.
        data[key] = json.dumps([v for v in allowed if v in values])

    return validator


@scheming_validator
def umkm_yes_no(field: dict, schema: dict) -> Validator:
    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if is_empty(value) or (isinstance(value, str) and not value.strip()):
            _stop_empty(field, key, data, errors)
        answer = yes_no(value)
        if answer is None:
            errors[key].append(_('Answer "Ya" or "Tidak" (true/false), not "{value}"').format(value=value))
            raise StopOnError
        # Extras hold text: "true"/"false", turned back into booleans on output.
        data[key] = "true" if answer else "false"

    return validator


def umkm_yes_no_output(value: Any) -> Any:
    answer = yes_no(value)
    return value if answer is None else answer


@scheming_validator
def umkm_integer(field: dict, schema: dict) -> Validator:
    low, high = field.get("min"), field.get("max")

    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
        if is_empty(value):
            _stop_empty(field, key, data, errors)
        try:
            number = int(str(value))
        except ValueError:
            errors[key].append(_("Must be a whole number"))
            raise StopOnError from None
        if (low is not None and number < low) or (high is not None and number > high):
            errors[key].append(_("Must be between {low} and {high}").format(
                low="-∞" if low is None else low, high="∞" if high is None else high))
            raise StopOnError
        data[key] = str(number)

    return validator


@scheming_validator
def umkm_year(field: dict, schema: dict) -> Validator:
    return umkm_integer(dict(field, min=field.get("min", 1900), max=field.get("max", 2100)), schema)


def umkm_integer_output(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


@scheming_validator
def umkm_date(field: dict, schema: dict) -> Validator:
    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
        if is_empty(value):
            _stop_empty(field, key, data, errors)
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            data[key] = value.isoformat()
            return
        try:
            data[key] = datetime.date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            errors[key].append(_("Must be a date in the form YYYY-MM-DD"))
            raise StopOnError from None

    return validator


def umkm_http_url(key: Key, data: dict, errors: dict, context: Any) -> None:
    """A link shown on the page: http(s) only (never ``javascript:``), bounded."""
    value = data.get(key)
    if is_empty(value):
        return
    text = str(value).strip()
    if len(text) > 1000 or not text.lower().startswith(("http://", "https://")):
        errors[key].append(_("Must be an http:// or https:// address of at most 1000 characters"))
        raise StopOnError
    data[key] = text


def umkm_list_output(value: Any) -> Any:
    """Lists are stored as JSON text in extras."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --- reference codes ---------------------------------------------------------

SCHEME_NAMES = {"wilayah": "region", "kbli": "KBLI"}


@scheming_validator
def umkm_reference_code(field: dict, schema: dict) -> Validator:
    from ckanext.umkm.metadata import reference_codes

    scheme = field["reference_scheme"]
    levels = field.get("reference_levels") or []
    multiple = bool(field.get("multiple"))

    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        raw = as_list(data.get(key))
        if not raw:
            _stop_empty(field, key, data, errors)
        if not multiple and len(raw) > 1:
            errors[key].append(_("Give one code only"))
            raise StopOnError
        codes = [reference_codes.normalize(scheme, code) for code in raw]
        malformed = [c for c in codes if not reference_codes.level_of(scheme, c)]
        for code in malformed:
            errors[key].append(_('"{code}" is not a well-formed {scheme} code').format(
                code=code, scheme=SCHEME_NAMES[scheme]))
        known = reference_codes.get_many(scheme, [c for c in codes if c not in malformed])
        for code in codes:
            if code in malformed:
                continue
            if code not in known:
                errors[key].append(_('Unknown {scheme} code "{code}"').format(
                    code=code, scheme=SCHEME_NAMES[scheme]))
            elif levels and known[code].level not in levels:
                errors[key].append(_('Code "{code}" is at level {level}; expected: {levels}').format(
                    code=code, level=known[code].level, levels=", ".join(levels)))
        if errors[key]:
            raise StopOnError
        data[key] = json.dumps(codes) if multiple else codes[0]

    return validator


# --- links between records -------------------------------------------------

@scheming_validator
def umkm_package_ref(field: dict, schema: dict) -> Validator:
    ref_type = field["ref_dataset_type"]
    multiple = bool(field.get("multiple"))

    def validator(key: Key, data: dict, errors: dict, context: Any) -> None:
        refs = as_list(data.get(key))
        if not refs:
            _stop_empty(field, key, data, errors)
        if not multiple and len(refs) > 1:
            errors[key].append(_("Give one record only"))
            raise StopOnError
        ids = []
        for ref in refs:
            pkg = model.Package.get(ref)
            if (pkg is None or pkg.type != ref_type or pkg.state == model.State.DELETED
                    or not _can_read(context, pkg.id)):
                errors[key].append(_('No {type} record "{ref}" exists').format(type=ref_type, ref=ref))
                continue
            if pkg.id == data.get(("id",)):
                errors[key].append(_("A record cannot refer to itself"))
                continue
            if pkg.id not in ids:
                ids.append(pkg.id)
        if errors[key]:
            raise StopOnError
        data[key] = json.dumps(ids) if multiple else ids[0]

    return validator


def _can_read(context: Any, package_id: str) -> bool:
    """A link may only name records its author can see, so that a link never
    reveals that a private record exists."""
    if context.get("ignore_auth"):
        return True
    try:
        tk.check_access("package_show", {"user": context.get("user"), "model": model},
                        {"id": package_id})
    except tk.NotAuthorized:
        return False
    return True


def _stored_list(pkg: model.Package, name: str) -> list[str]:
    return as_list(pkg.extras.get(name))


# --- whole-record checks -----------------------------------------------------

def umkm_record_checks(key: Key, data: dict, errors: dict, context: Any) -> None:
    """Rules that span fields, per record type (schema ``after_validators``)."""
    kind = data.get(("type",))
    if kind == "kegiatan":
        _check_stages(data, errors)
    elif kind == "variabel":
        _check_value_domain(data, errors)
    elif kind == "indikator":
        _check_composition(data, errors)
        _default_kegiatan_penghasil(data)


def _rows(data: dict, field: str) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for k, v in data.items():
        if len(k) == 3 and k[0] == field and isinstance(k[1], int):
            rows.setdefault(k[1], {})[k[2]] = v
    return rows


def _check_stages(data: dict, errors: dict) -> None:
    field = "iii_rencana_jadwal_kegiatan"
    for index, row in _rows(data, field).items():
        start, end = row.get("awal"), row.get("akhir")
        if isinstance(start, str) and isinstance(end, str) and end < start:
            _add_error(errors, (field, index, "akhir"), _("The end date is before the start date"))


def _check_value_domain(data: dict, errors: dict) -> None:
    from ckanext.umkm.metadata import reference_codes

    rows = _rows(data, "value_domain")
    has_rows = any(not is_empty(row.get("kode")) for row in rows.values())
    reference = _extra(data, "value_domain_reference")
    level = _extra(data, "value_domain_reference_level")
    if not has_rows and is_empty(reference):
        # With (empty) rows, on the first row's code: the rows' own errors are
        # per row, and a message about the whole field beside them cannot be
        # unflattened (the form answered 400 instead of showing its errors).
        key = ("value_domain", min(rows), "kode") if rows else ("value_domain",)
        # First, before the row's own "required": it says what to do instead.
        errors.setdefault(key, []).insert(0, _("Give the value domain: code/label pairs or a reference code list"))
    if not is_empty(level):
        if is_empty(reference):
            _add_error(errors, ("value_domain_reference_level",), _("Choose the code list first"))
        elif level not in reference_codes.LEVELS.get(reference, ()):
            _add_error(errors, ("value_domain_reference_level",),
                       _('Level "{level}" is not a level of {scheme}').format(level=level, scheme=reference))


def _check_composition(data: dict, errors: dict) -> None:
    """An indicator may not be built, directly or through others, from itself."""
    own_id = data.get(("id",))
    if not own_id:
        return  # a new record cannot be anyone's component yet
    start = as_list(_extra(data, "indikator_pembangun"))
    seen: dict[str, str | None] = {}
    queue = [(ref, None) for ref in start]
    while queue:
        ref, via = queue.pop(0)
        if ref in seen:
            continue
        seen[ref] = via
        if ref == own_id:
            path = [ref]
            while seen.get(path[-1]):
                path.append(seen[path[-1]])
            names = [(model.Package.get(p).name if model.Package.get(p) else p) for p in reversed(path)]
            own = model.Package.get(own_id)
            chain = " → ".join([own.name if own else own_id, *names])
            _add_error(errors, ("indikator_pembangun",),
                       _("Circular composition: {chain}").format(chain=chain))
            return
        pkg = model.Package.get(ref)
        if pkg is not None:
            queue.extend((child, ref) for child in _stored_list(pkg, "indikator_pembangun"))


def _default_kegiatan_penghasil(data: dict) -> None:
    if as_list(_extra(data, "kegiatan_penghasil")):
        return
    kegiatan: list[str] = []
    for ref in as_list(_extra(data, "variabel_pembangun")):
        pkg = model.Package.get(ref)
        parent = pkg.extras.get("kegiatan") if pkg is not None else None
        if parent and parent not in kegiatan:
            kegiatan.append(parent)
    if kegiatan:
        _set_extra(data, "kegiatan_penghasil", json.dumps(kegiatan))


# Scheming fields are moved into extras before the after-validators run.
def _extra(data: dict, name: str) -> Any:
    for k, v in data.items():
        if len(k) == 3 and k[0] == "extras" and k[2] == "key" and v == name:
            return data.get(("extras", k[1], "value"))
    value = data.get((name,))
    return None if value is missing else value


def _set_extra(data: dict, name: str, value: str) -> None:
    indexes = [k[1] for k in data if len(k) == 3 and k[0] == "extras"]
    for index in set(indexes):
        if data.get(("extras", index, "key")) == name:
            data[("extras", index, "value")] = value
            return
    index = max(indexes, default=-1) + 1
    data[("extras", index, "key")] = name
    data[("extras", index, "value")] = value


def get_validators() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_conditional": umkm_conditional,
        "umkm_text": umkm_text,
        "umkm_choice": umkm_choice,
        "umkm_multiple_choice": umkm_multiple_choice,
        "umkm_yes_no": umkm_yes_no,
        "umkm_yes_no_output": umkm_yes_no_output,
        "umkm_integer": umkm_integer,
        "umkm_year": umkm_year,
        "umkm_integer_output": umkm_integer_output,
        "umkm_date": umkm_date,
        "umkm_list_output": umkm_list_output,
        "umkm_http_url": umkm_http_url,
        "umkm_reference_code": umkm_reference_code,
        "umkm_package_ref": umkm_package_ref,
        "umkm_record_checks": umkm_record_checks,
    }

