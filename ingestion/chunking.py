"""Chunks for the index: llama-index's sentence splitter over a topic, each chunk with its page span."""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass
from functools import cache

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter

from ingestion.structure import TopicDraft

# all-MiniLM-L6-v2 reads at most 256 word pieces; bigger chunks would be cut silently when embedded.
CHUNK_TOKENS = 200
CHUNK_OVERLAP = 30


@dataclass(frozen=True)
class ChunkDraft:
    index: int
    text: str
    page_start: int
    page_end: int


@cache
def _splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, paragraph_separator="\n\n")


def warm_up() -> None:
    """Load the splitter's tokenizers (about 2 s, once per process).

    The text must be longer than a chunk: the sentence tokenizer is loaded only when a text needs splitting.
    """
    _splitter(CHUNK_TOKENS, CHUNK_OVERLAP).split_text("Warm up the sentence tokenizer. " * CHUNK_TOKENS)


def chunk_topic(
    topic: TopicDraft, *, chunk_size: int = CHUNK_TOKENS, chunk_overlap: int = CHUNK_OVERLAP
) -> list[ChunkDraft]:
    # The topic's text with the offset where each paragraph starts, to map chunk offsets back to pages.
    starts: list[int] = []
    pages: list[int] = []
    pieces: list[str] = []
    offset = 0
    for p in topic.paragraphs:
        starts.append(offset)
        pages.append(p.page)
        pieces.append(p.text)
        offset += len(p.text) + 2
    text = "\n\n".join(pieces) if pieces else topic.content
    nodes = _splitter(chunk_size, chunk_overlap).get_nodes_from_documents([Document(text=text)])
    chunks = []
    for i, node in enumerate(nodes):
        content = node.get_content()
        found_start, found_end = getattr(node, "start_char_idx", None), getattr(node, "end_char_idx", None)
        start = int(found_start) if found_start is not None else max(0, text.find(content[:50]))
        end = int(found_end) if found_end is not None else start + len(content)
        if pages:
            first = pages[max(0, bisect.bisect_right(starts, start) - 1)]
            last = pages[max(0, bisect.bisect_right(starts, max(start, end - 1)) - 1)]
        else:
            first, last = topic.page_start, topic.page_end
        chunks.append(ChunkDraft(i, content, first, last))
    return chunks


def chunk_id(course_id: int, file_checksum: str, topic_order: int, index: int) -> str:
    """Stable across reruns of a job, so re-indexing upserts instead of duplicating."""
    digest = hashlib.sha256(f"{course_id}:{file_checksum}:{topic_order}:{index}".encode()).hexdigest()[:24]
    return f"c{course_id}-{digest}"
