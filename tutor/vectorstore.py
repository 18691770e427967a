"""Chroma, one collection per course, page-cited chunks; the embedding model is recorded on each collection."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

from tutor.errors import TutorError
from tutor.settings import Settings

T = TypeVar("T")


class IndexMissingError(TutorError):
    status = 409

    def __init__(self, course_id: int) -> None:
        super().__init__(
            "index_missing",
            f"course {course_id} has no search index; upload its PDFs, or rebuild a lost index from the stored "
            f"chunks with `tutor reindex {course_id}`",
        )


class EmbeddingMismatchError(TutorError):
    status = 409

    def __init__(self, course_id: int, built: str, wanted: str) -> None:
        super().__init__(
            "embedding_mismatch",
            f"course {course_id}'s index was built with {built}, but this service embeds with {wanted}; "
            f"rebuild it with `tutor reindex {course_id}`",
        )


@dataclass(frozen=True)
class ChunkMetadata:
    course_id: int
    module_id: int | None
    topic_id: int | None
    week: int | None
    topic_title: str
    file_id: str
    filename: str
    page_start: int
    page_end: int
    ocr: bool = False  # its text (some of it) was recognised by OCR on a scanned page
    ocr_confidence: float | None = None  # the recognizer's mean confidence (0-1) for that text

    def to_chroma(self) -> dict[str, str | int | float | bool]:
        # Chroma metadata values cannot be None: absent keys stand for None (and a text-layer chunk has no OCR keys).
        return {k: v for k, v in asdict(self).items() if v is not None and not (k == "ocr" and not v)}

    @classmethod
    def from_chroma(cls, raw: dict[str, Any]) -> ChunkMetadata:
        return cls(
            course_id=int(raw["course_id"]),
            module_id=raw.get("module_id"),
            topic_id=raw.get("topic_id"),
            week=raw.get("week"),
            topic_title=str(raw.get("topic_title", "")),
            file_id=str(raw.get("file_id", "")),
            filename=str(raw.get("filename", "")),
            page_start=int(raw.get("page_start", 0)),
            page_end=int(raw.get("page_end", 0)),
            ocr=bool(raw.get("ocr", False)),
            ocr_confidence=None if raw.get("ocr_confidence") is None else float(raw["ocr_confidence"]),
        )

    @property
    def pages(self) -> str:
        return f"p. {self.page_start}" if self.page_start == self.page_end else f"pp. {self.page_start}-{self.page_end}"


@dataclass(frozen=True)
class ChunkRecord:
    chunk_id: str
    text: str
    metadata: ChunkMetadata


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    text: str
    metadata: ChunkMetadata
    score: float  # cosine similarity: higher is closer
    lexical: float = 0.0  # share of the question's term weight the chunk contains (0 when not ranked lexically)


# Course collections hold hundreds to a few thousand chunks: a search as wide as the collection visits every
# chunk, so it is exact, and so the same book gives the same ranking in every index built from it (chromadb's
# default, ef_search 100 for 40 results, answered the same questions differently in two ingestions of one
# book). One insertion thread builds the same graph from the same chunks. Measured in benchmarks/exact.py.
EXACT_EF = 10_000
EXACT_HNSW: dict[str, Any] = {"hnsw": {"space": "cosine", "ef_search": EXACT_EF, "num_threads": 1}}


@dataclass(frozen=True)
class StoredBatch:
    embedding_model: str
    dimension: int
    ids: list[str]
    documents: list[str]
    metadatas: list[dict[str, Any]]
    embeddings: list[list[float]]


def collection_name(course_id: int) -> str:
    return f"course_{course_id}"


class VectorStore:
    def __init__(self, client: Any) -> None:
        self.client = client
        self._lock = threading.Lock()
        # Collection handles for the chat's hot path (a lookup is a round trip to a Chroma server). A handle goes
        # stale when its collection is deleted, perhaps by another process: Chroma then says NotFound, and the
        # handle is looked up again once.
        self._handles: dict[int, Any] = {}

    def heartbeat(self) -> int:
        return int(self.client.heartbeat())

    def _get(self, course_id: int) -> Any | None:
        try:
            collection = self.client.get_collection(collection_name(course_id))
        except Exception as exc:
            if _not_found(exc):
                self._handles.pop(course_id, None)
                return None
            raise
        self._handles[course_id] = collection
        return collection

    def _checked(self, course_id: int, embedding_model: str, *, fresh: bool = False) -> Any:
        collection = None if fresh else self._handles.get(course_id)
        if collection is None:
            collection = self._get(course_id)
        if collection is None:
            raise IndexMissingError(course_id)
        built = (collection.metadata or {}).get("embedding_model")
        if built != embedding_model:
            raise EmbeddingMismatchError(course_id, str(built), embedding_model)
        return collection

    def _on_collection(self, course_id: int, embedding_model: str, use: Callable[[Any], T]) -> T:
        """`use(collection)` with the cached handle, looked up afresh once if the collection was replaced."""
        try:
            return use(self._checked(course_id, embedding_model))
        except EmbeddingMismatchError:
            # The handle's metadata is from when it was looked up: the index may have been rebuilt since.
            return use(self._checked(course_id, embedding_model, fresh=True))
        except Exception as exc:
            if not _not_found(exc):
                raise
            return use(self._checked(course_id, embedding_model, fresh=True))

    def check(self, course_id: int, embedding_model: str) -> None:
        """Raise IndexMissingError or EmbeddingMismatchError before a turn is recorded, not halfway through it."""
        if self._on_collection(course_id, embedding_model, lambda c: int(c.count())) == 0:
            raise IndexMissingError(course_id)

    def upsert(
        self,
        course_id: int,
        records: list[ChunkRecord],
        embeddings: list[list[float]],
        *,
        embedding_model: str,
        dimension: int,
    ) -> None:
        with self._lock:
            collection = self._get(course_id)
            if collection is None:
                collection = self._create(collection_name(course_id), course_id, embedding_model, dimension)
            meta = collection.metadata or {}
            if meta.get("embedding_model") != embedding_model or int(meta.get("embedding_dimension", 0)) != dimension:
                raise EmbeddingMismatchError(
                    course_id,
                    f"{meta.get('embedding_model')} ({meta.get('embedding_dimension')}d)",
                    f"{embedding_model} ({dimension}d)",
                )
        for start in range(0, len(records), 1000):
            batch = records[start : start + 1000]
            collection.upsert(
                ids=[r.chunk_id for r in batch],
                documents=[r.text for r in batch],
                embeddings=embeddings[start : start + 1000],
                metadatas=[r.metadata.to_chroma() for r in batch],
            )

    def _create(self, name: str, course_id: int, embedding_model: str, dimension: int) -> Any:
        return self.client.get_or_create_collection(
            name,
            embedding_function=None,
            configuration=EXACT_HNSW,
            metadata={"embedding_model": embedding_model, "embedding_dimension": dimension, "course_id": course_id},
        )

    def replace_course(
        self,
        course_id: int,
        batches: Iterable[tuple[list[ChunkRecord], list[list[float]]]],
        *,
        embedding_model: str,
        dimension: int,
    ) -> None:
        """A new collection for the course from `batches`, in place of the old one once it is complete."""
        staging = f"{collection_name(course_id)}_rebuild_{uuid.uuid4().hex[:8]}"
        collection = self._create(staging, course_id, embedding_model, dimension)
        try:
            for records, embeddings in batches:
                collection.add(
                    ids=[r.chunk_id for r in records],
                    documents=[r.text for r in records],
                    embeddings=embeddings,
                    metadatas=[r.metadata.to_chroma() for r in records],
                )
            with self._lock:
                if self._get(course_id) is not None:
                    self.client.delete_collection(collection_name(course_id))
                collection.modify(name=collection_name(course_id))
                self._handles.pop(course_id, None)
        except BaseException:
            self.client.delete_collection(staging)
            raise

    def course_ids(self) -> list[int]:
        """The courses that have a collection here."""
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(int(n.removeprefix("course_")) for n in names if n.removeprefix("course_").isdigit())

    def export(self, course_id: int, *, batch: int = 500) -> Iterator[StoredBatch]:
        """The collection's chunks with their vectors, in batches (a backup that needs no re-embedding)."""
        collection = self._get(course_id)
        if collection is None:
            return
        meta = dict(collection.metadata or {})
        for offset in range(0, int(collection.count()), batch):
            got = collection.get(include=["documents", "metadatas", "embeddings"], limit=batch, offset=offset)
            yield StoredBatch(
                embedding_model=str(meta.get("embedding_model")),
                dimension=int(meta.get("embedding_dimension", 0)),
                ids=list(got["ids"]),
                documents=[d or "" for d in got["documents"]],
                metadatas=[dict(m or {}) for m in got["metadatas"]],
                embeddings=[[float(x) for x in e] for e in got["embeddings"]],
            )

    def restore(self, course_id: int, stored: StoredBatch) -> None:
        """Chunks exported by `export`, vectors included, into this store (created as ingestion creates it)."""
        with self._lock:
            collection = self._get(course_id) or self._create(
                collection_name(course_id), course_id, stored.embedding_model, stored.dimension
            )
        collection.upsert(
            ids=stored.ids, documents=stored.documents, embeddings=stored.embeddings, metadatas=stored.metadatas
        )

    def update_metadata(self, course_id: int, records: list[ChunkRecord]) -> None:
        """New metadata for chunks already stored (their text and vectors stay)."""
        collection = self._get(course_id)
        if collection is None:
            raise IndexMissingError(course_id)
        for start in range(0, len(records), 1000):
            batch = records[start : start + 1000]
            collection.update(ids=[r.chunk_id for r in batch], metadatas=[r.metadata.to_chroma() for r in batch])

    def stored_ids(self, course_id: int, ids: list[str]) -> set[str]:
        """Which of `ids` the course's index holds already (a retried job skips embedding them again)."""
        collection = self._get(course_id)
        if collection is None:
            return set()
        found: set[str] = set()
        for start in range(0, len(ids), 1000):
            found.update(collection.get(ids=ids[start : start + 1000], include=[])["ids"])
        return found

    def query(
        self,
        course_id: int,
        embedding: list[float],
        *,
        k: int,
        embedding_model: str,
        where: dict[str, Any] | None = None,
    ) -> list[Hit]:
        # An empty collection answers with no hits; a larger n_results than it holds is cut to its size.
        result = self._on_collection(
            course_id,
            embedding_model,
            lambda c: c.query(
                query_embeddings=[embedding], n_results=k, where=where, include=["documents", "metadatas", "distances"]
            ),
        )
        return [
            Hit(chunk_id, text or "", ChunkMetadata.from_chroma(dict(meta or {})), 1.0 - float(distance))
            for chunk_id, text, meta, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    def nearest(
        self, course_id: int, embedding: list[float], *, k: int, embedding_model: str
    ) -> list[tuple[str, float]]:
        """The k nearest chunks' ids and cosine similarities, without their text (the caller has it)."""
        result = self._on_collection(
            course_id,
            embedding_model,
            lambda c: c.query(query_embeddings=[embedding], n_results=k, include=["distances"]),
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def records(self, course_id: int, chunk_ids: list[str]) -> dict[str, ChunkRecord]:
        """Chunks by id, as the index holds them."""
        collection = self._get(course_id)
        if collection is None:
            return {}
        found = collection.get(ids=chunk_ids, include=["documents", "metadatas"])
        return {
            cid: ChunkRecord(cid, text or "", ChunkMetadata.from_chroma(dict(meta or {})))
            for cid, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        }

    def count(self, course_id: int) -> int:
        collection = self._get(course_id)
        return 0 if collection is None else int(collection.count())

    def has_index(self, course_id: int) -> bool:
        return self.count(course_id) > 0

    def delete_where(self, course_id: int, where: dict[str, Any]) -> None:
        collection = self._get(course_id)
        if collection is not None:
            collection.delete(where=where)

    def delete_course(self, course_id: int) -> None:
        if self._get(course_id) is not None:
            self.client.delete_collection(collection_name(course_id))
        self._handles.pop(course_id, None)


def _not_found(exc: Exception) -> bool:
    # chromadb raises NotFoundError (a ValueError or InvalidCollectionException in older releases)
    return "does not exist" in str(exc) or type(exc).__name__ in ("NotFoundError", "InvalidCollectionException")


def open_vector_store(settings: Settings) -> VectorStore:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        client = chromadb.HttpClient(
            host=url.hostname or "localhost", port=url.port or 8000, ssl=url.scheme == "https", settings=chroma_settings
        )
    else:
        path = settings.resolved_chroma_path
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    return VectorStore(client)
