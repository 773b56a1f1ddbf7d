"""The ``umkm`` CKAN plugin: declares the interfaces; logic lives in modules."""

from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultPermissionLabels, DefaultTranslation

from ckanext.umkm import cli, helpers, indexing, release_workflow, validators
from ckanext.umkm.actions import get_actions
from ckanext.umkm.auth import get_auth_functions
from ckanext.umkm.views import get_blueprints


class UmkmPlugin(DefaultTranslation, DefaultPermissionLabels, p.SingletonPlugin):
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
    p.implements(p.IPermissionLabels)

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

    # IPermissionLabels: reviewers find the records handed over to them.
    def get_dataset_labels(self, dataset_obj: Any) -> list[str]:
        labels = super().get_dataset_labels(dataset_obj)
        if dataset_obj.private and release_workflow.reviewers_may_read(dataset_obj):
            labels.append(release_workflow.REVIEW_LABEL)
        return labels

    def get_user_dataset_labels(self, user_obj: Any) -> list[str]:
        labels = super().get_user_dataset_labels(user_obj)
        if isinstance(user_obj, model.User) and release_workflow.user_roles(user_obj):
            labels.append(release_workflow.REVIEW_LABEL)
        return labels

    # IPackageController
    def create(self, entity: Any) -> None:
        release_workflow.on_create(entity)

    def edit(self, entity: Any) -> None:
        release_workflow.on_edit(entity)

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return indexing.before_dataset_index(pkg_dict)

    def after_dataset_search(self, search_results: dict, search_params: dict) -> dict:
        return indexing.name_facet_items(search_results)

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        indexing.add_national_keys(pkg_dict)
