"""From parsed documents to a course: weeks (modules) of topics with Markdown content and reading times.

Weeks follow the author's chapters. The week level is the outline's top level (without an outline, the largest
headings). When the top has a single entry, it is a chapter (a chapter PDF is one week, its sections the topics)
unless what stands below it is a book's: front matter, entries named as chapters, or chapter-sized entries
(CHAPTER_WORDS on average); then the level below it is the week level and the single entry is the book's title.
Every chapter is its own week however short; nothing is merged unless the course is over `max_weeks`, and then
the job result says which weeks were merged. Around the chapters:

- front matter (preface, foreword, acknowledgements, ...) before the first chapter becomes one week titled as in
  the outline ("Preface", "Foreword and Preface") when it has at least FRONT_MATTER_WEEK_WORDS words; shorter
  front matter opens week 1 as its own topic(s);
- text before the first heading (title page, copyright) opens week 1 as a topic when it has at least
  LEAD_IN_MIN_WORDS words, and is left out otherwise; a table of contents is always left out;
- the index, bibliography, references, table of contents and lists of figures never become weeks (they are
  named in the job result as left out);
- appendices (from the first "Appendix ..." or "Appendices" entry on) are weeks after the chapters;
- "Part ..." entries that hold chapters are not weeks: their chapters are, and a part's own text opens its
  first chapter.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from ingestion.keyterms import SENTENCE_END, key_terms
from ingestion.pdf import Paragraph, ParsedDocument, Section

WORDS_PER_MINUTE = 200
FRONT_MATTER_WEEK_WORDS = 1000  # about five minutes of reading: a preface worth a week of its own
LEAD_IN_MIN_WORDS = 40  # below this, text before the first heading is a title page, not reading
# A book's chapters average ten pages or more; a chapter's sections rarely reach it (Erickson's: 100-2,500 words,
# their exercises up to 13,000, averaging 900-1,800 a chapter). Below it, what stands under a PDF's one top
# entry is that chapter's sections.
CHAPTER_WORDS = 3000
MAX_WEEKS = 52

Kind = Literal["front", "chapter", "appendix"]

_NUMBER = r"(?:(?:chapter|part|appendix|section)\s+)?(?:[\divxlc]+|[a-z])?[.:)]?\s*"
FRONT_MATTER = re.compile(
    rf"^{_NUMBER}(preface|foreword|fore-word|acknowledge?ments?|dedication|about (this|the) (book|authors?)|"
    r"(a )?notes? (to|for) (the )?(students?|teachers?|instructors?|readers?)|to the (student|teacher|instructor|"
    r"reader)s?|how to use this book|epigraph|copyright)\b",
    re.I,
)
BACK_MATTER = re.compile(
    rf"^{_NUMBER}((subject |author |name |general )?index( of [a-z ]+)?|bibliography|references|works cited|"
    r"(table of )?contents|list of (figures|tables|illustrations|symbols|algorithms|abbreviations)|"
    r"further reading|bibliographic notes)\s*$",
    re.I,
)
CHAPTER_NAME = re.compile(r"^\s*(chapter|lecture|lesson|unit|module|week)\s+([\divxlc]+|[a-z])\b", re.I)
APPENDIX = re.compile(r"^\s*(appendix|appendices)\b", re.I)
CONTAINER = re.compile(r"^\s*(part|book|unit|appendices)\b", re.I)  # holds chapters; not a week itself
PAGE_REFERENCE = re.compile(r"(?<![\w.])\d{1,4}(?![\w.])")


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
    kind: Kind = "chapter"

    @property
    def text(self) -> str:
        return "\n\n".join(t.content for t in self.topics)


@dataclass
class CourseStructure:
    """The weeks, and what the teacher should know about how they were made (merges, left-out matter)."""

    modules: list[ModuleDraft]
    notes: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # back matter not made into weeks: "book.pdf: Index"
    merged: list[str] = field(default_factory=list)  # weeks merged to keep the course within max_weeks


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
    kind: Kind
    source: str
    parts: list[tuple[str, list[Paragraph]]] = field(default_factory=list)  # (topic title, paragraphs)

    @property
    def words(self) -> int:
        return sum(_words(p) for _, p in self.parts)


def _role(title: str) -> Literal["front", "back", "appendix", "chapter"]:
    if BACK_MATTER.match(title):
        return "back"
    if FRONT_MATTER.match(title):
        return "front"
    return "appendix" if APPENDIX.match(title) else "chapter"


def _looks_like_contents(paragraph: Paragraph) -> bool:
    """A table of contents (or an index) block: mostly titles followed by page numbers."""
    words = paragraph.text.split()
    return len(words) >= 6 and len(PAGE_REFERENCE.findall(paragraph.text)) >= 0.2 * len(words)


def _week_level(sections: list[Section]) -> int | None:
    """The level of weeks: the shallowest heading level with at least two chapters, or with one chapter when the
    entries below it are its sections (a chapter PDF is one week), not a book's chapters under its title."""
    counted = [s for s in sections if _role(s.title) != "back"]
    levels = sorted({s.level for s in counted})
    for level in levels:
        entries = [s for s in counted if s.level == level and not CONTAINER.match(s.title)]
        if len(entries) >= 2 or (entries and not _over_chapters(counted, level)):
            return level
    return levels[0] if levels else None


