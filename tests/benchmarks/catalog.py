"""Deterministic generator of realistic Satu Data UMKM catalogs, for the search benchmark.

A catalog is a set of organizations (ministry units, the 38 provincial offices and some
regency/city offices), topic groups, users and aggregate datasets: one indicator (number of
micro enterprises, KUR lending, halal certificates...) for one business sector (a KBLI 2020
kategori or golongan pokok), one region (Indonesia, a province or one of the 514 regencies
and cities) and one reference year, with Indonesian titles and descriptions, tags, resources
(CSV/XLSX/JSON/PDF), a licence, extras and creation/modification dates spread over years.

For every dataset the generator yields the dict ``package_show`` returns in CKAN 2.11 (core
schema, no plugins) and :func:`solr_document` turns it into exactly the document
``ckan.lib.search.index.PackageSearchIndex.index_package`` sends to Solr (through pysolr's
JSON update), so that a search service can be loaded without CKAN. The benchmark runner
checks both claims against CKAN itself (``--ckan``).

The same seed gives the same catalog, and the first N datasets of a larger catalog are the
N datasets of a smaller one. Region names are read from the Kemendagri 2025 CSV files and
sector names from the KBLI 2020 JSON files at run time (paths configurable); nothing here is
shipped data.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
import string
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dateutil.parser import ParserError as DateParserError
from dateutil.parser import parse as parse_date

DEFAULT_WILAYAH_DIR = "/work/shared/data/wilayah-kemendagri-2025"
DEFAULT_KBLI_DIR = "/work/shared/data/kbli-2020"
DEFAULT_SITE_ID = "umkm"
DEFAULT_SEED = 8_2025
# Every date is relative to this instant, not to the clock: same seed, same catalog.
NOW = datetime(2025, 12, 31, 12, 0, 0)
PORTAL = "https://satudata.umkm.go.id"

# ---------------------------------------------------------------------------------------------
# Reference vocabularies
# ---------------------------------------------------------------------------------------------

# KBLI 2020 kategori: letter -> (short name used in titles and tags, full name, weight).
# The weights follow where micro and small enterprises are (trade, food, manufacturing...).
KBLI_KATEGORI: dict[str, tuple[str, str, int]] = {
    "A": ("Pertanian Kehutanan dan Perikanan", "Pertanian, Kehutanan dan Perikanan", 10),
    "B": ("Pertambangan dan Penggalian", "Pertambangan dan Penggalian", 1),
    "C": ("Industri Pengolahan", "Industri Pengolahan", 14),
    "D": ("Pengadaan Listrik dan Gas", "Pengadaan Listrik, Gas, Uap/Air Panas dan Udara Dingin", 1),
    "E": ("Pengelolaan Air dan Limbah",
          "Treatment Air, Treatment Air Limbah, Treatment dan Pemulihan Material Sampah, dan Aktivitas Remediasi", 1),
    "F": ("Konstruksi", "Konstruksi", 3),
    "G": ("Perdagangan Besar dan Eceran",
          "Perdagangan Besar dan Eceran; Reparasi dan Perawatan Mobil dan Sepeda Motor", 20),
    "H": ("Transportasi dan Pergudangan", "Pengangkutan dan Pergudangan", 4),
    "I": ("Penyediaan Akomodasi dan Makan Minum", "Penyediaan Akomodasi dan Penyediaan Makan Minum", 12),
    "J": ("Informasi dan Komunikasi", "Informasi dan Komunikasi", 3),
    "K": ("Jasa Keuangan dan Asuransi", "Aktivitas Keuangan dan Asuransi", 2),
    "L": ("Real Estat", "Real Estat", 1),
    "M": ("Jasa Profesional Ilmiah dan Teknis", "Aktivitas Profesional, Ilmiah dan Teknis", 2),
    "N": ("Jasa Persewaan dan Penunjang Usaha",
          "Aktivitas Penyewaan dan Sewa Guna Usaha Tanpa Hak Opsi, Ketenagakerjaan, Agen Perjalanan dan "
          "Penunjang Usaha Lainnya", 2),
    "O": ("Administrasi Pemerintahan", "Administrasi Pemerintahan, Pertahanan dan Jaminan Sosial Wajib", 1),
    "P": ("Jasa Pendidikan", "Pendidikan", 2),
    "Q": ("Jasa Kesehatan dan Kegiatan Sosial", "Aktivitas Kesehatan Manusia dan Aktivitas Sosial", 2),
    "R": ("Kesenian Hiburan dan Rekreasi", "Kesenian, Hiburan dan Rekreasi", 3),
    "S": ("Jasa Lainnya", "Aktivitas Jasa Lainnya", 8),
    "T": ("Aktivitas Rumah Tangga sebagai Pemberi Kerja",
          "Aktivitas Rumah Tangga Sebagai Pemberi Kerja; Aktivitas yang Menghasilkan Barang dan Jasa oleh Rumah "
          "Tangga yang Digunakan untuk Memenuhi Kebutuhan Sendiri", 1),
    "U": ("Badan Internasional", "Aktivitas Badan Internasional dan Badan Ekstra Internasional Lainnya", 1),
}

# Golongan pokok (2 digits) -> kategori letter (KBLI follows ISIC; see kbli-2020/SOURCE.md).
_GOLPOK_RANGES = [("A", 1, 3), ("B", 5, 9), ("C", 10, 33), ("D", 35, 35), ("E", 36, 39), ("F", 41, 43),
                  ("G", 45, 47), ("H", 49, 53), ("I", 55, 56), ("J", 58, 63), ("K", 64, 66), ("L", 68, 68),
                  ("M", 69, 75), ("N", 77, 82), ("O", 84, 84), ("P", 85, 85), ("Q", 86, 88), ("R", 90, 93),
                  ("S", 94, 96), ("T", 97, 98), ("U", 99, 99)]


def kategori_of_golpok(code: str) -> str:
    n = int(code)
    for letter, lo, hi in _GOLPOK_RANGES:
        if lo <= n <= hi:
            return letter
    raise ValueError(f"no KBLI kategori for golongan pokok {code}")


@dataclass(frozen=True)
class Indicator:
    title: str  # "Jumlah Usaha Mikro"
    unit: str
    tag: str
    groups: tuple[str, ...]  # topic groups it always belongs to
    unit_org: str  # ministry unit publishing the national figure
    weight: int


INDICATORS: list[Indicator] = [
    Indicator("Jumlah Usaha Mikro", "unit usaha", "usaha mikro", ("ekonomi",), "deputi-usaha-mikro", 14),
    Indicator("Jumlah Usaha Kecil", "unit usaha", "usaha kecil", ("ekonomi",), "deputi-usaha-kecil", 10),
    Indicator("Jumlah Usaha Menengah", "unit usaha", "usaha menengah", ("ekonomi",), "deputi-usaha-menengah", 8),
    Indicator("Jumlah Tenaga Kerja Usaha Mikro dan Kecil", "orang", "tenaga kerja", ("ketenagakerjaan",),
              "deputi-usaha-mikro", 8),
    Indicator("Omzet Tahunan Usaha Mikro", "juta rupiah", "omzet", ("ekonomi",), "deputi-usaha-mikro", 6),
    Indicator("Nilai Ekspor UMKM", "ribu dolar AS", "ekspor", ("perdagangan",), "deputi-usaha-menengah", 4),
    Indicator("Penyaluran Kredit Usaha Rakyat kepada UMKM", "juta rupiah", "kur", ("keuangan",),
              "deputi-pembiayaan", 6),
    Indicator("Jumlah UMKM Penerima Bantuan Produktif", "unit usaha", "bantuan usaha", ("keuangan",),
              "deputi-pembiayaan", 4),
    Indicator("Jumlah UMKM yang Memiliki Nomor Induk Berusaha", "unit usaha", "perizinan berusaha", ("ekonomi",),
              "deputi-usaha-kecil", 6),
    Indicator("Jumlah UMKM Bersertifikat Halal", "unit usaha", "sertifikasi halal", ("industri",),
              "deputi-usaha-kecil", 5),
    Indicator("Jumlah UMKM yang Terhubung ke Ekosistem Digital", "unit usaha", "digitalisasi", ("ekonomi-digital",),
              "deputi-kewirausahaan", 6),
    Indicator("Jumlah Wirausaha Baru", "orang", "kewirausahaan", ("ketenagakerjaan",), "deputi-kewirausahaan", 5),
    Indicator("Jumlah Koperasi Aktif", "unit koperasi", "koperasi", ("koperasi",), "pusdatin", 5),
    Indicator("Rata-rata Nilai Aset Usaha Kecil", "juta rupiah", "aset usaha", ("keuangan",), "deputi-usaha-kecil", 3),
]

# Topic groups (CKAN groups): name -> title. Kategori letters add their own group below.
GROUPS: dict[str, str] = {
    "ekonomi": "Ekonomi",
    "ekonomi-digital": "Ekonomi Digital",
    "industri": "Industri",
    "keuangan": "Keuangan dan Pembiayaan",
    "ketenagakerjaan": "Ketenagakerjaan",
    "koperasi": "Koperasi",
    "pariwisata": "Pariwisata",
    "perdagangan": "Perdagangan",
    "pertanian": "Pertanian dan Perikanan",
}
SECTOR_GROUP = {"A": "pertanian", "C": "industri", "G": "perdagangan", "I": "pariwisata", "R": "pariwisata",
                "K": "keuangan", "J": "ekonomi-digital"}

MINISTRY_UNITS: list[tuple[str, str, str]] = [
    ("pusdatin", "Pusat Data dan Sistem Informasi, Kementerian UMKM",
     "Unit pengelola Satu Data UMKM di tingkat pusat: Walidata Kementerian UMKM."),
    ("deputi-usaha-mikro", "Deputi Bidang Usaha Mikro, Kementerian UMKM",
     "Produsen data usaha mikro: jumlah, tenaga kerja dan omzet usaha mikro."),
    ("deputi-usaha-kecil", "Deputi Bidang Usaha Kecil, Kementerian UMKM",
     "Produsen data usaha kecil, perizinan berusaha dan sertifikasi."),
    ("deputi-usaha-menengah", "Deputi Bidang Usaha Menengah, Kementerian UMKM",
     "Produsen data usaha menengah dan ekspor UMKM."),
    ("deputi-kewirausahaan", "Deputi Bidang Kewirausahaan, Kementerian UMKM",
     "Produsen data wirausaha baru dan digitalisasi UMKM."),
    ("deputi-pembiayaan", "Deputi Bidang Pembiayaan dan Investasi, Kementerian UMKM",
     "Produsen data Kredit Usaha Rakyat dan bantuan pembiayaan UMKM."),
]

SOURCES = [
    "Pendataan Lengkap Koperasi dan UMKM (PL-KUMKM)",
    "Sistem Informasi Data Tunggal Koperasi dan UMKM (SIDT-KUMKM)",
    "Online Single Submission (OSS) Berbasis Risiko",
    "Survei Industri Mikro dan Kecil (IMK) Badan Pusat Statistik",
    "Sistem Informasi Kredit Program (SIKP)",
    "laporan rutin dinas yang membidangi koperasi dan UMKM",
]
DISAGGREGATIONS = ["kecamatan", "skala usaha", "jenis kelamin pemilik usaha", "bulan", "kelompok umur pemilik usaha",
                   "status badan hukum"]
FREQUENCIES = ["Tahunan", "Tahunan", "Tahunan", "Semesteran", "Triwulanan"]
EXTRA_TAGS = ["statistik", "satu data", "data agregat", "pemberdayaan umkm", "ekonomi kerakyatan", "pembangunan daerah",
              "sdgs", "rpjmn"]

# A few of CKAN's default licences: id -> (title, url, isopen), as package_show reports them.
LICENSES: dict[str, tuple[str, str, bool]] = {
    "cc-by": ("Creative Commons Attribution", "http://www.opendefinition.org/licenses/cc-by", True),
    "cc-by-sa": ("Creative Commons Attribution Share-Alike", "http://www.opendefinition.org/licenses/cc-by-sa", True),
    "cc-zero": ("Creative Commons CCZero", "http://www.opendefinition.org/licenses/cc-zero", True),
    "odc-by": ("Open Data Commons Attribution License", "http://www.opendefinition.org/licenses/odc-by", True),
    "other-open": ("Other (Open)", "", True),
    "notspecified": ("License not specified", "", False),
}
LICENSE_WEIGHTS = {"cc-by": 60, "cc-by-sa": 5, "cc-zero": 10, "odc-by": 10, "other-open": 10, "notspecified": 5}

RESOURCE_KINDS: dict[str, tuple[str, str | None, str]] = {
    # format -> (mimetype, resource_type, file extension)
    "CSV": ("text/csv", None, "csv"),
    "XLSX": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None, "xlsx"),
    "JSON": ("application/json", "api", "json"),
    "PDF": ("application/pdf", None, "pdf"),
}

# ckan/lib/search/index.py
_RESERVED_FIELDS = ["entity_type", "res_url", "text", "urls", "indexed_ts", "site_id", "tags", "groups", "res_name",
                    "res_description", "res_format", "res_url", "res_type"]
_KEY_CHARS = string.digits + string.ascii_letters + "_-"
_ILLEGAL_XML_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1F\uD800-\uDFFF\uFFFE\uFFFF]")


# ---------------------------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    code: str  # "32" or "32.01"; "00" for Indonesia
    name: str  # "Jawa Barat", "Kabupaten Bogor", "Indonesia"
    level: str  # "nasional" | "provinsi" | "kabupaten/kota"
    province_code: str
    province_name: str

    @property
    def label(self) -> str:
        """The region as a title says it."""
        return f"Provinsi {self.name}" if self.level == "provinsi" else self.name


def read_regions(wilayah_dir: str = DEFAULT_WILAYAH_DIR) -> tuple[list[Region], list[Region]]:
    """(provinces, regencies and cities) from the Kemendagri CSV files."""
    with open(os.path.join(wilayah_dir, "provinces.csv"), newline="", encoding="utf-8") as f:
        prov_rows = list(csv.DictReader(f))
    with open(os.path.join(wilayah_dir, "regencies.csv"), newline="", encoding="utf-8") as f:
        reg_rows = list(csv.DictReader(f))
    provinces = [Region(r["code"], r["name"], "provinsi", r["code"], r["name"]) for r in prov_rows]
    prov_names = {p.code: p.name for p in provinces}
    regencies = [Region(r["code"], r["name"], "kabupaten/kota", r["province_code"], prov_names[r["province_code"]])
                 for r in reg_rows]
    return provinces, regencies


@dataclass(frozen=True)
class Golpok:
    code: str
    title: str
    desc: str
    kategori: str


def read_golpok(kbli_dir: str | None = DEFAULT_KBLI_DIR) -> list[Golpok]:
    """KBLI 2020 golongan pokok (2 digits), or none when the files are not there."""
    if not kbli_dir:
        return []
    path = os.path.join(kbli_dir, "kbli_golpok.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    return [Golpok(r["code"], " ".join(r["title"].split()), " ".join(r["desc"].split()), kategori_of_golpok(r["code"]))
            for r in rows]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def slugify(text: str, max_len: int = 100) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:max_len].rstrip("-")


def tag_name(text: str) -> str:
    """A valid CKAN tag name (letters, digits, space, - _ .)."""
    return " ".join(re.sub(r"[^\w \-.]", " ", text.lower()).split())[:100]


def _phrase(title: str) -> str:
    """A title in running text: "Jumlah Usaha Mikro" -> "jumlah usaha mikro", acronyms kept."""
    return " ".join(w if w.isupper() else w.lower() for w in title.split())


def iso(dt: datetime) -> str:
    return dt.isoformat()


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ts(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant in [start, end) with a non-zero microsecond part."""
    span = max(int((end - start).total_seconds()), 1)
    return start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1, 1_000_000))


# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------

@dataclass
class Organization:
    id: str
    name: str
    title: str
    description: str
    created: datetime
    region: Region | None  # None for ministry units
    editor_user_id: str = ""


@dataclass
class Group:
    id: str
    name: str
    title: str
    description: str
    created: datetime


@dataclass
class User:
    id: str
    name: str
    fullname: str
    email: str
    created: datetime
    sysadmin: bool = False


@dataclass
class Membership:
    """A row of CKAN's ``member`` table for a user: user -> organization or group."""
    id: str
    group_id: str
    user_id: str
    capacity: str  # admin | editor | member


@dataclass
class Catalog:
    """Organizations, groups, users and a deterministic stream of datasets (package_show dicts)."""

    seed: int = DEFAULT_SEED
    wilayah_dir: str = DEFAULT_WILAYAH_DIR
    kbli_dir: str | None = DEFAULT_KBLI_DIR
    regency_office_share: float = 0.10  # regencies/cities with their own organization
    private_share: float = 0.05

    organizations: list[Organization] = field(default_factory=list, init=False)
    groups: list[Group] = field(default_factory=list, init=False)
    users: list[User] = field(default_factory=list, init=False)
    memberships: list[Membership] = field(default_factory=list, init=False)
    provinces: list[Region] = field(default_factory=list, init=False)
    regencies: list[Region] = field(default_factory=list, init=False)
    golpok: list[Golpok] = field(default_factory=list, init=False)
    member_user: User = field(init=False)  # the logged-in organization member of the benchmark

    def __post_init__(self) -> None:
        self.provinces, self.regencies = read_regions(self.wilayah_dir)
        self.golpok = read_golpok(self.kbli_dir)
        rng = random.Random(f"{self.seed}-entities")
        t0, t1 = datetime(2019, 1, 2), datetime(2019, 12, 1)

        admin = User(_uuid(rng), "admin-walidata", "Admin Walidata UMKM", "walidata@umkm.go.id", _ts(rng, t0, t1), True)
        self.users.append(admin)
        for name, title in GROUPS.items():
            self.groups.append(Group(_uuid(rng), name, title, f"Dataset UMKM bertema {title.lower()}.", _ts(rng, t0, t1)))
        for g in self.groups:
            self.memberships.append(Membership(_uuid(rng), g.id, admin.id, "admin"))

        for name, title, desc in MINISTRY_UNITS:
            self.organizations.append(Organization(_uuid(rng), f"kemenumkm-{name}", title, desc, _ts(rng, t0, t1), None))
        for p in self.provinces:
            self.organizations.append(Organization(
                _uuid(rng), f"dinas-kukm-provinsi-{slugify(p.name)}", f"Dinas Koperasi dan UKM Provinsi {p.name}",
                f"Produsen data UMKM Provinsi {p.name}: pendataan koperasi dan usaha mikro, kecil dan menengah "
                f"di seluruh kabupaten/kota di {p.name}.", _ts(rng, t0, t1), p))
        offices = sorted(rng.sample(range(len(self.regencies)), round(len(self.regencies) * self.regency_office_share)))
        for i in offices:
            r = self.regencies[i]
            self.organizations.append(Organization(
                _uuid(rng), f"dinas-kum-{slugify(r.name)}", f"Dinas Koperasi dan Usaha Mikro {r.name}",
                f"Produsen data UMKM {r.name}, Provinsi {r.province_name}.", _ts(rng, t0, t1), r))
        for org in self.organizations:
            slug = org.name.split("-", 1)[1][:60]
            u = User(_uuid(rng), f"editor-{slug}", f"Editor {org.title}"[:100], f"editor@{slug}.go.id", _ts(rng, t0, t1))
            org.editor_user_id = u.id
            self.users.append(u)
            self.memberships.append(Membership(_uuid(rng), org.id, u.id, "editor"))

        # The benchmark's logged-in user: a member of two organizations (a provincial office
        # and a regency office of that province when there is one).
        self.member_user = User(_uuid(rng), "anggota-dinas", "Anggota Dinas KUKM", "anggota@umkm.go.id", _ts(rng, t0, t1))
        self.users.append(self.member_user)
        prov_org = next(o for o in self.organizations if o.region and o.region.level == "provinsi"
                        and o.region.code == "32") if any(p.code == "32" for p in self.provinces) else \
            next(o for o in self.organizations if o.region and o.region.level == "provinsi")
        reg_org = next((o for o in self.organizations if o.region and o.region.level != "provinsi"
                        and o.region.province_code == prov_org.region.code), None)  # type: ignore[union-attr]
        for org in (prov_org, reg_org):
            if org:
                self.memberships.append(Membership(_uuid(rng), org.id, self.member_user.id, "member"))

        self._org_by_name = {o.name: o for o in self.organizations}
        self._prov_org = {o.region.code: o for o in self.organizations if o.region and o.region.level == "provinsi"}
        self._reg_org = {o.region.code: o for o in self.organizations if o.region and o.region.level != "provinsi"}
        self._group_by_name = {g.name: g for g in self.groups}
        self._group_member_count = {g.id: sum(1 for m in self.memberships if m.group_id == g.id) for g in self.groups}

    # -- lookups --------------------------------------------------------------------------------

    def member_org_ids(self, user: User) -> list[str]:
        return [m.group_id for m in self.memberships if m.user_id == user.id
                and any(o.id == m.group_id for o in self.organizations)]

    def user_permission_labels(self, user: User | None) -> list[str]:
        """CKAN's DefaultPermissionLabels.get_user_dataset_labels (no collaborators)."""
        if user is None:
            return ["public"]
        return ["public", f"creator-{user.id}"] + [f"member-{oid}" for oid in self.member_org_ids(user)]

    # -- datasets -------------------------------------------------------------------------------

    def datasets(self, n: int) -> Iterator[dict[str, Any]]:
        """The first ``n`` datasets, as CKAN 2.11's package_show returns them."""
        rng = random.Random(f"{self.seed}-datasets")
        seen_keys: set[tuple[Any, ...]] = set()
        seen_names: set[str] = set()
        ind_weights = [i.weight for i in INDICATORS]
        kat_letters = list(KBLI_KATEGORI)
        kat_weights = [KBLI_KATEGORI[k][2] for k in kat_letters]
        golpok_by_kat: dict[str, list[Golpok]] = {}
        for g in self.golpok:
            golpok_by_kat.setdefault(g.kategori, []).append(g)
        years = list(range(2015, 2025))
        year_weights = [1, 1, 2, 2, 3, 4, 5, 6, 7, 8]
        lic_ids = list(LICENSE_WEIGHTS)
        lic_weights = [LICENSE_WEIGHTS[k] for k in lic_ids]
        national = Region("00", "Indonesia", "nasional", "00", "Indonesia")

        produced = 0
        while produced < n:
            # -- what the dataset is about (unique combination) --
            ind = rng.choices(INDICATORS, ind_weights)[0]
            lv = rng.random()
            if lv < 0.05:
                region = national
            elif lv < 0.30:
                region = rng.choice(self.provinces)
            else:
                region = rng.choice(self.regencies)
            year = rng.choices(years, year_weights)[0]
            sv = rng.random()
            letter = rng.choices(kat_letters, kat_weights)[0]
            golpok: Golpok | None = None
            if sv < 0.15:
                letter = ""
            elif sv < 0.40 and golpok_by_kat.get(letter):
                golpok = rng.choice(golpok_by_kat[letter])
            key = (ind.title, letter, golpok.code if golpok else "", region.code, year)
            if key in seen_keys:
                continue
            seen_keys.add(key)
            produced += 1
            yield self._dataset(rng, ind, region, year, letter, golpok, lic_ids, lic_weights, seen_names)

    def _owner(self, rng: random.Random, ind: Indicator, region: Region) -> Organization:
        if region.level == "nasional":
            return self._org_by_name[f"kemenumkm-{ind.unit_org}"]
        if region.level == "provinsi":
            return self._prov_org[region.code]
        own = self._reg_org.get(region.code)
        if own and rng.random() < 0.8:
            return own
        return self._prov_org[region.province_code]

    def _dataset(self, rng: random.Random, ind: Indicator, region: Region, year: int, letter: str,
                 golpok: Golpok | None, lic_ids: list[str], lic_weights: list[int],
                 seen_names: set[str]) -> dict[str, Any]:
        org = self._owner(rng, ind, region)
        if golpok:
            sector_title = f" Golongan Pokok {golpok.title} (KBLI {golpok.code})"
            sector_text = (f"golongan pokok {golpok.title} (KBLI 2020 kode {golpok.code}, kategori {letter} "
                           f"{KBLI_KATEGORI[letter][1]})")
        elif letter:
            sector_title = f" Sektor {KBLI_KATEGORI[letter][0]}"
            sector_text = f"sektor {KBLI_KATEGORI[letter][1]} (KBLI 2020 kategori {letter})"
        else:
            sector_title = " Menurut Sektor Usaha"
            sector_text = "seluruh sektor usaha menurut kategori KBLI 2020"
        title = f"{ind.title}{sector_title} {region.label} Tahun {year}"
        name = slugify(title, 100)
        if name in seen_names:
            name = f"{slugify(title, 91)}-{hashlib.md5(title.encode()).hexdigest()[:8]}"
        seen_names.add(name)

        source = rng.choice(SOURCES)
        disagg = rng.choice(DISAGGREGATIONS)
        freq = rng.choice(FREQUENCIES)
        where = "Indonesia" if region.level == "nasional" else (
            f"{region.label}" if region.level == "provinsi" else f"{region.name}, Provinsi {region.province_name}")
        sentences = [
            f"Dataset ini menyajikan {_phrase(ind.title)} pada {sector_text} di {where} "
            f"untuk tahun {year}, dalam satuan {ind.unit}.",
            f"Data bersumber dari {source} dan dihimpun oleh {org.title} sebagai bagian dari penyelenggaraan "
            f"Satu Data UMKM sesuai Peraturan Menteri UMKM Nomor 8 Tahun 2025.",
            f"Data disajikan secara agregat menurut {disagg} dan tidak memuat data individu pelaku usaha.",
        ]
        if golpok and golpok.desc:
            sentences.append(golpok.desc.split(". ")[0].rstrip(".") + ".")
        if rng.random() < 0.5:
            sentences.append(f"Pemutakhiran data dilakukan secara {freq.lower()}; angka tahun terakhir bersifat "
                             f"sementara dan dapat direvisi.")
        notes = " ".join(sentences)

        created = _ts(rng, max(datetime(year + 1, 1, 2), datetime(2019, 6, 1)), NOW - timedelta(days=30))
        modified = created
        if rng.random() < 0.7:
            modified = created + timedelta(days=rng.randrange(1, 700), seconds=rng.randrange(86400))
            if modified >= NOW:
                modified = _ts(rng, created, NOW)
        pkg_id = _uuid(rng)
        private = rng.random() < self.private_share
        license_id = rng.choices(lic_ids, lic_weights)[0]
        lic_title, lic_url, lic_open = LICENSES[license_id]

        # -- resources --
        formats = ["CSV"] + [f for f in ("XLSX", "JSON", "PDF") if rng.random() < {"XLSX": .6, "JSON": .3, "PDF": .35}[f]]
        resources: list[dict[str, Any]] = []
        for pos, fmt in enumerate(formats):
            mimetype, rtype, ext = RESOURCE_KINDS[fmt]
            rid = _uuid(rng)
            r_created = created + timedelta(microseconds=rng.randrange(1, 900_000))
            if fmt == "CSV":
                rname = f"Tabel {ind.title} {region.name} {year}"
                rdesc = f"Tabel {ind.title.lower()} menurut {disagg}, format CSV (pemisah koma, UTF-8)."
            elif fmt == "XLSX":
                rname = f"{ind.title} {region.name} {year} (Excel)"
                rdesc = f"Lembar kerja Excel berisi data dan catatan teknis {ind.title.lower()}."
            elif fmt == "JSON":
                rname = "API Data (JSON)"
                rdesc = "Akses data melalui API DataStore portal dalam format JSON."
            else:
                rname = f"Metadata Statistik {ind.title}"
                rdesc = "Dokumen metadata kegiatan statistik (MS-Keg) dan definisi variabel."
            url = f"{PORTAL}/dataset/{pkg_id}/resource/{rid}/download/{slugify(rname, 60)}.{ext}"
            if fmt == "JSON":
                url = f"{PORTAL}/api/3/action/datastore_search?resource_id={rid}"
            resources.append({
                "id": rid,
                "package_id": pkg_id,
                "url": url,
                "format": fmt,
                "description": rdesc if rng.random() < 0.9 else None,
                "hash": "",
                "position": pos,
                "name": rname,
                "resource_type": rtype,
                "mimetype": mimetype,
                "mimetype_inner": None,
                "size": rng.randrange(2_000, 5_000_000) if fmt != "JSON" else None,
                "created": iso(r_created),
                "last_modified": iso(modified) if rng.random() < 0.5 else None,
                "metadata_modified": iso(r_created),
                "cache_url": None,
                "cache_last_updated": None,
                "url_type": None,
                "state": "active",
            })

        # -- tags --
        tags = {"umkm", ind.tag}
        if letter:
            tags.add(tag_name(KBLI_KATEGORI[letter][0]))
        if golpok:
            tags.add(tag_name(golpok.title)[:60].strip())
        if region.level != "nasional":
            tags.add(tag_name(region.province_name))
        if region.level == "kabupaten/kota":
            tags.add(tag_name(region.name))
        tags.add(str(year))
        tags.update(rng.sample(EXTRA_TAGS, rng.randrange(0, 3)))
        tag_dicts = [{"id": self._tag_id(t), "name": t, "vocabulary_id": None, "state": "active", "display_name": t}
                     for t in sorted(tags)]

        # -- extras (package_show sorts them by key) --
        release = created.date().isoformat()
        extras_kv = {
            "kode_wilayah": region.code,
            "tingkat_penyajian": region.level.title(),
            "tahun_data": str(year),
            "frekuensi": freq,
            "satuan": ind.unit,
            "sumber_data": source,
            "release_date": release,
        }
        if letter:
            extras_kv["kbli"] = golpok.code if golpok else letter
        extras = [{"id": _uuid(rng), "package_id": pkg_id, "key": k, "value": v, "state": "active"}
                  for k, v in sorted(extras_kv.items())]

        # -- groups --
        group_names = set(ind.groups) if rng.random() < 0.85 else set()
        if letter in SECTOR_GROUP and rng.random() < 0.7:
            group_names.add(SECTOR_GROUP[letter])
        groups = sorted((self._group_by_name[g] for g in group_names), key=lambda g: g.title)

        pkg: dict[str, Any] = {
            "id": pkg_id,
            "name": name,
            "title": title,
            "version": "1.0" if rng.random() < 0.7 else f"{year}.{rng.randrange(1, 4)}",
            "url": f"{PORTAL}/dataset/{name}",
            "author": org.title,
            "author_email": f"data@{org.name}.go.id",
            "maintainer": f"Bidang Data dan Informasi {org.title}"[:200],
            "maintainer_email": f"walidata@{org.name}.go.id",
            "notes": notes,
            "license_id": license_id,
            "type": "dataset",
            "owner_org": org.id,
            "creator_user_id": org.editor_user_id,
            "metadata_created": iso(created),
            "metadata_modified": iso(modified),
            "private": private,
            "state": "active",
            "resources": resources,
            "num_resources": len(resources),
            "tags": tag_dicts,
            "num_tags": len(tag_dicts),
            "extras": extras,
            "groups": [{
                "id": g.id, "name": g.name, "title": g.title, "type": "group", "description": g.description,
                "image_url": "", "created": iso(g.created), "is_organization": False, "approval_status": "approved",
                "state": "active", "capacity": "public", "display_name": g.title,
                "member_count": self._group_member_count[g.id], "image_display_url": "",
            } for g in groups],
            "organization": {
                "id": org.id, "name": org.name, "title": org.title, "type": "organization",
                "description": org.description, "image_url": "", "created": iso(org.created),
                "is_organization": True, "approval_status": "approved", "state": "active",
            },
            "relationships_as_subject": [],
            "relationships_as_object": [],
            "isopen": lic_open,
        }
        if lic_url:
            pkg["license_url"] = lic_url
        pkg["license_title"] = lic_title
        return pkg

    @staticmethod
    def _tag_id(name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"umkm-bench-tag:{name}"))


