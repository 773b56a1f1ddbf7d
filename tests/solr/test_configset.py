"""The production Solr configset stays CKAN 2.11's schema and is self-contained."""

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_configset_matches_ckan_schema_and_references_existing_files():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "solr", "check_configset.py")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "configset OK" in out.stdout
