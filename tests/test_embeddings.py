"""The ONNX runner gives the vectors sentence-transformers gives, and exports each model once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tutor.embeddings import LocalEmbedder, get_embedder, packaged_model_dir
from tutor.embeddings.onnx import OnnxEmbedder
from tutor.settings import Settings

TEXTS = [
    "Photosynthesis",
    "Mitochondria release energy from glucose through cellular respiration.",
    "The water cycle moves water between oceans, air and land: evaporation, condensation, precipitation. " * 12,
    "Newton's second law: the net force on a body equals its mass times its acceleration.",
]
PASSAGES = [
    "Plants capture light energy in chloroplasts and store it as sugar: this is photosynthesis.",
    "A lever multiplies force by trading distance for effort.",
    "Volcanoes erupt when magma rises through cracks in the crust.",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return np.array(LocalEmbedder().embed_documents(TEXTS))


def cosines(a: list[list[float]], b: np.ndarray) -> np.ndarray:
    return np.sum(np.array(a) * b, axis=1)


def test_float_onnx_gives_sentence_transformers_vectors(reference: np.ndarray) -> None:
    embedder = get_embedder(Settings(embedding_backend="onnx"))
    vectors = embedder.embed_documents(TEXTS)  # mixed lengths in one batch, one beyond 256 word pieces
    assert embedder.name == "all-MiniLM-L6-v2" and embedder.dimension == 384
    assert cosines(vectors, reference).min() > 0.9999
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_int8_keeps_vectors_and_rankings(reference: np.ndarray) -> None:
    embedder = get_embedder(Settings(embedding_backend="onnx-int8"))
    assert cosines(embedder.embed_documents(TEXTS), reference).min() > 0.97
    exact = get_embedder(Settings(embedding_backend="onnx"))
    for query, best in [("How do plants make sugar from light?", 0), ("Why do volcanoes erupt?", 2)]:
        for e in (embedder, exact):
            scores = np.array(e.embed_documents(PASSAGES)) @ np.array(e.embed_query(query))
            assert int(np.argmax(scores)) == best


def test_export_happens_once_even_when_two_start_together(tmp_path: Path) -> None:
    def load() -> list[float]:
        return OnnxEmbedder(packaged_model_dir(), tmp_path, name="m", variant="int8").embed_query("cells divide")

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: load(), range(2))
    assert first == second
    [folder] = tmp_path.iterdir()
    files = sorted(p.name for p in folder.iterdir())
    assert files == [".lock", "model.int8.onnx", "model.onnx"]  # no partial files left behind
    written = (folder / "model.int8.onnx").stat().st_mtime_ns
    assert load() == first
    assert (folder / "model.int8.onnx").stat().st_mtime_ns == written