def _over_chapters(sections: list[Section], level: int) -> bool:
    """Whether the one entry at `level` is a book's title over its chapters rather than a chapter over its
    sections: the entries below it include front matter or are named as chapters ("Chapter 2", "Lecture 3"), or
    they are chapter-sized (CHAPTER_WORDS each on average)."""
    below = [s for s in sections if s.level > level]
    for deeper in sorted({s.level for s in below}):
        entries = [s for s in below if s.level == deeper]
        if len(entries) >= 2:
            if any(_role(s.title) == "front" or CHAPTER_NAME.match(s.title) for s in entries):
                return True
            return _words([p for s in below for p in s.paragraphs]) >= CHAPTER_WORDS * len(entries)
    return False


def _groups(doc: ParsedDocument, target_words: int) -> tuple[list[_Group], list[str]]:
    """The document's weeks as groups of (topic title, paragraphs), and the back matter left out."""
    titled = [s for s in doc.sections if not s.untitled]
    lead_in = [p for s in doc.sections if s.untitled for p in s.paragraphs if not _looks_like_contents(p)]
    level = _week_level(titled)
    if level is None:
        # No usable headings: weeks by size, topics by size within them.
        paragraphs = [p for s in doc.sections for p in s.paragraphs]
        return [
            _Group(_first_words(chunk[0].text, 8), "chapter", doc.filename, [(_first_words(chunk[0].text, 8), chunk)])
            for chunk in _split(paragraphs, target_words)
        ], []
    groups: list[_Group] = []
    left_out: list[str] = []
    pending: list[Paragraph] = []  # a part's own text: it opens the part's first chapter
    in_container = in_back = in_appendices = False
    for s in titled:
        role = _role(s.title)
        container = s.level == level and bool(CONTAINER.match(s.title))
        if s.level < level or container:
            pending += s.paragraphs
            in_container, in_back = container, role == "back"
            in_appendices = in_appendices or role == "appendix"
            continue
        if s.level == level or (in_container and s.level == level + 1):
            if s.level == level:
                in_container = False
            in_back = role == "back"
            if in_back:
                left_out.append(f"{doc.filename}: {s.title}")
                continue
            in_appendices = in_appendices or role == "appendix"
            kind: Kind = "appendix" if in_appendices else "chapter"
            if role == "front" and not any(g.kind != "front" and g.words >= LEAD_IN_MIN_WORDS for g in groups):
                kind = "front"
            groups.append(_Group(s.title, kind, doc.filename))
            if pending:
                groups[-1].parts.append((s.title, pending))
                pending = []
        elif in_back:
            continue
        elif not groups:
            groups.append(_Group(s.title, "chapter", doc.filename))  # subsections before any chapter heading
        paragraphs = s.paragraphs
        if groups[-1].kind == "front":  # a contents page often sits among the front matter
            paragraphs = [p for p in paragraphs if not _looks_like_contents(p)]
        if paragraphs:
            groups[-1].parts.append((s.title, paragraphs))
    if pending and groups:
        groups[-1].parts.append((groups[-1].title, pending))
    groups = [g for g in groups if g.words]
    return _place_front_matter(groups, lead_in, doc), left_out


