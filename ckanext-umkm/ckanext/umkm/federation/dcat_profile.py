"""The portal's national DCAT profile ``umkm_sdi``, last in ckanext-dcat's
chain after ``euro_dcat_ap_3``.

ckanext-dcat describes every record as a ``dcat:Dataset`` from the
``dataset`` schema. This profile gives each record type its own shape:

- ``dataset``: a DCAT-AP 3 dataset with the EU vocabularies (access right,
  frequency, language, file type, licence), IANA media types, the code lists
  this portal serves (``/kode/wilayah/…`` as ``dct:spatial``, ``/kode/kbli/…``
  as ``dcat:theme``), StatDCAT-AP dimensions, attributes and units from its
  variables, its indicators and ``prov:wasGeneratedBy`` its kegiatan;
- ``kegiatan`` (MS-Keg): a ``prov:Activity``;
- ``variabel`` (MS-Var): a ``qb:DimensionProperty`` or ``qb:AttributeProperty``;
- ``indikator`` (MS-Ind): a ``dqv:Metric`` (and ``qb:MeasureProperty``).

Fields without a standard property are published under the portal's
vocabulary of the metadata standard (``MS``, served at ``/ns/metadata-statistik``).

A restricted dataset (``gate.is_restricted``) is ``RESTRICTED`` /
``NON_PUBLIC`` and its distributions carry no download URL and no other
address of a file, whoever asks: their access URL is the dataset's page.
"""

from __future__ import annotations

import json
import mimetypes
import re
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from rdflib import PROV, BNode, Literal, Namespace, URIRef
from rdflib.term import Node

from ckanext.dcat.profiles import DCAT, DCT, FOAF, RDF, RDFS, SKOS, SPDX, VCARD, XSD, CleanedURIRef, RDFProfile
from ckanext.dcat.utils import catalog_uri, dataset_uri, publisher_uri_organization_fallback
from ckanext.umkm.federation import uris

