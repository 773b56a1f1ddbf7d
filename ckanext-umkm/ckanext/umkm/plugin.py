"""The ``umkm`` CKAN plugin: declares the interfaces; logic lives in modules."""

from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultPermissionLabels, DefaultTranslation

from ckanext.datastore.interfaces import IDatastore
from ckanext.event_audit.interfaces import IEventAudit
from ckanext.umkm import caller, cli, helpers
from ckanext.umkm.access import extracts as scoped_extracts
from ckanext.umkm.access import gate as restricted_access
from ckanext.umkm.access import two_factor
from ckanext.umkm.actions import get_actions
from ckanext.umkm.audit import file_integrity
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.auth import get_auth_functions
from ckanext.umkm.federation import change_feed, national_keys
from ckanext.umkm.metadata import indexing, validators
from ckanext.umkm.protection import errors, headers, limits
from ckanext.umkm.release import workflow as release_workflow
from ckanext.umkm.requests import outcomes as request_outcomes
from ckanext.umkm.views import get_blueprints


@tk.blanket.config_declarations
class UmkmPlugin(DefaultTranslation, DefaultPermissionLabels, p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
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
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.IResourceController, inherit=True)
    p.implements(IEventAudit, inherit=True)
    p.implements(p.IAuthenticator, inherit=True)
    p.implements(p.IApiToken, inherit=True)

    # IConfigurer
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "umkm")
        # A DCAT catalogue page is never larger than a search may return.
        from ckanext.umkm.federation import dcat_catalog

        dcat_catalog.bound_page_size(config)

    # IConfigurable: no portal without the key of two-step login's secrets.
    def configure(self, config: tk.CKANConfig) -> None:
        two_factor.encryption_keys()

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

    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return change_feed.scope_search(search_params)

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        from ckanext.umkm.federation import dcat_catalog

        change_feed.sync(pkg_dict)
        dcat_catalog.warm_after_index(pkg_dict)
        return indexing.before_dataset_index(pkg_dict)

    def after_dataset_search(self, search_results: dict, search_params: dict) -> dict:
        return indexing.name_facet_items(search_results)

    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        for res in pkg_dict.get("resources", []):
            file_integrity.record(res)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        for res in pkg_dict.get("resources", []):
            file_integrity.record(res)

    # IResourceController: the SHA-256 of each file CKAN stores.
    # (CKAN has committed the resource unless the caller defers the commit.)
    def after_resource_create(self, context: Any, resource: dict[str, Any]) -> None:
        file_integrity.record(resource)
        if not context.get("defer_commit"):
            model.Session.commit()

    def after_resource_update(self, context: Any, resource: dict[str, Any]) -> None:
        file_integrity.record(resource)
        if not context.get("defer_commit"):
            model.Session.commit()

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        national_keys.add(pkg_dict)
        file_integrity.annotate(pkg_dict)
        # Internal reads (no user) and edits see the record as stored.
        internal = context.get("umkm_no_redact") or context.get("for_update") or context.get("for_edit") or (
            context.get("ignore_auth") and not context.get("user"))
        if not internal:
            restricted_access.redact(pkg_dict, caller.context_user(context))

    # IMiddleware: the download views of restricted data go through the gate;
    # the client's address is believed as far as the trusted proxies go.
    def make_middleware(self, app: Any, config: Any) -> Any:
        from flask import Flask

        if isinstance(app, Flask):
            from ckanext.umkm.views.access import install_gate

            install_gate(app)
            # The DCAT endpoints answer conditional requests and refuse bad parameters with 400.
            from ckanext.umkm.views.federation import install_catalog_views

            install_catalog_views(app)
            caller.install_proxy_fix(app)
            limits.install(app)
            headers.install(app)
            errors.install(app)
        return app

    # IAuthenticator: users with two-step login on give a code after the password.
    def login(self) -> Any:
        from ckanext.umkm.views.two_factor import login_step

        return login_step()

    def logout(self) -> None:
        two_factor.forget_session()

    # IApiToken: a token created by a two-step login carries that in its signed claims.
    # A token of the site user made on the server is the portal's own services'.
    def postprocess_api_token(self, data: dict[str, Any], jti: str, data_dict: dict[str, Any]) -> dict[str, Any]:
        owner = model.User.get(data_dict.get("user"))
        if two_factor.backs_new_token(owner):
            data[two_factor.TOKEN_CLAIM] = True
        if two_factor.service_token_claim(owner):
            data[two_factor.SERVICE_CLAIM] = True
        data.update(request_outcomes.token_claims(owner, data_dict))
        return data

    # IEventAudit: events are stored in a hash chain.
    def register_repository(self) -> dict[str, Any]:
        return {audit_log.ChainedPostgresRepository.get_name(): audit_log.ChainedPostgresRepository}


class UmkmDatastorePlugin(p.SingletonPlugin):
    """The DataStore side of the restricted-data gate, a plugin of its own
    because CKAN wants the ``datastore`` plugin loaded before any other
    IDatastore plugin, and ``umkm`` loads first (its templates win)."""

    p.implements(IDatastore, inherit=True)

    # IDatastore: restricted tables deliver only the rows within the reader's scope.
    def datastore_search(self, context: Any, data_dict: dict, fields_types: dict, query_dict: dict) -> dict:
        scoped = context.get("umkm_row_scope")
        if scoped:
            decision, pkg = scoped
            if not decision.full:
                try:
                    clause = scoped_extracts.where_clause(decision.scopes, pkg, fields_types)
                except scoped_extracts.Unscoped:
                    raise tk.NotAuthorized(restricted_access.message("unscoped")) from None
                query_dict.setdefault("where", []).append(clause)
        return query_dict