def _place_front_matter(groups: list[_Group], lead_in: list[Paragraph], doc: ParsedDocument) -> list[_Group]:
    """Front matter becomes one week, or opens week 1 (see the module's rule); a title page is left out."""
    # A heading over a few words before the front matter (an author's name under the book's title) is the title
    # page's, not a chapter.
    first_front = next((i for i, g in enumerate(groups) if g.kind == "front"), 0)
    title_page = [g for g in groups[:first_front] if g.words < LEAD_IN_MIN_WORDS]
    lead_in = [*lead_in, *(p for g in title_page for _, paragraphs in g.parts for p in paragraphs)]
    front = [g for g in groups if g.kind == "front"]
    rest = [g for g in groups if g.kind != "front" and all(g is not t for t in title_page)]
    opening: list[tuple[str, list[Paragraph]]] = []
    if _words(lead_in) >= LEAD_IN_MIN_WORDS:
        opening.append((doc.filename.rsplit(".", 1)[0], lead_in))
    if front:
        parts = [part for g in front for part in g.parts]
        if sum(_words(p) for _, p in parts) >= FRONT_MATTER_WEEK_WORDS or not rest:
            title = " and ".join(dict.fromkeys(g.title for g in front))
            return [_Group(title, "front", doc.filename, opening + parts), *rest]
        opening += parts
    if opening and rest:
        rest[0].parts[:0] = opening
    elif opening:
        rest = [_Group(opening[0][0], "chapter", doc.filename, opening)]
    return rest


def _cap(groups: list[_Group], max_weeks: int) -> list[str]:
    """Merge the shortest pairs of neighbouring weeks of one file until at most `max_weeks` are left."""
    merged: list[str] = []
    while len(groups) > max(1, max_weeks):
        pairs = [i for i in range(len(groups) - 1) if groups[i].source == groups[i + 1].source] or list(
            range(len(groups) - 1)
        )
        # Chapters merge with chapters first; front matter and appendices only when nothing else is left.
        i = min(
            pairs,
            key=lambda i: (groups[i].kind != groups[i + 1].kind, groups[i].words + groups[i + 1].words),
        )
        a, b = groups[i], groups.pop(i + 1)
        merged.append(f"“{a.title}” + “{b.title}”")
        groups[i] = _Group(f"{a.title}; {b.title}", a.kind, a.source, a.parts + b.parts)
    return merged


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


def build_structure(
    docs: list[ParsedDocument],
    *,
    target_words_per_module: int = 2500,
    max_topic_words: int = 1200,
    max_weeks: int = MAX_WEEKS,
) -> CourseStructure:
    groups: list[_Group] = []
    left_out: list[str] = []
    for doc in docs:
        found, dropped = _groups(doc, target_words_per_module)
        groups += found
        left_out += dropped
    chapters = len(groups)
    merged = _cap(groups, max_weeks)
    modules: list[ModuleDraft] = []
    for group in groups:
        topics: list[TopicDraft] = []
        for title, paragraphs in group.parts:
            parts = _split(paragraphs, max_topic_words)
            for i, part in enumerate(parts, 1):
                label = title if len(parts) == 1 else f"{title} (part {i})"
                topics.append(_topic(label, part, group.source, len(topics) + 1))
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
                kind=group.kind,
            )
        )
    notes = []
    if merged:
        notes.append(
            f"The material has {chapters} chapters but a course holds at most {max_weeks} weeks "
            f"(setting TUTOR_MAX_WEEKS), so {len(merged)} pair(s) of the shortest neighbouring chapters share a "
            f"week: {', '.join(merged[:10])}{' …' if len(merged) > 10 else ''}"
        )
    if left_out:
        notes.append(f"Not made into weeks (index, bibliography, contents): {', '.join(left_out[:10])}")
    return CourseStructure(modules, notes, left_out, merged)
