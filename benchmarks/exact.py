"""Exact, repeatable dense search on a course collection: chromadb's default HNSW vs ours; prints JSON.

    python benchmarks/exact.py [--candidates 40]

SciQ's support paragraphs (one chunk each) are embedded once; the vectors are then loaded into collections
built two ways, twice each (as two ingestions of one book would build them): chromadb's default (ef_search 100, one insertion thread per
core) and ours (tutor.vectorstore.EXACT_HNSW). For every SciQ question, each collection's top candidates are
compared with brute-force search over the same vectors (recall, identical order) and with its twin.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import median, sciq


def build(client: Any, name: str, configuration: dict[str, Any] | None, data: dict[str, Any]) -> Any:
    collection = client.create_collection(name, embedding_function=None, configuration=configuration)
    for start in range(0, len(data["ids"]), 64):  # batches as ingestion stores them
        end = start + 64
        collection.add(
            ids=data["ids"][start:end], embeddings=data["embeddings"][start:end], documents=data["documents"][start:end]
        )
    return collection


async def main(candidates: int) -> None:
    from tutor.embeddings import get_embedder
    from tutor.settings import Settings
    from tutor.vectorstore import EXACT_HNSW, open_vector_store

    items = sciq()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_vector_store(Settings(chroma_path=Path(tmp) / "chroma"))
        embedder = get_embedder(Settings())
        paragraphs = list(dict.fromkeys(i["support"] for i in items))
        data = {
            "ids": [f"p{i}" for i in range(len(paragraphs))],
            "documents": paragraphs,
            "embeddings": embedder.embed_documents(paragraphs),
        }
        ids = np.array(data["ids"])
        matrix = np.asarray(data["embeddings"], dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        default = {"hnsw": {"space": "cosine"}}
        built = {
            (kind, twin): build(store.client, f"bench_{kind}_{twin}", config, data)
            for kind, config in (("default", default), ("exact", EXACT_HNSW))
            for twin in (0, 1)
        }
        queries = [embedder.embed_query(i["question"]) for i in items]
        out: dict[str, Any] = {"chunks": len(ids), "questions": len(items), "candidates": candidates}
        for kind in ("default", "exact"):
            recall, same_order, twins_agree, ms = [], 0, 0, []
            for q in queries:
                qv = np.asarray(q, dtype=np.float32)
                truth = list(ids[np.argsort(-(matrix @ (qv / np.linalg.norm(qv))), kind="stable")[:candidates]])
                rankings = []
                for twin in (0, 1):
                    started = time.perf_counter()
                    got = built[(kind, twin)].query(query_embeddings=[q], n_results=candidates, include=[])["ids"][0]
                    ms.append(1000 * (time.perf_counter() - started))
                    rankings.append(got)
                recall.append(len(set(rankings[0]) & set(truth)) / len(truth))
                same_order += rankings[0] == truth
                twins_agree += rankings[0] == rankings[1]
            out[kind] = {
                "recall_at_candidates": round(float(np.mean(recall)), 4),
                "questions_in_exact_order": round(same_order / len(queries), 3),
                "questions_ranked_alike_by_two_builds": round(twins_agree / len(queries), 3),
                "query_ms_median": median(ms),
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=40)
    asyncio.run(main(parser.parse_args().candidates))
