"""Who is calling: the user of an action context, the client's address
behind the proxies this deployment trusts, and the request's metadata that
the audit log keeps. One helper each, used by actions, auth functions,
views and the audit log alike.

The client's address: ``X-Forwarded-For`` is written by the client unless a
proxy we run overwrites it, so only the entries added by the configured
number of trusted proxies (``ckanext.umkm.trusted_proxies``, default 0: the
portal is reached directly) are believed. ``install_proxy_fix`` applies this
to the WSGI environment once, with werkzeug's ``ProxyFix``, so that
``request.remote_addr`` is the client everywhere (CKAN, its extensions, the
portal).
"""

from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

USER_AGENT_LIMIT = 500


def context_user(context: dict[str, Any] | None) -> model.User | None:
    """The user an action or auth function runs for: the context's user
    object or name, else the request's logged-in user."""
    context = context or {}
    user = context.get("auth_user_obj")
    if isinstance(user, model.User):
        return user
    name = context.get("user")
    if name:
        return model.User.get(name)
    from flask import has_request_context

    if has_request_context():
        current = tk.current_user
        return current if isinstance(current, model.User) else None
    return None


def actor_name(context: dict[str, Any] | None) -> str:
    """The name the audit log and histories record for the caller."""
    user = context_user(context)
    return user.name if user else str((context or {}).get("user") or "")


def nested_context(context: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A fresh context for a nested action on behalf of the same caller
    (CKAN actions write into the context they are given)."""
    keep = {k: context[k] for k in ("user", "auth_user_obj", "ignore_auth") if k in context}
    return {**keep, **extra}


def site_context(**extra: Any) -> dict[str, Any]:
    """The context of the portal itself (the site user): jobs, commands and
    steps that no user makes, such as a scheduled release."""
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site_user["name"], "ignore_auth": True, **extra}


def trusted_proxies() -> int:
    return max(tk.asint(tk.config.get("ckanext.umkm.trusted_proxies", 0) or 0), 0)


def install_proxy_fix(app: Any) -> None:
    """Believe ``X-Forwarded-For``/``-Proto`` only as far as the configured
    number of proxies in front of the portal wrote them."""
    hops = trusted_proxies()
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def client_ip() -> str | None:
    """The client's address for this request (None outside a request)."""
    from flask import has_request_context, request

    if not has_request_context():
        return None
    return request.remote_addr or None


def request_meta() -> dict[str, Any]:
    """What the audit log records of the request: the client's address and
    user agent (absent outside a request, e.g. CLI and jobs)."""
    from flask import has_request_context, request

    if not has_request_context():
        return {}
    meta: dict[str, Any] = {}
    ip = client_ip()
    if ip:
        meta["ip"] = ip
    agent = request.headers.get("User-Agent")
    if agent:
        meta["user_agent"] = agent[:USER_AGENT_LIMIT]
    return meta
