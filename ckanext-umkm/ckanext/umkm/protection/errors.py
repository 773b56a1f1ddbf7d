"""No 500s for bad input (OWASP ASVS 4.0.3 V7.4.1, V13.2): a parameter of
the wrong type or shape that CKAN, an extension or the portal does not
validate ends in an exception deep inside an action or a view. Such an
exception is the caller's error, not the server's: it is answered with a 400
and a readable message (JSON for the API, CKAN's error page otherwise), and
logged with its traceback so that the missing validation can be added.
Refusals and missing objects that a view lets through are a 403 and a 404.

Failures of the server itself (the database gone, a full disk) are not
among these types and stay 5xx.

CKAN's API view catches every exception of an action itself and answers
500; it logs the exception first (``ckan.views.api``). The portal's wrapper
of that view reads the exception from that log record and answers the
caller's errors with 400 instead; functions that ckanext-harvest's module
exposes as actions without being any (they fail before any auth check)
are a 404.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)


def _input_errors() -> tuple[type[BaseException], ...]:
    import sqlalchemy.exc

    return (ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeError, RecursionError,
            OverflowError, sqlalchemy.exc.DataError)


# PostgreSQL's classes of errors that a value of the wrong type or shape
# causes: data exceptions (22…), and comparisons of the wrong types.
INPUT_PGCODES = ("22", "42883", "42804")


def is_input_error(error: BaseException | None) -> bool:
    import sqlalchemy.exc

    if isinstance(error, _input_errors()):
        return True
    if isinstance(error, sqlalchemy.exc.ProgrammingError):
        code = getattr(getattr(error, "orig", None), "pgcode", "") or ""
        return code.startswith(INPUT_PGCODES)
    # A list where one id belongs (``?id=a&id=b`` becomes a list in CKAN's
    # API), handed to the ORM's lookup by primary key.
    if isinstance(error, sqlalchemy.exc.InvalidRequestError):
        return "number of values in identifier" in str(error)
    return False


def _wrong_value() -> str:
    return tk._("The request cannot be processed: a parameter has a wrong value or type")


def _unreadable_search() -> str:
    return tk._("The search query cannot be read: check its brackets, quotes and field names")


def _bad_request_message(text: str) -> str:
    """CKAN's API answers a request it cannot read with a bare string
    ("Bad request - …", in English after the first words); the portal says
    what is wrong, in the site's language."""
    if "Please use POST method" in text or "Please use the POST method" in text:
        return tk._("This action changes data: send it with the POST method and the parameters as a JSON object")
    if "Action name not known" in text:
        return tk._("No such action: {name}").format(name=text.rsplit(":", 1)[-1].strip()[:100])
    if "JSON" in text:
        return tk._("The request body cannot be read: send the parameters as one JSON object")
    if "Search Query is invalid" in text:
        return _unreadable_search()
    return _wrong_value()


def _not_an_action(error: BaseException | None) -> bool:
    return isinstance(error, Exception) and "did not call its auth function" in str(error)


class _ApiErrorCapture(logging.Filter):
    """Keeps, for the request, the exception CKAN's API view logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import g, has_request_context

        if record.exc_info and has_request_context():
            g._umkm_api_error = record.exc_info[1]
        return True


def _guard_api(view: Any) -> Any:
    def action(*args: Any, **kwargs: Any) -> Any:
        from flask import g

        response = view(*args, **kwargs)
        status = getattr(response, "status_code", 200)
        if status in (400, 409) and response.mimetype == "application/json":
            body = response.get_json(silent=True)
            if isinstance(body, str):
                return _json(400, "Bad Request", _bad_request_message(body))
            # CKAN's search error repeats the whole query sent to the search
            # service: its permission labels and internal filters.
            if isinstance(body, dict) and (body.get("error") or {}).get("__type") == "Search Error":
                return _json(409, "Search Error", _unreadable_search())
        if status != 500:
            return response
        error = g.pop("_umkm_api_error", None)
        if _not_an_action(error):
            return _json(404, "Not Found Error", tk._("Not found"))
        # (CKAN's member deletions ``assert`` that the group named exists.)
        if is_input_error(error) or isinstance(error, AssertionError):
            _rollback()
            return _json(400, "Validation Error", _wrong_value())
        return response

    action.__name__ = view.__name__
    action.umkm_guard = True  # type: ignore[attr-defined]
    return action


def _rollback() -> None:
    """A value the database refused (a page number beyond bigint) aborts the
    transaction; the error page and the thread's next request need it gone."""
    from ckan import model

    try:
        model.Session.rollback()
    except Exception:  # noqa: BLE001 - the connection itself is gone: the 400 still stands
        log.exception("rollback after bad input failed")


