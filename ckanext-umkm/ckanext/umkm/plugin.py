"""The ``umkm`` CKAN plugin: declares the interfaces; logic lives in modules."""

from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from ckanext.umkm import cli, helpers, indexing, validators
from ckanext.umkm.actions import get_actions
from ckanext.umkm.auth import get_auth_functions
from ckanext.umkm.views import get_blueprints


class UmkmPlugin(DefaultTranslation, p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.IClick)
    p.implements(p.ITranslation)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IValidators)
    p.implements(p.ITemplateHelpers)
    p.implements(p.IBlueprint)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)

    # IConfigurer
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "umkm")

    # IClick
    def get_commands(self) -> list:
        return cli.get_commands()

    # IActions
    def get_actions(self) -> dict[str, Any]:
        return get_actions()

    # IAuthFunctions
    def get_auth_functions(self) -> dict[str, Any]:
        return get_auth_functions()

    # IValidators
    def get_validators(self) -> dict[str, Any]:
        return validators.get_validators()

    # ITemplateHelpers
    def get_helpers(self) -> dict[str, Any]:
        return helpers.get_helpers()

    # IBlueprint
    def get_blueprint(self) -> list:
        return get_blueprints()

    # IFacets
    def dataset_facets(self, facets_dict: dict, package_type: str) -> dict:
        return indexing.dataset_facets(facets_dict, package_type)

    # IPackageController
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return indexing.before_dataset_index(pkg_dict)

    def after_dataset_search(self, search_results: dict, search_params: dict) -> dict:
        return indexing.name_facet_items(search_results)

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        indexing.add_national_keys(pkg_dict)
