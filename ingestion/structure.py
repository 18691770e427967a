"""From parsed documents to a course: weeks (modules) of topics with Markdown content and reading times."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ingestion.pdf import Paragraph, ParsedDocument, Section
from tutor.textutil import COMMON_WORDS, PROSE_WORD

WORDS_PER_MINUTE = 200
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class TopicDraft:
    title: str
    content: str
    order_index: int
    estimated_time: int
    source_file: str
    page_start: int
    page_end: int
    paragraphs: list[Paragraph] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(self.content.split())


@dataclass
class ModuleDraft:
    week: int
    title: str
    description: str
    learning_objectives: list[str]
    topics: list[TopicDraft] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(t.content for t in self.topics)


def _words(paragraphs: list[Paragraph]) -> int:
    return sum(len(p.text.split()) for p in paragraphs)


def _topic(title: str, paragraphs: list[Paragraph], source: str, order: int) -> TopicDraft:
    content = "\n\n".join(p.text for p in paragraphs)
    return TopicDraft(
        title=title[:500],
        content=content,
        order_index=order,
        estimated_time=max(1, math.ceil(len(content.split()) / WORDS_PER_MINUTE)),
        source_file=source,
        page_start=paragraphs[0].page,
        page_end=paragraphs[-1].page,
        paragraphs=list(paragraphs),
    )


def _split(paragraphs: list[Paragraph], max_words: int) -> list[list[Paragraph]]:
    """Break a long run of paragraphs at paragraph boundaries into parts of at most ~max_words."""
    parts: list[list[Paragraph]] = [[]]
    count = 0
    for p in paragraphs:
        n = len(p.text.split())
        if parts[-1] and count + n > max_words:
            parts.append([])
            count = 0
        parts[-1].append(p)
        count += n
    return [part for part in parts if part]


@dataclass
class _Group:
    title: str
    level: int
    parts: list[tuple[str, list[Paragraph]]] = field(default_factory=list)  # (topic title, paragraphs)


def _module_level(sections: list[Section]) -> int | None:
    """The shallowest heading level that divides the document into at least two parts with text."""
    for level in sorted({s.level for s in sections}):
        at_level = [s for s in sections if s.level == level]
        if len(at_level) >= 2:
            return level
    return None


def _groups(doc: ParsedDocument, target_words: int) -> list[_Group]:
    sections = [s for s in doc.sections if s.paragraphs or s.title]
    level = _module_level(sections)
    if level is None:
        # No usable headings: weeks by size, topics by size within them.
        paragraphs = [p for s in sections for p in s.paragraphs]
        return [
            _Group(_first_words(chunk[0].text, 8), 1, [(_first_words(chunk[0].text, 8), chunk)])
            for chunk in _split(paragraphs, target_words)
        ]
    groups: list[_Group] = []
    lead: list[Paragraph] = []
    for s in sections:
        if s.level < level:
            lead += s.paragraphs  # a chapter title's own text opens its first week
            continue
        if s.level == level or not groups:
            groups.append(_Group(s.title, s.level))
            if lead:
                groups[-1].parts.append((s.title, lead))
                lead = []
        if s.paragraphs:
            groups[-1].parts.append((s.title, s.paragraphs))
    if lead and groups:
        groups[-1].parts.append((groups[-1].title, lead))
    groups = [g for g in groups if any(p for _, p in g.parts)]
    # Many tiny sections (a chapter split into pages of headings) would make weeks of a few lines: merge them.
    if len(groups) > 12 or (groups and sum(_words(p) for g in groups for _, p in g.parts) / len(groups) < 150):
        merged: list[_Group] = []
        for g in groups:
            if merged and sum(_words(p) for _, p in merged[-1].parts) < target_words:
                merged[-1].parts += [(t, p) for t, p in g.parts]
            else:
                merged.append(_Group(g.title, g.level, list(g.parts)))
        groups = merged
    return groups


def _first_words(text: str, n: int) -> str:
    words = text.split()
    return " ".join(words[:n]).strip(" ,;:.") + ("…" if len(words) > n else "")


def _description(text: str) -> str:
    sentences = SENTENCE_END.split(text.strip())
    out = ""
    for sentence in sentences[:3]:
        if len(out) + len(sentence) > 400:
            break
        out = f"{out} {sentence}".strip()
    return out or _first_words(text, 40)


def key_terms(text: str, k: int, *, background: str = "") -> list[str]:
    """Salient words of `text`: frequent content words, discounted when common in `background` too."""
    counts = Counter(w.lower() for w in PROSE_WORD.findall(text) if w.lower() not in COMMON_WORDS and not w.isupper())
    base = Counter(w.lower() for w in PROSE_WORD.findall(background)) if background else Counter()
    total_base = sum(base.values()) or 1
    scored = {
        w: n * math.log(1 + len(w)) / (1 + 50 * base[w] / total_base)
        for w, n in counts.items()
        if n >= 2 and len(w) >= 4
    }
    return [w for w, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def build_structure(
    docs: list[ParsedDocument], *, target_words_per_module: int = 2500, max_topic_words: int = 1200
) -> list[ModuleDraft]:
    modules: list[ModuleDraft] = []
    for doc in docs:
        for group in _groups(doc, target_words_per_module):
            topics: list[TopicDraft] = []
            for title, paragraphs in group.parts:
                parts = _split(paragraphs, max_topic_words)
                for i, part in enumerate(parts, 1):
                    label = title if len(parts) == 1 else f"{title} (part {i})"
                    topics.append(_topic(label, part, doc.filename, len(topics) + 1))
            topics = [t for t in topics if t.content.strip()]
            if not topics:
                continue
            week = len(modules) + 1
            text = "\n\n".join(t.content for t in topics)
            title = group.title if group.title else f"Week {week}"
            terms = key_terms(text, 4)
            modules.append(
                ModuleDraft(
                    week=week,
                    title=title[:500],
                    description=_description(text),
                    learning_objectives=[f"Explain what {term} means in this week's material" for term in terms],
                    topics=topics,
                )
            )
    return modules