STAT = Namespace("http://data.europa.eu/s1n/")
QB = Namespace("http://purl.org/linked-data/cube#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
SDMX_ATTRIBUTE = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")
GEODCATAP = Namespace("http://data.europa.eu/930/")
EU = "http://publications.europa.eu/resource/authority/"
ADMS_PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
IANA = "https://www.iana.org/assignments/media-types/"

RECORD_TYPES = ("dataset", "kegiatan", "variabel", "indikator")

ACCESS_RIGHTS = {"terbuka": "PUBLIC", "terbatas": "RESTRICTED", "tertutup": "NON_PUBLIC"}
ACCESS_RIGHT_LABELS = {"PUBLIC": "public", "RESTRICTED": "restricted", "NON_PUBLIC": "non-public"}
# The national update frequencies on the EU frequency vocabulary. "Every two
# years or more" has no single EU term: OTHER, the national code kept beside it.
FREQUENCIES = {
    "HARIAN": "DAILY", "MINGGUAN": "WEEKLY", "BULANAN": "MONTHLY", "TRIWULANAN": "QUARTERLY",
    "EMPAT_BULANAN": "ANNUAL_3", "SEMESTERAN": "ANNUAL_2", "TAHUNAN": "ANNUAL",
    "LEBIH_DARI_DUA_TAHUNAN": "OTHER", "TIDAK_TERATUR": "IRREG",
}
PUBLISHER_TYPES = {
    "KEMENTERIAN_LEMBAGA": "NationalAuthority", "UNIT_ESELON_I": "NationalAuthority",
    "PEMERINTAH_PROVINSI": "RegionalAuthority", "PEMERINTAH_KABUPATEN_KOTA": "LocalAuthority",
    "PEMERINTAH_DESA": "LocalAuthority", "PEMANGKU_KEPENTINGAN_LAINNYA": "NonGovernmentalOrganisation",
}
PUBLISHER_TYPE_LABELS = {"NationalAuthority": "National authority", "RegionalAuthority": "Regional authority",
                         "LocalAuthority": "Local authority",
                         "NonGovernmentalOrganisation": "Non-governmental organisation"}
# CKAN's licence ids on the EU licence vocabulary; others keep their own URL.
LICENCES = {
    "cc-by": "CC_BY_4_0", "cc-by-sa": "CC_BY_SA_4_0", "cc-zero": "CC0", "cc-nc": "CC_BY_NC_4_0",
    "odc-by": "ODC_BY", "odc-odbl": "ODC_BL", "odc-pddl": "ODC_PDDL", "gfdl": "GFDL_1_3",
}
FILE_TYPES = {"CSV": "CSV", "XLSX": "XLSX", "XLS": "XLS", "JSON": "JSON", "XML": "XML", "PDF": "PDF",
              "ZIP": "ZIP", "GEOJSON": "GEOJSON", "TXT": "TXT", "ODS": "ODS", "PARQUET": "PARQUET",
              "SHP": "SHP", "HTML": "HTML", "DOCX": "DOCX"}
MEDIA_TYPES = {"CSV": "text/csv", "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "XLS": "application/vnd.ms-excel", "JSON": "application/json", "XML": "application/xml",
               "PDF": "application/pdf", "ZIP": "application/zip", "GEOJSON": "application/geo+json",
               "TXT": "text/plain", "ODS": "application/vnd.oasis.opendocument.spreadsheet",
               "HTML": "text/html"}
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
XSD_TYPES = {"CHARACTER": XSD.string, "INTEGER": XSD.integer, "DECIMAL": XSD.decimal, "DATE": XSD.date,
             "BOOLEAN": XSD.boolean}
# Units that mark a time variable (a dimension, although its values are numbers).
TIME_UNITS = ("tahun", "bulan", "triwulan", "semester", "tanggal")

# The fields of each schema that a standard property carries (README table);
# every other field goes out under the MS vocabulary.
COMMON_MAPPED = {"title", "name", "notes", "owner_org", "license_id", "tag_string"}
MAPPED = {
    "dataset": COMMON_MAPPED | {"walidata", "accessRights", "accrualPeriodicity", "temporal_start", "temporal_end",
                                "tingkat_penyajian", "cakupan_wilayah", "sektor_kbli", "kegiatan", "variabel",
                                "indikator"},
    "kegiatan": COMMON_MAPPED | {"tahun_kegiatan", "id_kegiatan", "i_instansi_penyelanggara", "i_alamat",
                                 "i_telepon", "i_email", "iii_rencana_jadwal_kegiatan",
                                 "iv_frekuensi_penyelanggara", "iv_cakupan_wilayah_pengumpulan_data",
                                 "iv_sebagian_cakupan_wilayah", "vii_tingkat_penyajian_hasil_analisis"},
    "variabel": COMMON_MAPPED | {"kegiatan", "alias", "konsep", "satuan", "tipe_data", "value_domain",
                                 "value_domain_reference"},
    "indikator": COMMON_MAPPED | {"konsep", "satuan", "variabel_pembangun", "indikator_pembangun",
                                  "kegiatan_penghasil", "level_estimasi"},
}
# Contact data of persons stays out of the catalogue (UU PDP): only the agency's.
UNPUBLISHED = {"ii_pj_nama", "ii_pj_alamat", "ii_pj_telepon", "ii_pj_faksimile", "ii_pj_email"}


def ms_namespace() -> Namespace:
    """The portal's vocabulary of the metadata standard's fields."""
    return Namespace(f"{catalog_uri().rstrip('/')}/ns/metadata-statistik#")


def eu(table: str, code: str) -> URIRef:
    return URIRef(f"{EU}{table}/{code}")


def schema_fields(record_type: str) -> list[dict[str, Any]]:
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema(record_type) or {}
    return schema.get("dataset_fields", [])


def as_list(value: Any) -> list[Any]:
    """A stored list (a list, or its JSON text from the index), or one value."""
    if value in (None, "", []):
        return []
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return value if isinstance(value, list) else [value]


def choice_label(field: dict[str, Any], value: str, lang: str) -> str:
    for choice in field.get("choices", []):
        if choice.get("value") == value:
            label = choice.get("label")
            return label.get(lang) or value if isinstance(label, dict) else label or value
    return value


def public_record(ref: str) -> model.Package | None:
    """A linked record, when it is released (public and active): nothing of an
    unreleased record reaches the catalogue, not even its title."""
    pkg = model.Package.get(ref) if ref else None
    if pkg is None or pkg.private or pkg.state != "active":
        return None
    return pkg


def is_dimension(extras: dict[str, str]) -> bool:
    """A variable identifies observations (a code, a category, a time) or it
    is a measured value (an attribute of the observation, with its unit)."""
    if extras.get("value_domain_reference"):
        return True
    if extras.get("tipe_data") not in ("INTEGER", "DECIMAL"):
        return True
    unit = (extras.get("satuan") or extras.get("ukuran") or "").strip().lower()
    return unit in TIME_UNITS


class UmkmSdiProfile(RDFProfile):
    """Maps the portal's four record types onto DCAT-AP 3, StatDCAT-AP, PROV and DQV."""

    # -- datasets -------------------------------------------------------------

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        record_type = dataset_dict.get("type") or "dataset"
        self.g.bind("stat", STAT)
        self.g.bind("qb", QB)
        self.g.bind("dqv", DQV)
        self.g.bind("prov", PROV)
        self.g.bind("sdmx-attribute", SDMX_ATTRIBUTE)
        self.g.bind("geodcatap", GEODCATAP)
        self.g.bind("ms", ms_namespace())
        self._publisher(dataset_dict, dataset_ref)
        self._landing_page(dataset_dict, dataset_ref)
        if record_type == "dataset":
            self._dataset(dataset_dict, dataset_ref)
        else:
            # Not a dataset: the chain before us typed it as one.
            self._strip_dataset(dataset_ref)
            self.g.add((dataset_ref, RDF.type, DCAT.Resource))
            self.g.add((dataset_ref, RDFS.label, Literal(dataset_dict.get("title") or "", lang="id")))
            self._licence(dataset_dict, dataset_ref)
            {"kegiatan": self._kegiatan, "variabel": self._variabel,
             "indikator": self._indikator}.get(record_type, lambda d, r: None)(dataset_dict, dataset_ref)
        if record_type in RECORD_TYPES:
            self._other_fields(dataset_dict, dataset_ref, record_type)

    def _strip_dataset(self, ref: URIRef) -> None:
        g = self.g
        g.remove((ref, RDF.type, DCAT.Dataset))
        for contact in list(g.objects(ref, DCAT.contactPoint)):
            self._remove_node(contact)
        g.remove((ref, DCAT.contactPoint, None))
        for temporal in list(g.objects(ref, DCT.temporal)):
            self._remove_node(temporal)
        g.remove((ref, DCT.temporal, None))

    def _remove_node(self, node: Node) -> None:
        if isinstance(node, BNode):
            for _, _, o in list(self.g.triples((node, None, None))):
                self._remove_node(o)
            self.g.remove((node, None, None))

    def _dataset(self, pkg: dict[str, Any], ref: URIRef) -> None:
        from ckanext.umkm.access import gate

        g = self.g
        restricted = gate.is_restricted(pkg)
        code = ACCESS_RIGHTS.get(pkg.get("accessRights") or "", "PUBLIC")
        if restricted and code == "PUBLIC":
            code = "RESTRICTED"
        self._concept(ref, DCT.accessRights, eu("access-right", code), DCT.RightsStatement,
                      ACCESS_RIGHT_LABELS[code], concept=False)
        frequency = FREQUENCIES.get(pkg.get("accrualPeriodicity") or "")
        if frequency:
            self._concept(ref, DCT.accrualPeriodicity, eu("frequency", frequency), DCT.Frequency,
                          frequency.replace("_", " ").lower(), concept=False)
        self._language(ref)
        self._contact_point(pkg, ref)
        self._spatial(ref, as_list(pkg.get("cakupan_wilayah")))
        self._themes(ref, as_list(pkg.get("sektor_kbli")))
        self._levels(ref, "dataset", "tingkat_penyajian", pkg)
        self._generated_by(ref, as_list(pkg.get("kegiatan")))
        self._variables(ref, as_list(pkg.get("variabel")))
        for indikator in as_list(pkg.get("indikator")):
            if public_record(indikator):
                node = self._record_ref(indikator)
                g.add((ref, DCT.relation, node))
                g.add((node, RDF.type, RDFS.Resource))
                g.add((node, RDF.type, DQV.Metric))
        for distribution, res in self._distributions_of(pkg, ref):
            self._distribution(pkg, res, distribution, restricted)

    def _distributions_of(self, pkg: dict[str, Any], ref: URIRef) -> list[tuple[URIRef, dict[str, Any]]]:
        from ckanext.dcat.utils import resource_uri

        by_uri = {str(CleanedURIRef(resource_uri(res))): res for res in pkg.get("resources", [])}
        return [(d, by_uri.get(str(d), {})) for d in self.g.objects(ref, DCAT.distribution)]

    def _distribution(self, pkg: dict[str, Any], res: dict[str, Any], dist: URIRef, restricted: bool) -> None:
        g = self.g
        # Only what describes the data stays; every address is set anew.
        for predicate in (DCAT.accessURL, DCAT.downloadURL, FOAF.page, DCAT.accessService, DCT.conformsTo,
                          DCAT.mediaType, DCT["format"], DCT.license):
            g.remove((dist, predicate, None))
        if restricted:
            page = self._page(pkg)
            g.add((dist, DCAT.accessURL, page))
            g.add((page, RDF.type, RDFS.Resource))
        else:
            url = res.get("url") or ""
            if url.startswith(("http://", "https://")):
                g.add((dist, DCAT.accessURL, URIRef(url)))
                g.add((URIRef(url), RDF.type, RDFS.Resource))
                if res.get("url_type") == "upload":
                    g.add((dist, DCAT.downloadURL, URIRef(url)))
            else:
                page = self._page(pkg)
                g.add((dist, DCAT.accessURL, page))
                g.add((page, RDF.type, RDFS.Resource))
        fmt = (res.get("format") or "").strip().upper().lstrip(".")
        media = (res.get("mimetype") or MEDIA_TYPES.get(fmt) or mimetypes.types_map.get(f".{fmt.lower()}")
                 or "").strip().lower()
        if MEDIA_TYPE.match(media):
            node = URIRef(f"{IANA}{media}")
            g.add((dist, DCAT.mediaType, node))
            g.add((node, RDF.type, DCT.MediaType))
        if fmt in FILE_TYPES:
            node = eu("file-type", FILE_TYPES[fmt])
            g.add((dist, DCT["format"], node))
            g.add((node, RDF.type, DCT.MediaTypeOrExtent))
        self._licence(pkg, dist)
        if (dist, SPDX.checksum, None) in g:
            g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))

    # -- the other record types ---------------------------------------------

    def _kegiatan(self, pkg: dict[str, Any], ref: URIRef) -> None:
        g = self.g
        g.add((ref, RDF.type, PROV.Activity))
        if pkg.get("id_kegiatan"):
            g.add((ref, DCT.identifier, Literal(pkg["id_kegiatan"])))
        stages = [s for s in as_list(pkg.get("iii_rencana_jadwal_kegiatan")) if isinstance(s, dict)]
        starts = sorted(s["awal"] for s in stages if s.get("awal"))
        ends = sorted(s["akhir"] for s in stages if s.get("akhir"))
        if starts:
            g.add((ref, PROV.startedAtTime, Literal(f"{starts[0]}T00:00:00", datatype=XSD.dateTime)))
        if ends:
            g.add((ref, PROV.endedAtTime, Literal(f"{ends[-1]}T23:59:59", datatype=XSD.dateTime)))
        field = next((f for f in schema_fields("kegiatan") if f["field_name"] == "iii_rencana_jadwal_kegiatan"), {})
        stage_field = next((f for f in field.get("repeating_subfields", []) if f["field_name"] == "tahap"), {})
        for stage in stages:
            node = BNode()
            g.add((ref, DCT.hasPart, node))
            g.add((node, RDF.type, PROV.Activity))
            g.add((node, RDFS.label, Literal(choice_label(stage_field, stage.get("tahap", ""), "id"), lang="id")))
            g.add((node, RDFS.label, Literal(choice_label(stage_field, stage.get("tahap", ""), "en"), lang="en")))
            if stage.get("awal"):
                g.add((node, PROV.startedAtTime, Literal(f"{stage['awal']}T00:00:00", datatype=XSD.dateTime)))
            if stage.get("akhir"):
                g.add((node, PROV.endedAtTime, Literal(f"{stage['akhir']}T23:59:59", datatype=XSD.dateTime)))
        year = str(pkg.get("tahun_kegiatan") or "")
        if re.fullmatch(r"\d{4}", year):
            period = BNode()
            g.add((ref, DCT.temporal, period))
            g.add((period, RDF.type, DCT.PeriodOfTime))
            g.add((period, DCAT.startDate, Literal(f"{year}-01-01", datatype=XSD.date)))
            g.add((period, DCAT.endDate, Literal(f"{year}-12-31", datatype=XSD.date)))
        frequency = FREQUENCIES.get(pkg.get("iv_frekuensi_penyelanggara") or "")
        if frequency:
            self._concept(ref, DCT.accrualPeriodicity, eu("frequency", frequency), DCT.Frequency,
                          frequency.replace("_", " ").lower(), concept=False)
        if pkg.get("iv_cakupan_wilayah_pengumpulan_data") == "SEBAGIAN_WILAYAH_INDONESIA":
            self._spatial(ref, as_list(pkg.get("iv_sebagian_cakupan_wilayah")))
        else:
            self._spatial(ref, [])
        self._levels(ref, "kegiatan", "vii_tingkat_penyajian_hasil_analisis", pkg)
        for agent in g.objects(ref, DCT.publisher):
            g.add((ref, PROV.wasAssociatedWith, agent))
            g.add((agent, RDF.type, PROV.Agent))
        contact = BNode()
        g.add((ref, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Organization))
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, VCARD.fn, Literal(pkg.get("i_instansi_penyelanggara") or pkg.get("title") or "")))
        if pkg.get("i_email"):
            g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{pkg['i_email']}")))
        if pkg.get("i_telepon"):
            g.add((contact, VCARD.hasTelephone, Literal(pkg["i_telepon"])))
        if pkg.get("i_alamat"):
            g.add((contact, VCARD["street-address"], Literal(pkg["i_alamat"])))

    def _variabel(self, pkg: dict[str, Any], ref: URIRef) -> None:
        g = self.g
        extras = {k: str(v) for k, v in pkg.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
        dimension = is_dimension(extras)
        g.add((ref, RDF.type, QB.ComponentProperty))
        g.add((ref, RDF.type, QB.DimensionProperty if dimension else QB.AttributeProperty))
        if pkg.get("alias"):
            g.add((ref, SKOS.notation, Literal(pkg["alias"])))
        if pkg.get("konsep"):
            g.add((ref, SKOS.definition, Literal(pkg["konsep"], lang="id")))
        if pkg.get("tipe_data") in XSD_TYPES:
            g.add((ref, RDFS.range, XSD_TYPES[pkg["tipe_data"]]))
        self._unit(ref, SDMX_ATTRIBUTE.unitMeasure, pkg.get("satuan"))
        scheme = pkg.get("value_domain_reference")
        if scheme in ("wilayah", "kbli"):
            node = URIRef(uris.scheme_uri(scheme))
            g.add((ref, QB.codeList, node))
            self._scheme(node, scheme)
        domain = [d for d in as_list(pkg.get("value_domain")) if isinstance(d, dict)]
        if domain and not dimension:
            # A measured value's domain (a range in words) is no code list.
            ms = ms_namespace()
            field = next((f for f in schema_fields("variabel") if f["field_name"] == "value_domain"), {})
            for entry in domain:
                self._add_value(ref, ms.value_domain, field, entry, ms)
        elif domain:
            codes = BNode()
            g.add((ref, QB.codeList, codes))
            g.add((codes, RDF.type, SKOS.ConceptScheme))
            g.add((codes, DCT.title, Literal(pkg.get("title") or "", lang="id")))
            for entry in domain:
                concept = BNode()
                g.add((codes, SKOS.hasTopConcept, concept))
                g.add((concept, RDF.type, SKOS.Concept))
                g.add((concept, SKOS.inScheme, codes))
                g.add((concept, SKOS.notation, Literal(entry.get("kode") or "")))
                g.add((concept, SKOS.prefLabel, Literal(entry.get("nilai") or entry.get("kode") or "", lang="id")))
        self._generated_by(ref, as_list(pkg.get("kegiatan")))

    def _indikator(self, pkg: dict[str, Any], ref: URIRef) -> None:
        g = self.g
        g.add((ref, RDF.type, DQV.Metric))
        g.add((ref, RDF.type, QB.MeasureProperty))
        g.add((ref, DQV.expectedDataType, XSD.decimal))
        if pkg.get("konsep"):
            g.add((ref, SKOS.definition, Literal(pkg["konsep"], lang="id")))
        self._unit(ref, SDMX_ATTRIBUTE.unitMeasure, pkg.get("satuan"))
        for key in ("variabel_pembangun", "indikator_pembangun"):
            for other in as_list(pkg.get(key)):
                if public_record(other):
                    g.add((ref, PROV.wasDerivedFrom, self._record_ref(other)))
        self._generated_by(ref, as_list(pkg.get("kegiatan_penghasil")))
        self._levels(ref, "indikator", "level_estimasi", pkg)

    # -- shared pieces --------------------------------------------------------

    def _record_ref(self, ref: str) -> URIRef:
        pkg = model.Package.get(ref)
        return URIRef(dataset_uri({"id": pkg.id if pkg else ref}))

    def _page(self, pkg: dict[str, Any]) -> URIRef:
        return URIRef(f"{catalog_uri().rstrip('/')}/{pkg.get('type') or 'dataset'}/{pkg.get('name') or pkg['id']}")

    def _landing_page(self, pkg: dict[str, Any], ref: URIRef) -> None:
        # The record's page on this portal; never a link given in a field,
        # which could be the address of a file.
        self.g.remove((ref, DCAT.landingPage, None))
        page = self._page(pkg)
        self.g.add((ref, DCAT.landingPage, page))
        self.g.add((page, RDF.type, FOAF.Document))

    def _licence(self, pkg: dict[str, Any], subject: URIRef) -> None:
        code = LICENCES.get(pkg.get("license_id") or "")
        url = pkg.get("license_url") or ""
        if code:
            node = eu("licence", code)
        elif url.startswith(("http://", "https://")):
            node = URIRef(url)
        else:
            return
        self.g.add((subject, DCT.license, node))
        self.g.add((node, RDF.type, DCT.LicenseDocument))
        if pkg.get("license_title"):
            self.g.add((node, DCT.title, Literal(pkg["license_title"])))

    def _language(self, ref: URIRef) -> None:
        self.g.remove((ref, DCT.language, None))
        node = eu("language", "IND")
        self.g.add((ref, DCT.language, node))
        self.g.add((node, RDF.type, DCT.LinguisticSystem))

    def _concept(self, subject: Node, predicate: URIRef, node: URIRef, _class: URIRef, label: str,
                 concept: bool = True) -> None:
        g = self.g
        g.remove((subject, predicate, None))
        g.add((subject, predicate, node))
        g.add((node, RDF.type, _class))
        if concept:
            g.add((node, RDF.type, SKOS.Concept))
        g.add((node, SKOS.prefLabel, Literal(label, lang="en")))

    def _publisher(self, pkg: dict[str, Any], ref: URIRef) -> None:
        """The producer (the owning agency), with its type and region."""
        g = self.g
        org_id = pkg.get("owner_org") or (pkg.get("organization") or {}).get("id")
        org = model.Group.get(org_id) if org_id else None
        if org is None:
            return
        for old in list(g.objects(ref, DCT.publisher)):
            g.remove((ref, DCT.publisher, old))
        agent = URIRef(publisher_uri_organization_fallback({"organization": {"id": org.id}}))
        g.add((ref, DCT.publisher, agent))
        self._agent(agent, org)

    def _agent(self, agent: URIRef, org: model.Group) -> None:
        g = self.g
        g.set((agent, FOAF.name, Literal(org.title or org.name)))
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, RDF.type, FOAF.Organization))
        kind = PUBLISHER_TYPES.get(org.extras.get("jenis_instansi") or "")
        if kind:
            self._concept(agent, DCT.type, ADMS_PUBLISHER_TYPE[kind], SKOS.Concept, PUBLISHER_TYPE_LABELS[kind])
            g.add((ADMS_PUBLISHER_TYPE[kind], SKOS.inScheme, URIRef("http://purl.org/adms/publishertype/1.0")))
        region = org.extras.get("kode_wilayah")
        if region:
            self._spatial(agent, [region])

    def _contact_point(self, pkg: dict[str, Any], ref: URIRef) -> None:
        """Walidata, who answers for the portal's data (Pasal 5)."""
        from ckanext.umkm import helpers

        g = self.g
        for old in list(g.objects(ref, DCAT.contactPoint)):
            self._remove_node(old)
        g.remove((ref, DCAT.contactPoint, None))
        walidata = model.Group.get(tk.config.get("ckanext.umkm.walidata_organization", "walidata-umkm"))
        name = pkg.get("walidata") or (walidata.title if walidata is not None else "") or "Walidata"
        contact = BNode()
        g.add((ref, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Organization))
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, VCARD.fn, Literal(name)))
        email = helpers.walidata_contact()
        if email:
            g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))
        if walidata is not None:
            g.add((contact, VCARD.hasURL,
                   URIRef(f"{catalog_uri().rstrip('/')}/organization/{walidata.name}")))

    def _spatial(self, ref: Node, codes: list[str]) -> None:
        from ckanext.umkm.metadata import reference_codes

        g = self.g
        known = reference_codes.get_many("wilayah", [str(c) for c in codes])
        if not known:
            node = eu("country", "IDN")
            g.add((ref, DCT.spatial, node))
            g.add((node, RDF.type, DCT.Location))
            g.add((node, SKOS.prefLabel, Literal("Indonesia", lang="id")))
            return
        scheme = URIRef(uris.scheme_uri("wilayah"))
        self._scheme(scheme, "wilayah")
        for code in known.values():
            node = URIRef(uris.concept_uri("wilayah", code.code))
            g.add((ref, DCT.spatial, node))
            g.add((node, RDF.type, DCT.Location))
            g.add((node, RDF.type, SKOS.Concept))
            g.add((node, SKOS.prefLabel, Literal(code.name, lang="id")))
            g.add((node, SKOS.notation, Literal(code.code)))
            g.add((node, SKOS.inScheme, scheme))

    def _themes(self, ref: URIRef, codes: list[str]) -> None:
        from ckanext.umkm.metadata import reference_codes

        g = self.g
        # Every UMKM dataset is about the economy (the EU data theme DCAT-AP recommends).
        self._concept(ref, DCAT.theme, eu("data-theme", "ECON"), SKOS.Concept, "Economy and finance")
        known = reference_codes.get_many("kbli", [str(c) for c in codes])
        if not known:
            return
        scheme = URIRef(uris.scheme_uri("kbli"))
        self._scheme(scheme, "kbli")
        for code in known.values():
            node = URIRef(uris.concept_uri("kbli", code.code))
            g.add((ref, DCAT.theme, node))
            g.add((node, RDF.type, SKOS.Concept))
            g.add((node, SKOS.prefLabel, Literal(code.name, lang="id")))
            g.add((node, SKOS.notation, Literal(code.code)))
            g.add((node, SKOS.inScheme, scheme))

    def _scheme(self, node: URIRef, scheme: str) -> None:
        titles = {"wilayah": "Kode wilayah administrasi pemerintahan (Kemendagri)",
                  "kbli": "Klasifikasi Baku Lapangan Usaha Indonesia (KBLI) 2020"}
        self.g.add((node, RDF.type, SKOS.ConceptScheme))
        self.g.set((node, DCT.title, Literal(titles[scheme], lang="id")))

    def _levels(self, ref: URIRef, record_type: str, key: str, pkg: dict[str, Any]) -> None:
        """Levels of presentation as GeoDCAT-AP's spatial resolution in words."""
        field = next((f for f in schema_fields(record_type) if f["field_name"] == key), {})
        for value in as_list(pkg.get(key)):
            for lang in ("id", "en"):
                self.g.add((ref, GEODCATAP.spatialResolutionAsText, Literal(choice_label(field, value, lang),
                                                                            lang=lang)))

    def _generated_by(self, ref: URIRef, kegiatan: list[str]) -> None:
        for keg in kegiatan:
            pkg = public_record(keg)
            if pkg is None:
                continue
            node = self._record_ref(keg)
            self.g.add((ref, PROV.wasGeneratedBy, node))
            self.g.add((node, RDF.type, PROV.Activity))
            self.g.add((node, RDFS.label, Literal(pkg.title or pkg.name, lang="id")))

    def _unit(self, ref: URIRef, predicate: URIRef, unit: str | None) -> BNode | None:
        if not unit:
            return None
        node = BNode()
        self.g.add((ref, predicate, node))
        self.g.add((node, RDF.type, SKOS.Concept))
        self.g.add((node, SKOS.prefLabel, Literal(unit, lang="id")))
        return node

    def _variables(self, ref: URIRef, variables: list[str]) -> None:
        """StatDCAT-AP: the dataset's dimensions and attributes, with units."""
        g = self.g
        units: set[str] = set()
        for var in variables:
            pkg = public_record(var)
            if pkg is None:
                continue
            node = self._record_ref(var)
            extras = dict(pkg.extras)
            dimension = is_dimension(extras)
            g.add((ref, STAT.dimension if dimension else STAT.attribute, node))
            g.add((node, RDF.type, QB.DimensionProperty if dimension else QB.AttributeProperty))
            g.add((node, RDFS.label, Literal(pkg.title or pkg.name, lang="id")))
            if not dimension and extras.get("satuan"):
                units.add(extras["satuan"])
        for unit in sorted(units):
            self._unit(ref, STAT.statUnitMeasure, unit)

    def _other_fields(self, pkg: dict[str, Any], ref: URIRef, record_type: str) -> None:
        """Every other field of the record's schema, under the MS vocabulary."""
        ms = ms_namespace()
        for field in schema_fields(record_type):
            key = field["field_name"]
            if key in MAPPED[record_type] or key in UNPUBLISHED:
                continue
            for value in as_list(pkg.get(key)) if key != "value_domain" else []:
                self._add_value(ref, ms[key], field, value, ms)

    def _add_value(self, ref: Node, predicate: URIRef, field: dict[str, Any], value: Any, ms: Namespace) -> None:
        g = self.g
        if isinstance(value, dict):
            node = BNode()
            g.add((ref, predicate, node))
            subfields = {f["field_name"]: f for f in field.get("repeating_subfields", [])}
            for key, sub in value.items():
                if sub not in (None, ""):
                    self._add_value(node, ms[key], subfields.get(key, {}), sub, ms)
            return
        preset = field.get("preset") or ""
        if preset == "umkm_package_ref":
            if public_record(str(value)):
                g.add((ref, predicate, self._record_ref(str(value))))
        elif preset == "umkm_reference" and field.get("reference_scheme") in ("wilayah", "kbli"):
            g.add((ref, predicate, URIRef(uris.concept_uri(field["reference_scheme"], str(value)))))
        elif isinstance(value, bool) or preset == "umkm_yes_no":
            g.add((ref, predicate, Literal(str(value).lower() in ("true", "1"), datatype=XSD.boolean)))
        elif isinstance(value, int) or preset in ("umkm_integer", "umkm_year"):
            g.add((ref, predicate, Literal(str(value), datatype=XSD.integer)))
        elif preset in ("umkm_date", "date"):
            self._add_date_triple(ref, predicate, str(value))
        elif field.get("choices"):
            g.add((ref, predicate, Literal(str(value))))
        else:
            g.add((ref, predicate, Literal(str(value), lang="id")))

    # -- the catalogue --------------------------------------------------------

    def graph_from_catalog(self, catalog_dict: dict[str, Any] | None, catalog_ref: URIRef) -> None:
        g = self.g
        site = catalog_uri().rstrip("/")
        if (catalog_ref, DCT.description, None) not in g:
            g.add((catalog_ref, DCT.description, Literal(
                f"Katalog data {tk.config.get('ckan.site_title') or 'Portal Satu Data UMKM'}: dataset, metadata "
                "kegiatan, variabel dan indikator statistik UMKM (Permen UMKM 8/2025).", lang="id")))
        for homepage in g.objects(catalog_ref, FOAF.homepage):
            g.add((homepage, RDF.type, FOAF.Document))
        self._language(catalog_ref)
        kbli = URIRef(uris.scheme_uri("kbli"))
        g.add((catalog_ref, DCAT.themeTaxonomy, kbli))
        self._scheme(kbli, "kbli")
        g.remove((catalog_ref, DCT.publisher, None))
        walidata = model.Group.get(tk.config.get("ckanext.umkm.walidata_organization", "walidata-umkm"))
        if walidata is not None:
            agent = URIRef(f"{site}/organization/{walidata.id}")
            self._agent(agent, walidata)
        else:
            agent = URIRef(site)
            g.add((agent, RDF.type, FOAF.Agent))
            g.set((agent, FOAF.name, Literal(tk.config.get("ckan.site_title") or "Portal Satu Data UMKM")))
        g.add((catalog_ref, DCT.publisher, agent))


def vocabulary_graph() -> Any:
    """The MS vocabulary: one property per field of the four schemas that no
    standard property carries, labelled as the forms label it."""
    from rdflib import Graph

    g = Graph()
    ms = ms_namespace()
    g.bind("ms", ms)
    g.bind("dct", DCT)
    vocab = URIRef(str(ms).rstrip("#"))
    g.add((vocab, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")))
    g.add((vocab, DCT.title, Literal("Metadata statistik (Peraturan BPS 5/2020) - Portal Satu Data UMKM", lang="id")))
    for record_type in RECORD_TYPES:
        for field in schema_fields(record_type):
            key = field["field_name"]
            if key in MAPPED[record_type] or key in UNPUBLISHED:
                continue
            for sub in [field, *field.get("repeating_subfields", [])]:
                prop = ms[sub["field_name"]]
                g.add((prop, RDF.type, RDF.Property))
                label = sub.get("label")
                for lang, text in (label.items() if isinstance(label, dict) else [("id", label or key)]):
                    g.add((prop, RDFS.label, Literal(text, lang=lang)))
    return g