# ---------------------------------------------------------------------------------------------
# What CKAN sends to Solr
# ---------------------------------------------------------------------------------------------

def validated_data_dict(pkg: dict[str, Any]) -> dict[str, Any]:
    """package_show's dict validated with the default show schema, as CKAN stores it in
    ``validated_data_dict``: navl's unflatten orders top-level keys alphabetically, then the
    non-empty lists of dicts (their items' keys sorted) by name; empty lists and the keys the
    schema does not know come last."""
    schema_lists = {
        "extras": ("key", "value"),
        "groups": ("description", "display_name", "id", "image_display_url", "name", "title"),
        "resources": None,  # every key kept
        "tags": None,
    }
    out: dict[str, Any] = {}
    tail = ("relationships_as_subject", "relationships_as_object")
    flat = sorted(k for k in pkg if k not in tail and k not in schema_lists)
    for k in flat:
        out[k] = pkg[k]
    for k in sorted(schema_lists):
        items = pkg.get(k)
        if items:
            keep = schema_lists[k]
            out[k] = [{kk: item[kk] for kk in sorted(item) if keep is None or kk in keep} for item in items]
    for k in sorted(schema_lists):
        if k in pkg and not pkg[k]:
            out[k] = []
    for k in tail:
        if k in pkg:
            out[k] = pkg[k]
    return out


