"""The signed copy (the version's .docx with a signature page appended: each signer, when, typed
name, IP) and the audit certificate (a PDF, fpdf2, listing every signing event of the envelope)."""

import datetime as dt
import io

from docx import Document
from fpdf import FPDF

from services.clm.domain.contract.signature import Envelope

PDF = "application/pdf"


def _when(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def signed_copy(version_docx: bytes, envelope: Envelope, *, title: str) -> bytes:
    document = Document(io.BytesIO(version_docx))
    document.add_page_break()
    document.add_heading(f"Signatures: {title}", level=1)
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ("Signer", "Role", "Signed (typed name)", "Signed at")):
        cell.text = text
    for state in sorted(envelope.signers.values(), key=lambda s: (s.signer.routing_order, s.signer.name)):
        row = table.add_row().cells
        row[0].text = f"{state.signer.name} <{state.signer.email}>"
        row[1].text = state.signer.role
        row[2].text = (state.signed.typed_name or "(at the provider)") if state.signed else ""
        row[3].text = _when(state.signed.at) if state.signed else ""
    document.add_paragraph(f"Envelope {envelope.envelope_id}, version {envelope.requested.version_number}, "
                           f"signed via {envelope.requested.provider}.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def audit_certificate(envelope: Envelope, *, title: str, number: str, signed_sha256: str,
                      at: dt.datetime) -> bytes:
    names = {s.signer.signer_id: f"{s.signer.name} <{s.signer.email}>" for s in envelope.signers.values()}
    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 10, _latin(f"Audit certificate: {number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in (f"Contract: {title}", f"Envelope: {envelope.envelope_id}",
                 f"Version: {envelope.requested.version_number} ({envelope.requested.document.sha256})",
                 f"Provider: {envelope.requested.provider}", f"Signed copy SHA-256: {signed_sha256}",
                 f"Completed: {_when(at)}"):
        pdf.multi_cell(0, 6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, "Signing events", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for event in envelope.events:
        who = names.get(getattr(event, "signer_id", None), getattr(event, "by", ""))
        details = [f"{_when(event.at)}  {event.event_type}  {who}"]
        for name in ("typed_name", "ip", "user_agent", "reason", "provider_event_id"):
            value = getattr(event, name, None)
            if value:
                details.append(f"    {name}: {value}")
        for line in details:
            pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