def _json(status: int, kind: str, message: str) -> Any:
    from flask import Response

    body = json.dumps({"success": False, "error": {"__type": kind, "message": message}})
    return Response(body, status=status, mimetype="application/json")


def _answer(app: Any, status: int, message: str) -> Any:
    from flask import request
    from werkzeug.exceptions import BadRequest, Forbidden, NotFound

    if request.path.startswith("/api/"):
        kind = {400: "Validation Error", 403: "Authorization Error", 404: "Not Found Error"}[status]
        return _json(status, kind, message)
    error = {400: BadRequest, 403: Forbidden, 404: NotFound}[status]
    return app.handle_http_exception(error(message or None))


RETURN_ARGS = ("came_from", "next")


def is_local_path(value: str) -> bool:
    """A path on this site (what ``came_from`` and ``next`` may hold)."""
    value = value.strip()
    return value.startswith("/") and not value.startswith("//") and not any(c in value for c in "\t\r\n\\")


def drop_foreign_return_targets() -> None:
    """CKAN's login and logout take ``came_from``/``next`` and treat anything
    that is not a URL elsewhere as an endpoint name: ``?came_from=abc`` ended
    a successful login in a 500 (a BuildError). Only a path on this site is
    kept; anything else is dropped, and the user lands where CKAN sends them
    without one."""
    from flask import request
    from werkzeug.datastructures import ImmutableMultiDict

    if not any(key in request.args for key in RETURN_ARGS):
        return
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in RETURN_ARGS or is_local_path(v)]
    if len(kept) != len(list(request.args.items(multi=True))):
        request.args = ImmutableMultiDict(kept)  # type: ignore[misc]


def install(app: Any) -> None:
    from ckan.views import api

    app.before_request(drop_foreign_return_targets)
    logging.getLogger("ckan.views.api").addFilter(_ApiErrorCapture())
    for endpoint, view in list(app.view_functions.items()):
        if view is api.action:
            app.view_functions[endpoint] = _guard_api(view)

    def bad_input(error: BaseException) -> Any:
        from flask import request

        from ckanext.umkm import caller

        log.warning("bad input answered with 400: %s %s from %s", request.method, request.path, caller.client_ip(),
                    exc_info=error)
        _rollback()
        return _answer(app, 400, _wrong_value())

    from ckan.lib.search.common import SearchError, SearchQueryError
    from jinja2 import TemplateNotFound
    from rdflib.plugin import PluginException

    # Also: a search query the search service cannot parse (CKAN's feeds
    # pass it on), a DCAT format nobody serializes, a ValidationError that a
    # view lets through (CKAN's dump does).
    for kind in (*_input_errors(), SearchError, SearchQueryError, PluginException, tk.ValidationError):
        app.register_error_handler(kind, bad_input)
    app.register_error_handler(TemplateNotFound, lambda e: _answer(app, 404, tk._("Not found")))
    # A refusal or a missing object that a view lets through (CKAN's
    # datatables filtered download does).
    app.register_error_handler(tk.NotAuthorized, lambda e: _answer(app, 403, str(e)))
    app.register_error_handler(tk.ObjectNotFound, lambda e: _answer(app, 404, str(e)))
