"""ckanext-umkm: the Portal Satu Data UMKM extension for CKAN 2.11.

Kept free of CKAN imports so that the ``search_service`` subpackage can run as
its own process without loading CKAN.
"""
