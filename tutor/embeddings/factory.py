"""Choose the embedder once per process, from settings."""

from __future__ import annotations

import threading
from pathlib import Path

from tutor.embeddings.base import Embedder, local_model_name, packaged_model_dir
from tutor.settings import Settings

_cache: dict[tuple[str, str | None, str | None, str, bool], Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(settings: Settings, *, batches: bool = False) -> Embedder:
    """One model per process: loading it costs seconds and hundreds of MB. `batches`: for a process that embeds
    long runs of batches (the ingestion worker, reindexing), tuned for throughput rather than for short questions."""
    key = (
        settings.embedding_provider,
        settings.embedding_model,
        settings.llm_base_url,
        settings.embedding_backend,
        batches,
    )
    with _cache_lock:
        if key not in _cache:
            if settings.embedding_provider == "openai":
                from tutor.embeddings.openai_compat import OpenAIEmbedder

                model = settings.embedding_model or "text-embedding-3-small"
                _cache[key] = OpenAIEmbedder(model, settings.llm_base_url, settings.llm_api_key)
            else:
                path = Path(settings.embedding_model) if settings.embedding_model else packaged_model_dir()
                if settings.embedding_backend == "torch":
                    from tutor.embeddings.local import LocalEmbedder

                    _cache[key] = LocalEmbedder(path)
                else:
                    from tutor.embeddings.onnx import OnnxEmbedder

                    # The model keeps its name whatever runs it: indexes stay usable across backends.
                    _cache[key] = OnnxEmbedder(
                        path,
                        settings.resolved_model_cache_dir,
                        name=local_model_name(path),
                        variant="int8" if settings.embedding_backend == "onnx-int8" else "float32",
                        spin=batches,
                    )
        return _cache[key]
