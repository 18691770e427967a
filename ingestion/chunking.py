"""Chunks for the index: llama-index's sentence splitter over a topic's text, code blocks and tables kept whole;
each chunk with its page span."""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, replace
from functools import cache

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.utils import get_tokenizer

from ingestion.pdf import Paragraph
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
    confidence: float | None = None  # its text (some of it) was recognised by OCR, with this mean confidence


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
    """Running text by sentences; a code block or table is never split when it fits in a chunk: it joins the
    chunk before it when both fit, else it starts a chunk led by the sentence that introduces it."""
    if not topic.paragraphs:
        return _split_text([Paragraph(topic.content, topic.page_start)], chunk_size, chunk_overlap, topic)
    chunks: list[ChunkDraft] = []
    run: list[Paragraph] = []
    for p in topic.paragraphs:
        if p.kind == "text":
            run.append(p)
            continue
        intro = _last_sentence(run[-1].text) if run else ""
        chunks += _split_text(run, chunk_size, chunk_overlap, topic)
        run = []
        chunks = _add_block(chunks, p, intro, chunk_size)
    chunks += _split_text(run, chunk_size, chunk_overlap, topic)
    return [replace(c, index=i) for i, c in enumerate(chunks)]


def _tokens(text: str) -> int:
    return len(get_tokenizer()(text))


def _last_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text.strip())[-1]
    return sentence if _tokens(sentence) <= 60 else ""


def _add_block(chunks: list[ChunkDraft], block: Paragraph, intro: str, chunk_size: int) -> list[ChunkDraft]:
    size = _tokens(block.text)
    if chunks and size <= chunk_size and _tokens(chunks[-1].text) + size <= chunk_size:
        last = chunks[-1]
        return [*chunks[:-1], replace(last, text=f"{last.text}\n\n{block.text}", page_end=block.page)]
    pieces = [block.text] if size <= chunk_size else _split_block(block, chunk_size)
    out = list(chunks)
    for i, piece in enumerate(pieces):
        lead = intro if i == 0 and intro and _tokens(intro) + _tokens(piece) <= chunk_size else ""
        out.append(ChunkDraft(len(out), f"{lead}\n\n{piece}" if lead else piece, block.page, block.page))
    return out


def _split_block(block: Paragraph, chunk_size: int) -> list[str]:
    """A long listing or table cut between its lines, each piece still a fenced block (or a table with its head)."""
    fenced = block.kind == "code"
    lines = block.text.split("\n")
    head = lines[:2] if block.kind == "table" else []
    body = lines[1:-1] if fenced else lines[len(head) :]
    pieces: list[list[str]] = [[]]
    for line in body:
        if pieces[-1] and _tokens("\n".join([*head, *pieces[-1], line])) > chunk_size - 8:
            pieces.append([])
        pieces[-1].append(line)
    if fenced:
        return ["```\n" + "\n".join(p) + "\n```" for p in pieces if p]
    return ["\n".join([*head, *p]) for p in pieces if p]


def _split_text(
    paragraphs: list[Paragraph], chunk_size: int, chunk_overlap: int, topic: TopicDraft
) -> list[ChunkDraft]:
    if not paragraphs:
        return []
    # The run's text with the offset where each paragraph starts, to map chunk offsets back to pages.
    starts: list[int] = []
    pages: list[int] = []
    offset = 0
    for p in paragraphs:
        starts.append(offset)
        pages.append(p.page)
        offset += len(p.text) + 2
    text = "\n\n".join(p.text for p in paragraphs)
    nodes = _splitter(chunk_size, chunk_overlap).get_nodes_from_documents([Document(text=text)])
    chunks = []
    for i, node in enumerate(nodes):
        content = node.get_content()
        found_start, found_end = getattr(node, "start_char_idx", None), getattr(node, "end_char_idx", None)
        start = int(found_start) if found_start is not None else max(0, text.find(content[:50]))
        end = int(found_end) if found_end is not None else start + len(content)
        first_index = max(0, bisect.bisect_right(starts, start) - 1)
        last_index = max(0, bisect.bisect_right(starts, max(start, end - 1)) - 1)
        confidence = _confidence(paragraphs[first_index : last_index + 1])
        chunks.append(ChunkDraft(i, content, pages[first_index], pages[last_index], confidence))
    return chunks


def _confidence(paragraphs: list[Paragraph]) -> float | None:
    """The mean OCR confidence of the recognised paragraphs a chunk draws on (by length); None if there are none."""
    known = [(p.confidence, len(p.text)) for p in paragraphs if p.confidence is not None]
    if not known:
        return None
    return round(sum(c * n for c, n in known) / max(1, sum(n for _, n in known)), 4)


def chunk_id(course_id: int, file_checksum: str, topic_order: int, index: int) -> str:
    """Stable across reruns of a job, so re-indexing upserts instead of duplicating."""
    digest = hashlib.sha256(f"{course_id}:{file_checksum}:{topic_order}:{index}".encode()).hexdigest()[:24]
    return f"c{course_id}-{digest}"
