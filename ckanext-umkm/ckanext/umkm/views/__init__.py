"""Blueprints of the portal, one module per concern."""

from __future__ import annotations

from flask import Blueprint


def get_blueprints() -> list[Blueprint]:
    from ckanext.umkm.views import access, exchange, reference, release

    return [*reference.get_blueprints(), *exchange.get_blueprints(), *release.get_blueprints(), *access.get_blueprints()]
