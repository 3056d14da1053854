"""Scans made from the team's own sample notices, for the OCR tests and scripts/bench_ocr.py.

A sample is printed to PDF by LibreOffice (as an office would print it), its pages rendered to
grey images by pypdfium2 (as a scanner would see them), and the images put back together as an
image-only PDF, a tall PNG or a multi-page TIFF: files that have no text layer at all.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from assistant.ocr import ocr_status
from assistant.office import find_converter

DPI = 200


def ocr_missing() -> str | None:
    """Why the OCR tests cannot run here, or None."""
    status = ocr_status()
    if not status.available:
        return f"OCR unavailable ({status.problem}): run scripts/install_ocr.sh"
    if find_converter("soffice") is None:
        return "LibreOffice (soffice) not found: run scripts/install_converter.sh"
    return None


def print_to_pdf(source: Path) -> bytes:
    """A sample notice printed to PDF by LibreOffice headless. A .docx prints as it is; a .txt
    or .md sample is first typed into a Word document, one paragraph per paragraph of its text
    as loaded, in Times New Roman 13 pt as offices write notices (LibreOffice's plain-text print
    uses a monospace font that sets Vietnamese marks apart from their letters, which no real
    notice looks like)."""
    soffice = find_converter("soffice")
    assert soffice is not None
    with tempfile.TemporaryDirectory(prefix="scan-") as tmp:
        folder = Path(tmp)
        if source.suffix.lower() != ".docx":
            source = _typed_in_word(source, folder)
        subprocess.run(
            [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
             "--norestore", "--convert-to", "pdf", "--outdir", str(folder), str(source)],
            check=True, capture_output=True, timeout=120,
        )
        return (folder / f"{source.stem}.pdf").read_bytes()


def _typed_in_word(source: Path, folder: Path) -> Path:
    import docx
    from docx.shared import Cm, Pt

    from assistant.load import load_path

    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    style.paragraph_format.space_after = Pt(3)
    for section in document.sections:  # NĐ 30/2020: 2 cm top and bottom, 3 cm left, 1.5 cm right
        section.top_margin = section.bottom_margin = Cm(2)
        section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    for paragraph in load_path(source).text.split("\n"):
        document.add_paragraph(paragraph)
    target = folder / f"{source.stem}.docx"
    document.save(str(target))
    return target


def page_images(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
                for i in range(len(document))]
    finally:
        document.close()


def image_only_pdf(images: list[Image.Image], dpi: int = DPI) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buffer.getvalue()


def tall_png(images: list[Image.Image]) -> bytes:
    """The pages one under the other in one image (a notice photographed as one long strip)."""
    width = max(image.width for image in images)
    strip = Image.new("L", (width, sum(image.height for image in images)), 255)
    top = 0
    for image in images:
        strip.paste(image, (0, top))
        top += image.height
    buffer = io.BytesIO()
    strip.save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


def multipage_tiff(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    frames = [image.copy() for image in images]
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:],
                   compression="tiff_lzw", dpi=(DPI, DPI))
    return buffer.getvalue()


def with_text_layer(image_pdf: bytes, layer: str) -> bytes:
    """The first page of ``image_pdf`` with ``layer`` laid over it as invisible text (render mode
    3), as a scanner's own OCR stores its reading: a viewer shows the image, a text extractor
    reads the layer. Characters outside Latin-1 become '?' (the standard Helvetica font)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(image_pdf)))
    page = writer.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    operators = ["BT", "3 Tr", "/F1 6 Tf", "7 TL", f"30 {height - 30:.0f} Td"]
    for line in layer.splitlines():
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        operators.append(f"({escaped}) '")
    operators.append("ET")
    overlay = PdfReader(io.BytesIO(_one_page_pdf(width, height, "\n".join(operators)))).pages[0]
    page.merge_page(overlay)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _one_page_pdf(width: float, height: float, content: str) -> bytes:
    stream = content.encode("latin-1", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.0f} {height:.0f}] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R >> >> >>".encode(),
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
