"""Legacy word-processor files (.doc, .rtf, .odt) -> .docx bytes, through LibreOffice headless.

``load.py`` reads the result with its ``.docx`` path, so these formats get exactly the text
extraction of ``.docx``. Each conversion runs in a temporary folder of its own, with a
LibreOffice profile of its own (``-env:UserInstallation``): two conversions at once never meet
on a profile lock, and the folder is removed whatever happens (success, failure, time-out), so
nothing half-written stays behind.

LibreOffice opens a file it does not recognise as plain text and "converts" it happily, so the
content is sniffed first and the import filter is named explicitly: a corrupt file then fails
instead of coming back as a page of garbage characters.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import LoadError
from assistant.settings import LoadSettings

log = logging.getLogger(__name__)

CONVERTED_SUFFIXES = (".doc", ".rtf", ".odt")
INSTALL_HINT = (
    "Cài LibreOffice: sudo apt-get install --no-install-recommends libreoffice-writer-nogui "
    "(hoặc chạy sh scripts/install_converter.sh)"
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 (and 6.0/95) compound file
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# Import filters by content, tried in order until one loads the file. The binary Word reader
# is one code base behind three filter names (97-2003, 95, 6.0); a file that none of them
# opens is reported as corrupt.
_FILTERS = {
    "word": ("MS Word 97", "MS Word 95", "MS WinWord 6.0"),
    "rtf": ("Rich Text Format",),
    "odt": ("writer8",),
}
_INPUT_SUFFIX = {"word": ".doc", "rtf": ".rtf", "odt": ".odt"}
_LABELS = {".doc": "Word (.doc)", ".rtf": "RTF (.rtf)", ".odt": "OpenDocument (.odt)"}


@dataclass(frozen=True)
class ConverterStatus:
    """Whether the LibreOffice program named in the settings can be run."""

    configured: str
    path: str | None

    @property
    def available(self) -> bool:
        return self.path is not None


def find_converter(program: str) -> str | None:
    """The LibreOffice program to run: ``program`` itself when it is a path, else found on PATH
    (``soffice``, or Debian's other name for it, ``libreoffice``)."""
    if os.sep in program or (os.altsep and os.altsep in program):
        path = Path(program)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which(program)
    if found is None and program == "soffice":
        found = shutil.which("libreoffice")
    return found


def converter_status(settings: LoadSettings | None = None) -> ConverterStatus:
    settings = settings or LoadSettings()
    return ConverterStatus(settings.converter, find_converter(settings.converter))


def convert_to_docx(data: bytes, name: str, settings: LoadSettings) -> bytes:
    """The ``.docx`` bytes of a ``.doc``/``.rtf``/``.odt`` file; ``LoadError`` naming the file
    when the content is not such a file, the converter is missing, fails or runs out of time."""
    base = Path(name).name
    suffix = Path(name).suffix.lower()
    label = _LABELS.get(suffix, suffix)
    kind = sniff(data)
    if kind == "docx":  # a .docx saved under an old name: Word opens it, so do we
        return data
    if kind is None:
        raise LoadError(
            f"Tệp «{base}» không phải tệp {label} thật hoặc đã bị hỏng (nội dung không mang "
            "dấu hiệu của văn bản Word, RTF hay OpenDocument).",
            source=name,
        )
    program = find_converter(settings.converter)
    if program is None:
        raise LoadError(
            f"Không nạp được tệp «{base}»: cần LibreOffice ('{settings.converter}') để chuyển "
            f"tệp {label} sang .docx nhưng máy này chưa có. {INSTALL_HINT}.",
            source=name,
        )
    deadline = time.monotonic() + settings.converter_timeout_s
    with tempfile.TemporaryDirectory(prefix="assistant-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"input{_INPUT_SUFFIX[kind]}"
        source.write_bytes(data)
        out_dir = folder / "out"
        target = out_dir / "input.docx"
        for input_filter in _FILTERS[kind]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout(base, name, settings)
            command = [
                program,
                f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                "--headless",
                "--invisible",
                "--nologo",
                "--nodefault",
                "--norestore",
                "--nolockcheck",
                f"--infilter={input_filter}",
                "--convert-to",
                "docx:MS Word 2007 XML",
                "--outdir",
                str(out_dir),
                str(source),
            ]
            try:
                code, output = _run(command, folder, remaining)
            except subprocess.TimeoutExpired:
                raise _timeout(base, name, settings) from None
            except OSError as exc:
                raise LoadError(
                    f"Không chạy được LibreOffice ('{program}') để chuyển tệp «{base}»: "
                    f"{exc.strerror or exc}. {INSTALL_HINT}.",
                    source=name,
                ) from exc
            if target.is_file() and target.stat().st_size > 0:
                return target.read_bytes()
            log.info("conversion of %s with %r failed (exit %s): %s", name, input_filter, code,
                     output.strip()[-500:])
        raise LoadError(
            f"LibreOffice không chuyển được tệp «{base}» sang .docx: tệp {label} bị hỏng, có mật "
            "khẩu, hoặc không phải văn bản soạn thảo. Hãy mở tệp bằng Word/LibreOffice, lưu lại "
            "dạng .docx rồi nạp lại.",
            source=name,
        )


def convert_docx_to_pdf(data: bytes, name: str, settings: LoadSettings) -> bytes:
    """The PDF of a ``.docx`` (a draft opened and laid out by LibreOffice, as a clerk would open
    it); ``LoadError`` naming the file when LibreOffice is missing, fails or runs out of time."""
    base = Path(name).name
    program = find_converter(settings.converter)
    if program is None:
        raise LoadError(
            f"Không chuyển được «{base}» sang PDF: cần LibreOffice ('{settings.converter}'). "
            f"{INSTALL_HINT}.",
            source=name,
        )
    with tempfile.TemporaryDirectory(prefix="assistant-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / "input.docx"
        source.write_bytes(data)
        out_dir = folder / "out"
        command = [
            program, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
            "--invisible", "--nologo", "--nodefault", "--norestore", "--nolockcheck",
            "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out_dir), str(source),
        ]
        try:
            code, output = _run(command, folder, settings.converter_timeout_s)
        except subprocess.TimeoutExpired:
            raise _timeout(base, name, settings) from None
        except OSError as exc:
            raise LoadError(
                f"Không chạy được LibreOffice ('{program}') để chuyển «{base}» sang PDF: "
                f"{exc.strerror or exc}.",
                source=name,
            ) from exc
        target = out_dir / "input.pdf"
        if target.is_file() and target.stat().st_size > 0:
            return target.read_bytes()
        raise LoadError(
            f"LibreOffice không mở được «{base}» để chuyển sang PDF (mã {code}): "
            f"{output.strip()[-300:]}",
            source=name,
        )


def sniff(data: bytes) -> str | None:
    """What the bytes are, whatever the file's name says: ``word`` (binary Word), ``rtf``,
    ``odt``, ``docx`` or None. Word itself opens an RTF or a .docx named ``.doc``."""
    if data.startswith(_OLE_MAGIC):
        return "word"
    if data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        return "rtf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "word/document.xml" in names:
                    return "docx"
                # Only a small "mimetype" is read: a large one would be a zip bomb's part.
                if ("mimetype" in names and archive.getinfo("mimetype").file_size < 100
                        and archive.read("mimetype").strip() == _ODT_MIMETYPE):
                    return "odt"
        except (zipfile.BadZipFile, ValueError, OSError, KeyError, RuntimeError):
            return None
    return None


def _run(command: list[str], cwd: Path, timeout: float) -> tuple[int, str]:
    """Run the converter in a process group of its own: on a time-out the whole group goes
    (the ``soffice`` launcher starts ``soffice.bin`` as a child), never anything else."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except BaseException:  # time-out, or interrupted: leave no converter running
        _kill_group(process)
        process.communicate()
        raise
    return process.returncode, output.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The group leader is not reaped yet, so its id still names our group and no other.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _timeout(base: str, name: str, settings: LoadSettings) -> LoadError:
    return LoadError(
        f"Chuyển tệp «{base}» sang .docx quá thời gian cho phép "
        f"({settings.converter_timeout_s:g} giây) nên đã dừng. Tệp có thể quá lớn hoặc bị hỏng; "
        "hãy lưu lại dạng .docx rồi nạp, hoặc tăng ASSISTANT_LOAD_CONVERTER_TIMEOUT_S.",
        source=name,
    )
