"""Blueprints of the portal, one module per concern."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
from flask import Blueprint


def flash_validation_errors(error: tk.ValidationError) -> None:
    """A ValidationError as one flash message per field message."""
    for field, messages in error.error_dict.items():
        for message in messages if isinstance(messages, list) else [messages]:
            tk.h.flash_error(f"{tk._(field)}: {message}")


def get_blueprints() -> list[Blueprint]:
    from ckanext.umkm.views import access, exchange, reference, release, two_factor

    return [*reference.get_blueprints(), *exchange.get_blueprints(), *release.get_blueprints(), *access.get_blueprints(),
            *two_factor.get_blueprints()]
