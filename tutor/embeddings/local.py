"""sentence-transformers (PyTorch) on the CPU: the reference the ONNX runner is checked against."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tutor.embeddings.base import LOCAL_DIMENSION, hub_offline, local_model_name, packaged_model_dir

BATCH_SIZE = 32  # measured fastest on 2 cores (~45 chunks of 130 tokens per second)


class LocalEmbedder:
    """Loaded on first use from the package folder (never downloaded)."""

    dimension = LOCAL_DIMENSION

    def __init__(self, model_dir: Path | None = None) -> None:
        self.model_dir = model_dir or packaged_model_dir()
        self.name = local_model_name(self.model_dir)
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                hub_offline()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.model_dir), device="cpu")
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(
            texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
