"""Offline quiz quality on real text; prints JSON.

    python benchmarks/quizzes.py

Courses: SciQ's support paragraphs (rendered into a PDF, 3 per section, 4 sections per chapter) and the Erickson
chapter PDFs. For the generated questions: the share whose key is in the sentence they quote (target 1.0),
distractors that are stopwords or generic words (target 0), questions with duplicate options or an option inside
another (target 0), the share marked for review. Against SciQ's human questions on the same paragraphs: how
often a distractor has the key's form (same number of words), ours and theirs, and how often their distractors
are terms of the course text at all.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from statistics import mean

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingestion.keyterms import STOPWORDS  # noqa: E402
from ingestion.pdf import parse_pdf  # noqa: E402
from ingestion.quizgen import GENERIC, QuestionDraft, course_quizzes  # noqa: E402
from ingestion.structure import ModuleDraft, build_structure  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def questions_for(modules: list[ModuleDraft]) -> list[QuestionDraft]:
    return [q for quiz in course_quizzes(modules) for q in quiz]


def quality(questions: list[QuestionDraft]) -> dict[str, object]:
    key_in_source = generic = duplicates = same_form = distractor_count = blanks = 0
    for q in questions:
        blanks += q.question_text.count("_____") > 1
        source = re.sub(r"^“|” \(.*\)$", "", q.explanation).lower()
        key = q.options[q.correct_answer]
        if q.question_text.startswith("What is meant by "):
            term = q.question_text.removeprefix("What is meant by ").removesuffix("?")
            key_in_source += term.lower() in source
        else:
            key_in_source += key.lower() in source
            wrong = [o for letter, o in q.options.items() if letter != q.correct_answer]
            generic += sum(1 for o in wrong if o.lower() in STOPWORDS or o.lower() in GENERIC)
            same_form += sum(1 for o in wrong if len(o.split()) == len(key.split()))
            distractor_count += len(wrong)
        options = [o.lower() for o in q.options.values()]
        duplicates += len(set(options)) < 4 or any(a != b and a in b for a in options for b in options)
    n = max(len(questions), 1)
    return {
        "questions": len(questions),
        "definition_questions": sum(1 for q in questions if q.question_text.startswith("What is meant")),
        "key_in_source_sentence": round(key_in_source / n, 3),
        "generic_or_stopword_distractors": generic,
        "questions_with_duplicate_options": duplicates,
        "questions_with_more_than_one_blank": blanks,
        "marked_for_review": round(sum(q.needs_review for q in questions) / n, 3),
        "cloze_distractors_same_form_as_key": round(same_form / max(distractor_count, 1), 3),
    }


def sciq() -> dict[str, object]:
    from tests.factories import course_pdf, sciq_chapters, sciq_items

    chapters = sciq_chapters(12, 4, 3)
    started = time.perf_counter()
    modules = build_structure([parse_pdf(course_pdf(chapters), "sciq.pdf")]).modules
    questions = questions_for(modules)
    seconds = time.perf_counter() - started
    used = {p for c in chapters for s in c.sections for p in s.paragraphs}
    human = [i for i in sciq_items() if i["support"] in used]
    text = " ".join(t.content.lower() for m in modules for t in m.topics)
    theirs = [(i["correct_answer"], i[f"distractor{k}"]) for i in human for k in (1, 2, 3)]
    return {
        **quality(questions),
        "seconds": round(seconds, 2),
        "sciq_human": {
            "questions": len(human),
            "distractors_same_form_as_key": round(mean(len(d.split()) == len(a.split()) for a, d in theirs), 3),
            "distractors_found_in_course_text": round(mean(d.lower() in text for _, d in theirs), 3),
        },
    }


def erickson() -> dict[str, object]:
    files = sorted((DATA / "erickson_algorithms").glob("0[0-6]-*.pdf"))
    modules = build_structure([parse_pdf(f.read_bytes(), f.name) for f in files]).modules
    return quality(questions_for(modules))


if __name__ == "__main__":
    print(json.dumps({"sciq": sciq(), "erickson": erickson()}, indent=2))
