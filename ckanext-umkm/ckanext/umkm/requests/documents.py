"""The documents of a request: the uploaded PDFs (cover letter, signed
statement, agreement, use report), checked as the signed statements are
(``confidentiality.check_pdf``: a real PDF, bounded, no scripts), stored
under CKAN's storage path where no web server serves them; the personal
data, encrypted at rest; and the reply letter (surat balasan), written as a
PDF from the request and its decision."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm.access import confidentiality, two_factor

_ = tk._

# The documents a request may carry, and their names in messages.
NAMES = ("letter", "statement", "agreement", "report", "answer")


def label(name: str) -> str:
    return {
        "letter": _("The cover letter"), "statement": _("The signed confidentiality statement"),
        "agreement": _("The agreement document"), "report": _("The report on the data's use"),
        "answer": _("The document of the answer"),
    }[name]


def check(name: str, data: bytes) -> str | None:
    """Why this upload is refused, or None."""
    return confidentiality.check_pdf(data, label(name))


def _dir(request_id: str) -> str:
    base = tk.config.get("ckan.storage_path") or ""
    if not base:
        raise tk.ValidationError({"upload": [_("File uploads are not configured (ckan.storage_path)")]})
    path = os.path.join(base, "umkm", "requests", request_id)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def store(request_id: str, name: str, data: bytes) -> dict[str, Any]:
    """Write a checked PDF; returns what the request records of it. A new
    version of a document does not overwrite the earlier one."""
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(_dir(request_id), f"{name}-{digest[:16]}.pdf")
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return {"path": path, "sha256": digest, "size": len(data)}


def path_of(documents: str, name: str) -> str | None:
    entry = json.loads(documents or "{}").get(name)
    return entry["path"] if entry and os.path.isfile(entry["path"]) else None


# --- personal data -----------------------------------------------------------

def _cipher() -> Any:
    return two_factor.cipher(b"request personal data v1")


def seal(personal: dict[str, Any]) -> str | None:
    if not any(personal.values()):
        return None
    return _cipher().encrypt(json.dumps(personal, sort_keys=True).encode()).decode()


def unseal(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    return json.loads(_cipher().decrypt(token.encode()))


# --- the reply letter ------------------------------------------------------------

def _text(value: Any) -> str:
    """The letter uses PDF's core font: text beyond Latin-1 is spelled in ASCII."""
    from unidecode import unidecode

    text = str(value or "")
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        return unidecode(text)


def reply_letter(request: dict[str, Any], requester_name: str) -> bytes:
    """The surat balasan of a decided request, in Bahasa Indonesia (the
    letter is an official document; its language does not follow the page)."""
    from fpdf import FPDF

    from ckanext.umkm.release.workflow import timezone

    decision = request.get("decision") or {}
    outcome = request.get("outcome") or {}
    details = request.get("details") or {}
    approved = request["state"] in ("approved", "completed") and not decision.get("refused")
    site = tk.config.get("ckan.site_title", "Portal Satu Data UMKM")
    pdf = FPDF(format="A4")

    def paragraph(text: str, **kw: Any) -> None:
        pdf.multi_cell(0, 6, _text(text), new_x="LMARGIN", new_y="NEXT", **kw)

    pdf.set_title(_text(f"Surat balasan {request['number']}"))
    pdf.set_creator(_text(site))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(0, 7, _text("WALIDATA UMKM\n" + site), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 11)
    dated = datetime.datetime.now(timezone()).strftime("%d-%m-%Y")
    head = [("Nomor", f"{request['number']}/SB"), ("Tanggal", dated),
            ("Perihal", "Balasan permohonan data" if request["kind"] == "data" else "Balasan permohonan")]
    for key, value in head:
        pdf.cell(30, 6, key)
        paragraph(": " + value)
    pdf.ln(3)
    paragraph(f"Kepada Yth.\n{requester_name}\n{request['agency_name']}")
    pdf.ln(3)
    lines = [f"Menindaklanjuti permohonan Saudara nomor {request['number']} tanggal "
             f"{request['created'][:10]} perihal \"{request['title']}\", dengan ini kami sampaikan bahwa "
             + ("permohonan tersebut DISETUJUI." if approved else "permohonan tersebut TIDAK DAPAT DIPENUHI.")]
    if details.get("purpose"):
        lines.append(f"Tujuan penggunaan: {details['purpose']}.")
    if approved:
        for link in outcome.get("links", []):
            lines.append(f"Data terbuka: {link['title']} - {link['url']}")
        for grant in outcome.get("grants", []):
            scope = ", ".join(grant.get("regions") or []) or "sesuai cakupan instansi"
            limit = grant.get("download_limit")
            lines.append(f"Akses data terbatas: {grant.get('dataset_title') or grant.get('package_id')} "
                         f"(wilayah: {scope}; berlaku sampai {str(grant.get('valid_until', ''))[:10]}"
                         + (f"; paling banyak {limit} kali unduh" if limit else "") + ").")
        if outcome.get("grants"):
            lines.append("Data dengan nama dan alamat diunduh melalui portal setelah masuk dengan verifikasi dua "
                         "langkah; setiap unduhan dicatat. Data tidak boleh dibagikan kepada pihak lain di luar "
                         "kegiatan yang disetujui (Pasal 31).")
        lines.append("Saudara wajib menyampaikan laporan hasil pemanfaatan data kepada Walidata UMKM "
                     "(Pasal 27 ayat (3)).")
    else:
        if decision.get("reason"):
            lines.append(f"Alasan: {decision['reason']}.")
        if decision.get("alternative"):
            lines.append(f"Data alternatif yang tersedia: {decision['alternative']}.")
    for line in lines:
        paragraph(line)
        pdf.ln(2)
    pdf.ln(6)
    paragraph("Walidata UMKM\n" + (decision.get("by") or ""))
    return bytes(pdf.output())
