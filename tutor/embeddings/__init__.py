"""Embedding providers: the packaged all-MiniLM-L6-v2 run by ONNX Runtime (default) or PyTorch, or any
OpenAI-compatible endpoint. Each backend is imported only when chosen (the API and worker never load torch)."""

from tutor.embeddings.base import (
    LOCAL_DIMENSION,
    LOCAL_MODEL,
    Embedder,
    hub_offline,
    local_model_name,
    packaged_model_dir,
)
from tutor.embeddings.factory import get_embedder
from tutor.embeddings.local import LocalEmbedder
from tutor.embeddings.openai_compat import OpenAIEmbedder

__all__ = [
    "LOCAL_DIMENSION",
    "LOCAL_MODEL",
    "Embedder",
    "LocalEmbedder",
    "OpenAIEmbedder",
    "get_embedder",
    "hub_offline",
    "local_model_name",
    "packaged_model_dir",
]