def permission_labels(pkg: dict[str, Any]) -> list[str]:
    """CKAN's DefaultPermissionLabels.get_dataset_labels (dataset collaborators off)."""
    if pkg.get("state") == "active" and not pkg.get("private"):
        return ["public"]
    if pkg.get("owner_org"):
        return [f"member-{pkg['owner_org']}"]
    return [f"creator-{pkg.get('creator_user_id')}"]


def solr_document(show: dict[str, Any], site_id: str = DEFAULT_SITE_ID,
                  resource_extra_columns: Sequence[str] = ()) -> dict[str, Any]:
    """The document CKAN 2.11 sends to Solr for this package_show dict: a line-by-line port of
    ``PackageSearchIndex.index_package`` (no plugins, no vocabulary tags, no relationships),
    followed by pysolr's JSON clean-up (top-level None and "" values are dropped)."""
    pkg_dict = dict(show)  # index_package only replaces top-level keys; nested values are read
    pkg_dict["validated_data_dict"] = json.dumps(validated_data_dict(show))
    pkg_dict["data_dict"] = json.dumps(pkg_dict)

    title = pkg_dict.get("title")
    if title:
        pkg_dict["title_string"] = title

    index_fields = _RESERVED_FIELDS + list(pkg_dict.keys())
    for extra in pkg_dict.get("extras", []):
        key, value = extra["key"], extra["value"]
        if isinstance(value, tuple | list):
            value = " ".join(map(str, value))
        key = "".join(c for c in key if c in _KEY_CHARS)
        pkg_dict["extras_" + key] = value
        if key not in index_fields:
            pkg_dict[key] = value
    pkg_dict.pop("extras", None)

    tags = pkg_dict.pop("tags", [])
    pkg_dict["tags"] = [t["name"] for t in tags if not t.get("vocabulary_id")]
    groups = pkg_dict.pop("groups", [])
    pkg_dict["capacity"] = "private" if pkg_dict["private"] else "public"
    pkg_dict["groups"] = [g["name"] for g in groups]
    pkg_dict["organization"] = pkg_dict["organization"]["name"] if pkg_dict.get("organization") else None

    resource_fields = [("name", "res_name"), ("description", "res_description"), ("format", "res_format"),
                       ("url", "res_url"), ("resource_type", "res_type")]
    resource_fields += [(e, "res_extras_" + e) for e in resource_extra_columns]
    for resource in pkg_dict.get("resources", []):
        for okey, nkey in resource_fields:
            pkg_dict[nkey] = pkg_dict.get(nkey, []) + [resource.get(okey, "")]
    pkg_dict.pop("resources", None)
    pkg_dict.pop("relationships_as_subject", None)
    pkg_dict.pop("relationships_as_object", None)

    pkg_dict["entity_type"] = "package"
    pkg_dict["dataset_type"] = pkg_dict["type"]

    new_dict: dict[str, Any] = {}
    for key, value in pkg_dict.items():
        if key.endswith("_date"):
            if not value:
                continue
            try:
                date = parse_date(value)
            except DateParserError:
                continue
            value = date.isoformat()
            if not date.tzinfo:
                value += "Z"
        new_dict[key] = value
    pkg_dict = new_dict

    for k in ("title", "notes", "title_string"):
        if pkg_dict.get(k):
            pkg_dict[k] = _ILLEGAL_XML_CHARS_RE.sub("", pkg_dict[k])
    pkg_dict["metadata_created"] += "Z"
    pkg_dict["metadata_modified"] += "Z"
    pkg_dict["site_id"] = site_id
    if pkg_dict.get("title"):
        pkg_dict["title"] = pkg_dict["title"].lstrip()
    pkg_dict["index_id"] = hashlib.md5(f"{pkg_dict['id']}{site_id}".encode()).hexdigest()
    pkg_dict["permission_labels"] = permission_labels(show)

    # pysolr.Solr._build_json_doc
    return {k: v for k, v in pkg_dict.items() if v is not None and not (isinstance(v, str) and v == "")}


if __name__ == "__main__":  # a quick look: python catalog.py [N]
    import sys

    cat = Catalog()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(f"{len(cat.organizations)} organizations, {len(cat.groups)} groups, {len(cat.users)} users")
    for d in cat.datasets(count):
        print(d["title"], "|", d["organization"]["name"], "|", [t["name"] for t in d["tags"]])
    print(json.dumps(solr_document(d), indent=1, ensure_ascii=False)[:3000])
