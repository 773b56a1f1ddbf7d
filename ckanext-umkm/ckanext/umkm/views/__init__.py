"""Blueprints of the portal, one module per concern."""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint


def view_context() -> dict[str, Any]:
    """The action context of a view: the signed-in user, or anonymous."""
    user = tk.current_user
    if getattr(user, "is_authenticated", False):
        return {"user": user.name, "auth_user_obj": user}
    return {"user": "", "auth_user_obj": None}


def flash_validation_errors(error: tk.ValidationError) -> None:
    """A ValidationError as one flash message per field message."""
    for field, messages in error.error_dict.items():
        for message in messages if isinstance(messages, list) else [messages]:
            tk.h.flash_error(f"{tk._(field)}: {message}")


def get_blueprints() -> list[Blueprint]:
    from ckanext.umkm.views import access, exchange, federation, reference, release, requests, two_factor

    return [*reference.get_blueprints(), *exchange.get_blueprints(), *release.get_blueprints(), *access.get_blueprints(),
            *two_factor.get_blueprints(), *requests.get_blueprints(), *federation.get_blueprints()]
