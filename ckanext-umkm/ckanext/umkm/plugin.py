"""The ``umkm`` CKAN plugin: declares the interfaces; logic lives in modules."""

from __future__ import annotations

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.umkm import cli


class UmkmPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.IClick)

    # IConfigurer
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")

    # IClick
    def get_commands(self) -> list:
        return cli.get_commands()
