"""Word files built for limit tests: a real python-docx document whose body is given extra XML."""

from __future__ import annotations

import io
import zipfile


def with_body_prefix(docx_bytes: bytes, xml: bytes) -> bytes:
    """``docx_bytes`` with ``xml`` inserted at the start of ``word/document.xml``'s body."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as source, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + xml, 1)
            target.writestr(info, data)
    return out.getvalue()
