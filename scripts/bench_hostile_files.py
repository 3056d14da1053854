"""How long hostile files cost (issue 18, part 3): a one-line text parsed at growing sizes, a
small PDF whose pages share one huge text stream, a .docx whose XML part is ~195 MB.

    .venv/bin/python scripts/bench_hostile_files.py [--max-chars 1000000]

Prints a Markdown table (figures for docs/RELIABILITY.md). CPU seconds of this process.
"""

from __future__ import annotations

import argparse
import io
import time
import zipfile

from assistant.errors import LoadError
from assistant.load import load_bytes
from assistant.model import LoadedDocument
from assistant.parse import parse_document

# 'chủ trì' with nobody named before it, no sentence end: the shape that was quadratic.
ONE_LINE_UNIT = "cuộc họp chủ trì bởi ai đó "


def cpu(function: object, *args: object) -> tuple[float, object]:
    started = time.process_time()
    try:
        result = function(*args)  # type: ignore[operator]
    except LoadError as exc:
        result = exc
    return time.process_time() - started, result


def one_line(size: int) -> str:
    return (ONE_LINE_UNIT * (size // len(ONE_LINE_UNIT) + 1))[:size].strip()


def shared_stream_pdf(pages: int, lines: int) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    raw = DecodedStreamObject()
    raw.set_data(("BT /F1 10 Tf 12 TL 50 800 Td "
                  + "(Cong viec giao cho So Noi vu thuc hien ngay) Tj T* " * lines + "ET").encode())
    stream = writer._add_object(raw.flate_encode())
    for _ in range(pages):
        page = writer.add_blank_page(595, 842)
        page[NameObject("/Contents")] = stream
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def big_xml_docx(xml_mb: int) -> bytes:
    """A .docx whose document.xml is ``xml_mb`` MB of ordinary paragraphs (ratio ≈ 13)."""
    import docx

    document = docx.Document()
    document.add_paragraph("THÔNG BÁO")
    buffer = io.BytesIO()
    document.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED, compresslevel=1
    ) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "word/document.xml":
                target.writestr(info, data)
                continue
            head, tail = data.split(b"<w:body>", 1)
            with target.open("word/document.xml", "w", force_zip64=True) as part:
                part.write(head + b"<w:body>")
                written, i = 0, 0
                while written < xml_mb * 1_000_000:
                    chunk = "".join(f"<w:p><w:r><w:t>Đoạn {i + k} giao Sở Nội vụ {k * 7 % 101}</w:t></w:r></w:p>"
                                    for k in range(1000)).encode()
                    part.write(chunk)
                    written += len(chunk)
                    i += 1000
                part.write(tail)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-chars", type=int, default=1_000_000)
    args = parser.parse_args()
    print("| input | size | CPU s | result |")
    print("|---|---:|---:|---|")
    size = 62_500
    while size <= args.max_chars:
        text = one_line(size)
        seconds, _ = cpu(parse_document, LoadedDocument(source="x.txt", format="txt", text=text))
        print(f"| one-line text, parse | {len(text):,} chars | {seconds:.2f} | {seconds / len(text) * 1e6:.1f} µs/char |")
        size *= 2
    pdf = shared_stream_pdf(12, 15_000)
    seconds, result = cpu(load_bytes, pdf, "chung-luong.pdf")
    print(f"| 12-page PDF sharing one stream (≈ 660k chars a page) | {len(pdf) / 1024:.0f} KB | "
          f"{seconds:.2f} | {'refused: ' + result.message[:60] if isinstance(result, LoadError) else 'loaded'} |")
    docx_data = big_xml_docx(195)
    seconds, result = cpu(load_bytes, docx_data, "xml-195mb.docx")
    print(f"| .docx, document.xml 195 MB | {len(docx_data) / 1_048_576:.0f} MB | {seconds:.2f} | "
          f"{'refused: ' + result.message[:60] if isinstance(result, LoadError) else 'loaded'} |")


if __name__ == "__main__":
    main()
