"""The three service procedures of Lampiran III.E ("Prosedur Pelayanan Data
UMKM"), step by step as the regulation's tables give them: who carries the
step out, its standard time (baku mutu waktu, in working days; "1-3 hari" is
a range whose upper bound is the deadline) and the document it produces.

The steps' keys are the Lampiran's own verbs, since they are official names
of the procedure; labels are the Lampiran's words.
"""

from __future__ import annotations

from dataclasses import dataclass

REQUESTER = "pemohon"
WALIDATA = "walidata"
IT_TEAM = "tim_it"


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    actor: str
    days: tuple[int, int] | None  # (least, most) working days; None: the Lampiran sets no time
    output: str

    @property
    def deadline_days(self) -> int | None:
        """Working days the step may take before it is overdue."""
        return self.days[1] if self.days else None


@dataclass(frozen=True)
class Procedure:
    kind: str
    title: str
    steps: tuple[Step, ...]

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(f"{self.kind} has no step {key!r}")

    def standard_days(self) -> int:
        """The longest the whole procedure may take when every step is
        needed, in working days (steps without a time count 0)."""
        return sum(s.deadline_days or 0 for s in self.steps)


DATA = Procedure("data", "Prosedur Permohonan Data UMKM", (
    Step("mengajukan", "Mengajukan permohonan permintaan data kepada Walidata", REQUESTER, (3, 3),
         "Surat permohonan data"),
    Step("mencatat", "Mencatat permintaan data", WALIDATA, (1, 3), "Surat permohonan data"),
    Step("meninjau", "Meninjau kembali permintaan data", WALIDATA, (3, 7),
         "Surat permohonan data dan hasil peninjauan"),
    Step("disposisi", "Mengecek ketersediaan data lalu mendisposisikan kepada administrator data", WALIDATA,
         (1, 3), "ND disposisi perintah kerja"),
    Step("menyediakan", "Menyediakan data kepada pemohon, menyampaikan datanya, dan mencatat transaksi data",
         WALIDATA, (3, 7), "Surat balasan permohonan data"),
    Step("mencatat_penyerahan", "Mencatat dan mendokumentasikan penyerahan data", WALIDATA, (3, 3),
         "Log book penyerahan data"),
))

ACCOUNT = Procedure("akun", "Prosedur Permohonan Akun SIDT-UMKM", (
    Step("permintaan", "Menyampaikan permintaan akun secara formal", REQUESTER, (3, 3),
         "Surat permohonan hak akses dan NDA"),
    Step("menerima", "Menerima dan mendokumentasikan permintaan akun", WALIDATA, (1, 3),
         "Surat permohonan hak akses dan NDA"),
    Step("review", "Melakukan review dan persetujuan/penolakan pemberian akun", WALIDATA, (3, 7),
         "Hasil review permintaan akun"),
    Step("menyampaikan_keputusan", "Menyampaikan informasi penolakan/penerimaan permintaan akun", WALIDATA,
         (1, 3), "Surat pemberitahuan penolakan/penerimaan"),
    Step("revisi", "Revisi permintaan akun", REQUESTER, (1, 3), "Surat permohonan hak akses dan NDA"),
    Step("menyampaikan_akun", "Menyampaikan informasi akun", WALIDATA, (1, 3),
         "Surat permohonan hak akses dan NDA"),
    Step("serah_terima", "Mendokumentasikan serah terima akun", WALIDATA, (3, 3), "Log book akun"),
))

SHARING = Procedure("berbagi_pakai", "Prosedur Berbagi Pakai Data UMKM", (
    Step("permohonan", "Mengirimkan permohonan kepada Wali Data untuk pengintegrasian atau pertukaran data",
         REQUESTER, (1, 1), "Surat permohonan berbagi pakai data"),
    Step("menerima", "Menerima permohonan data", WALIDATA, None, "Surat permohonan berbagi pakai data"),
    Step("verifikasi", "Melakukan pengecekan dan verifikasi permintaan data", WALIDATA, (2, 2),
         "Uraian hasil verifikasi: data bisa diintegrasikan atau tidak"),
    Step("tidak_dapat", "Memberitahukan bahwa data tidak bisa diintegrasikan, dengan alternatif data", WALIDATA,
         (1, 1), "Surat pemberitahuan berbagi pakai data tidak bisa dilakukan"),
    Step("undangan", "Mengirimkan pemberitahuan untuk koordinasi berbagi pakai data", WALIDATA, (1, 1),
         "Surat pemberitahuan beserta undangan koordinasi"),
    Step("koordinasi", "Melakukan koordinasi berbagi pakai data", WALIDATA, (1, 1),
         "Nota kesepahaman, dokumen kesepakatan berbagi pakai data"),
    Step("menyiapkan", "Menyiapkan data dan sistem berbagi pakai data sesuai kesepakatan", IT_TEAM, (14, 14),
         "Sistem berbagi pakai data yang sudah siap"),
    Step("integrasi", "Melakukan integrasi data", IT_TEAM, (2, 2), "Data masuk sistem masing-masing"),
    Step("log_book", "Mencatat riwayat berbagi pakai data", WALIDATA, (1, 1), "Log book riwayat berbagi pakai data"),
    Step("laporan", "Mengirimkan laporan pemanfaatan data", REQUESTER, None, "Laporan pemanfaatan data UMKM"),
))

PROCEDURES = {p.kind: p for p in (DATA, ACCOUNT, SHARING)}
