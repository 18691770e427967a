"""Week titles, summaries and learning objectives written by the configured LLM: JSON asked for, validated
against the week's own text, retried with the problems named. Without a usable reply the week keeps what the
offline structure gave it (its heading, its opening sentences, objectives from its key terms).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ingestion.quizgen_llm import json_object, module_context
from ingestion.structure import ModuleDraft
from tutor.llm.base import LLM, GenerationRequest, Message
from tutor.textutil import terms

SYSTEM = "You name and summarise one week of a course, using only the course text you are given. Reply with JSON only."
INSTRUCTIONS = """Reply with exactly this JSON shape:
{"title": "a short title for this week", "summary": "two sentences on what the week covers",
"learning_objectives": ["what a student can do after this week", "..."]}
Rules: the title has at most 10 words; 2 to 5 learning objectives, each a single sentence; use the text's own terms."""


@dataclass(frozen=True)
class WeekWriting:
    title: str
    description: str
    learning_objectives: list[str]


def _grounded(text: str, known: set[str], share: float) -> bool:
    wanted = terms(text)
    return bool(wanted) and len(wanted & known) >= share * len(wanted)


def parse_week(reply: str, context: str) -> tuple[WeekWriting | None, list[str]]:
    """The week's writing if the reply is valid and drawn from the text; otherwise the problems, to retry."""
    data = json_object(reply)
    if isinstance(data, str):
        return None, [data]
    known = terms(context)
    problems: list[str] = []
    title = " ".join(str(data.get("title", "")).split())
    if not 3 <= len(title) <= 100 or len(title.split()) > 12:
        problems.append("the title must be 1 to 10 words")
    elif not _grounded(title, known, 0.5):
        problems.append("the title must use the text's own terms")
    summary = " ".join(str(data.get("summary", "")).split())
    if not 30 <= len(summary) <= 600:
        problems.append("the summary must be one or two sentences")
    elif not _grounded(summary, known, 0.5):
        problems.append("the summary must say what the text says")
    raw = data.get("learning_objectives")
    objectives = [
        " ".join(str(o).split()) for o in (raw if isinstance(raw, list) else []) if 10 <= len(str(o).strip()) <= 200
    ]
    objectives = [o for o in dict.fromkeys(objectives) if _grounded(o, known, 0.3)][:5]
    if len(objectives) < 2:
        problems.append("give 2 to 5 learning objectives about the text")
    if problems:
        return None, problems
    return WeekWriting(title, summary, objectives), []


async def write_week(llm: LLM, module: ModuleDraft, *, attempts: int = 2) -> ModuleDraft | None:
    """The module with the model's title, summary and objectives, or None when it gave nothing usable."""
    context, _ = module_context(module)
    if not context:
        return None
    messages = [Message("system", SYSTEM), Message("user", f"Course text:\n\n{context}\n\n{INSTRUCTIONS}")]
    for _ in range(attempts):
        request = GenerationRequest(messages, question="", max_tokens=400, temperature=0.2)
        reply = "".join([delta async for delta in llm.stream(request)])
        writing, problems = parse_week(reply, context)
        if writing is not None:
            return replace(
                module,
                title=writing.title,
                description=writing.description,
                learning_objectives=writing.learning_objectives,
            )
        messages = [
            *messages,
            Message("assistant", reply[:2000]),
            Message("user", "That reply was not usable: " + "; ".join(problems) + ". Reply again with JSON only."),
        ]
    return None
