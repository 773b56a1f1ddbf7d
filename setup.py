"""Packaging for ckanext-umkm, the Portal Satu Data UMKM extension for CKAN 2.11.

The Python package lives under ``ckanext-umkm/`` (layout fixed by the design card).
Every dependency is pinned: a fresh machine must get exactly what CI tested.
"""

from setuptools import find_namespace_packages, setup

INSTALL_REQUIRES = [
    # CKAN itself with its own pinned requirement set.
    "ckan[requirements]==2.11.6",
    # Maintained CKAN extensions the portal builds on.
    "ckanext-scheming==3.1.0",
    "ckanext-dcat==2.4.4",
    "ckanext-harvest==1.6.3",
    # 2.6.x needs certifi>=2026.7, which conflicts with CKAN 2.11.6's pin.
    "ckanext-xloader==2.5.2",
    # ckanext-xloader imports these but does not declare them.
    "tabulator==1.53.5",
    "chardet==5.2.0",
    "Unidecode==1.3.8",
    "psycopg2==2.9.11",
    "pysolr==3.11.0",
    "flask==3.1.3",
    # Embedded Solr-compatible search service.
    "tantivy==0.25.1",
    "orjson==3.13.0",
    "luqum==1.0.0",
    "PyStemmer==3.0.0",
    "waitress==3.0.2",
    # Metadata templates and imports (CSV/XLSX).
    "openpyxl==3.1.5",
    "holidays==0.109",
    "frictionless==5.18.1",
    "icalendar==6.3.1",
    # The audit log's store and exporters; boto3 is its (unused here) CloudWatch backend.
    "ckanext-event-audit==2.0.0",
    "boto3==1.44.8",
    # Two-step login (TOTP), its QR code, and the encryption of its secrets.
    "pyotp==2.9.0",
    "segno==1.6.6",
    "cryptography==50.0.2",
    # Uploaded signed statements are parsed before Walidata opens them.
    "pypdf==7.1.1",
    # Reply letters of the request services are written as PDF.
    "fpdf2==2.8.3",
    # Abuse limits: moving windows in Redis (the library flask-limiter is built on).
    "limits[redis]==5.8.0",
    "Deprecated==1.3.1",
    # frictionless needs pydantic 2; the newest needs a typing-extensions newer than CKAN pins.
    "pydantic==2.10.6",
]

TEST_REQUIRES = [
    # CKAN's own pytest plugin ships inside the ckan package; these are the
    # libraries its fixtures and test modules import (CKAN's dev-requirements).
    "pytest==8.3.4",
    "pytest-factoryboy==2.7.0",
    "pytest-freezegun==0.4.2",
    "pytest-rerunfailures==15.0",
    "factory-boy==3.3.0",
    "Faker==26.0.0",
    "freezegun==1.5.1",
    "responses==0.25.3",
    "beautifulsoup4==4.12.3",
    "ruff==0.8.6",
    "selenium==4.27.1",
    "jsonschema==4.23.0",
    # A real SMTP server for the notification tests.
    "aiosmtpd==1.4.6",
    # Known vulnerabilities of the pinned set (PyPI's advisory data, OSV).
    "pip-audit==2.9.0",
    # The outbound DCAT catalogue is validated against the DCAT-AP 3 SHACL shapes.
    "pyshacl==0.40.1",
]

setup(
    name="ckanext-umkm",
    version="0.1.0",
    description="Portal Satu Data UMKM: CKAN 2.11 extension for Satu Data UMKM (Permen UMKM 8/2025)",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.11,<3.12",
    package_dir={"": "ckanext-umkm"},
    # Same namespace declaration as CKAN and its extensions, so that the
    # ckanext-*-nspkg.pth hooks they install see this package too.
    namespace_packages=["ckanext"],
    packages=find_namespace_packages(where="ckanext-umkm", include=["ckanext", "ckanext.*"]),
    include_package_data=True,
    package_data={
        "ckanext.umkm": ["templates/**/*", "public/**/*", "i18n/**/*", "demo/*.csv", "*.yaml",
                        "schemas/*", "metadata/reference/**/*", "migration/**/*", "assets/**/*", "access/nda/*.md"],
    },
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": TEST_REQUIRES},
    entry_points={
        "ckan.plugins": [
            "umkm = ckanext.umkm.plugin:UmkmPlugin",
            "umkm_datastore = ckanext.umkm.plugin:UmkmDatastorePlugin",
            "umkm_ckan_harvester = ckanext.umkm.federation.inbound:RegionalCKANHarvester",
            "umkm_dcat_harvest_guard = ckanext.umkm.egress.harvesters:DcatHarvestGuard",
        ],
        "console_scripts": [
            "umkm-search-service = ckanext.umkm.search_service.__main__:main",
        ],
        "babel.extractors": ["ckan = ckan.lib.extract:extract_ckan"],
        # The national DCAT profile, last in ckanext-dcat's chain.
        "ckan.rdf.profiles": ["umkm_sdi = ckanext.umkm.federation.dcat_profile:UmkmSdiProfile"],
    },
)
