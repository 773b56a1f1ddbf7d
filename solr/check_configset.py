#!/usr/bin/env python3
"""Static checks of the Solr configset in solr/ckan/conf (no Solr needed).

    python solr/check_configset.py [--ckan-schema PATH]

1. schema.xml and solrconfig.xml are well-formed XML.
2. Every file they reference (stop words, protected words, synonyms, ...)
   exists in conf/.
3. The schema is CKAN's: same name, uniqueKey, fields, dynamic fields,
   copyFields and field types as CKAN's own schema.xml (found in the
   installed ckan package, or given with --ckan-schema), except the analysis
   chain of the `text` field type, which is ours.
4. Word lists are lower case ASCII (the filters that read them run after
   LowerCase and ASCIIFolding) and no synonym rule contains a stop word
   (the stop filter runs after the synonym filter and would cut the rule).

Exits 1 with one line per problem, 0 with a summary line otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "ckan", "conf")
# Attributes of analysis factories that name resource files (comma-separated).
FILE_ATTRS = ("words", "protected", "synonyms", "dictionary", "articles", "types", "mapping")
OURS = {"text"}  # field types whose analyzers intentionally differ from CKAN's


def words_file(path: str) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def field_types(root: ET.Element) -> dict[str, ET.Element]:
    found = {}
    for tag in ("fieldType", "fieldtype"):
        for el in root.iter(tag):
            found[el.get("name")] = el
    return found


def fields(root: ET.Element, tag: str) -> dict[str, dict[str, str]]:
    return {el.get("name"): dict(el.attrib) for el in root.iter(tag)}


def copy_fields(root: ET.Element) -> set[tuple[str, str]]:
    return {(el.get("source"), el.get("dest")) for el in root.iter("copyField")}


def canonical(el: ET.Element) -> str:
    """Element as text, attribute order and whitespace normalised."""

    def walk(e: ET.Element) -> str:
        attrs = " ".join(f'{k}="{v}"' for k, v in sorted(e.attrib.items()))
        inner = "".join(walk(c) for c in e)
        return f"<{e.tag.lower() if e.tag == 'fieldtype' else e.tag} {attrs}>{inner}</>"

    return walk(el)


def find_ckan_schema() -> str | None:
    try:
        import ckan  # noqa: PLC0415
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(ckan.__file__), "config", "solr", "schema.xml")
    return path if os.path.isfile(path) else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckan-schema", help="CKAN's schema.xml (default: from the installed ckan package)")
    args = ap.parse_args()
    problems: list[str] = []

    # 1. well-formed XML
    trees = {}
    for name in ("schema.xml", "solrconfig.xml"):
        try:
            trees[name] = ET.parse(os.path.join(CONF, name)).getroot()
        except (OSError, ET.ParseError) as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        print("\n".join(problems))
        return 1
    schema, solrconfig = trees["schema.xml"], trees["solrconfig.xml"]

    # 2. referenced files exist
    referenced: set[str] = set()
    for root in (schema, solrconfig):
        for el in root.iter():
            if el.tag in ("filter", "tokenizer", "charFilter"):
                for attr in FILE_ATTRS:
                    for part in filter(None, (el.get(attr) or "").split(",")):
                        referenced.add(part.strip())
    for ref in sorted(referenced):
        if not os.path.isfile(os.path.join(CONF, ref)):
            problems.append(f"referenced file missing: conf/{ref}")
    if solrconfig.find("schemaFactory") is None or solrconfig.find("schemaFactory").get("class") != "ClassicIndexSchemaFactory":
        problems.append("solrconfig.xml: schemaFactory must be ClassicIndexSchemaFactory (schema.xml is hand-edited)")
    for handler in ("/select", "/update"):
        if not any(rh.get("name") == handler for rh in solrconfig.iter("requestHandler")):
            problems.append(f"solrconfig.xml: no {handler} request handler")

    # 3. same schema as CKAN's, apart from the `text` analyzers
    ckan_path = args.ckan_schema or find_ckan_schema()
    if ckan_path:
        ckan_root = ET.parse(ckan_path).getroot()
        if schema.get("name") != ckan_root.get("name"):
            problems.append(f"schema name {schema.get('name')!r} != CKAN's {ckan_root.get('name')!r}")
        if (schema.findtext("uniqueKey") or "").strip() != (ckan_root.findtext("uniqueKey") or "").strip():
            problems.append("uniqueKey differs from CKAN's")
        for tag in ("field", "dynamicField"):
            ours, theirs = fields(schema, tag), fields(ckan_root, tag)
            for name in sorted(set(ours) | set(theirs)):
                if ours.get(name) != theirs.get(name):
                    problems.append(f"{tag} {name!r}: ours {ours.get(name)} != CKAN's {theirs.get(name)}")
        if copy_fields(schema) != copy_fields(ckan_root):
            problems.append(
                f"copyFields differ: only ours {sorted(copy_fields(schema) - copy_fields(ckan_root))}, "
                f"only CKAN's {sorted(copy_fields(ckan_root) - copy_fields(schema))}"
            )
        ours_t, theirs_t = field_types(schema), field_types(ckan_root)
        if set(ours_t) != set(theirs_t):
            problems.append(f"field types differ: {sorted(set(ours_t) ^ set(theirs_t))}")
        for name in sorted(set(ours_t) & set(theirs_t)):
            if name in OURS:
                if {k: v for k, v in ours_t[name].attrib.items()} != {k: v for k, v in theirs_t[name].attrib.items()}:
                    problems.append(f"field type {name!r}: attributes differ from CKAN's")
            elif canonical(ours_t[name]) != canonical(theirs_t[name]):
                problems.append(f"field type {name!r} differs from CKAN's")
    else:
        print("note: CKAN's schema.xml not found (ckan not installed, no --ckan-schema): comparison skipped")

    # 4. word lists
    stop: set[str] = set()
    for ref in sorted(referenced):
        path = os.path.join(CONF, ref)
        if not os.path.isfile(path):
            continue
        entries = words_file(path)
        for entry in entries:
            if entry != entry.lower() or not entry.isascii():
                problems.append(f"conf/{ref}: {entry!r} is not lower case ASCII")
        if ref.startswith("lang/stopwords"):
            stop.update(entries)
    synonyms_path = os.path.join(CONF, "synonyms.txt")
    if os.path.isfile(synonyms_path):
        for rule in words_file(synonyms_path):
            for side in rule.replace("=>", ",").split(","):
                for word in side.split():
                    if word in stop:
                        problems.append(f"synonyms.txt: stop word {word!r} in rule {rule!r}")

    if problems:
        print("\n".join(problems))
        return 1
    print(
        f"configset OK: {len(referenced)} referenced files present"
        + (f", schema matches CKAN's {ckan_path} apart from the `text` analyzers" if ckan_path else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
