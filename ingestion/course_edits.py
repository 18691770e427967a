"""A built course's week quiz written again from its topics (the offline generator), for the console."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, Quiz, QuizQuestion, Topic
from ingestion.pdf import Paragraph
from ingestion.quizgen import generate_module_quiz, glossary, quiz_size
from ingestion.structure import ModuleDraft, TopicDraft
from tutor.course_review import TopicSource
from tutor.errors import TutorError


def _draft(module: Module, topics: list[Topic], sources: dict[int, TopicSource]) -> ModuleDraft:
    drafts = []
    for index, t in enumerate(topics, 1):
        source = sources.get(t.id)
        page = source.page_start if source else 1
        paragraphs = [Paragraph(p.strip(), page) for p in t.content.split("\n\n") if p.strip()]
        drafts.append(
            TopicDraft(
                title=t.title,
                content=t.content,
                order_index=t.order_index or index,
                estimated_time=t.estimated_time or 1,
                source_file=source.filename if source else "the course",
                page_start=page,
                page_end=source.page_end if source else page,
                paragraphs=paragraphs,
            )
        )
    return ModuleDraft(
        module.week, module.title, module.description or "", list(module.learning_objectives or []), drafts
    )


async def regenerate_week_quiz(
    session: AsyncSession, module: Module, sources: dict[int, TopicSource], *, seed: int | None = None
) -> Quiz:
    """The week's quiz with fresh questions from its topics (the offline generator: answerable from the course, its
    key right by construction). The quiz keeps its id, so links and past results stay; its questions are new and
    not yet reviewed. A week without a quiz gets one."""
    # Every week's text: distractors are other key terms of the course, as at ingestion.
    modules = list(
        (
            await session.execute(select(Module).where(Module.course_id == module.course_id).order_by(Module.week))
        ).scalars()
    )
    topics = list(
        (
            await session.execute(
                select(Topic)
                .join(Module, Module.id == Topic.module_id)
                .where(Module.course_id == module.course_id)
                .order_by(Topic.module_id, Topic.order_index, Topic.id)
            )
        ).scalars()
    )
    drafts = {m.id: _draft(m, [t for t in topics if t.module_id == m.id], sources) for m in modules}
    terms, aliases = glossary(list(drafts.values()))
    questions = generate_module_quiz(
        drafts[module.id],
        terms,
        aliases,
        num_questions=quiz_size(drafts[module.id]),
        seed=secrets.randbelow(2**31) if seed is None else seed,
    )
    if not questions:
        raise TutorError("no_questions", f"week {module.week} has too little text to write questions from", status=422)
    quiz = (
        await session.execute(select(Quiz).where(Quiz.module_id == module.id).order_by(Quiz.id).limit(1))
    ).scalar_one_or_none()
    if quiz is None:
        quiz = Quiz(
            quiz_id=f"quiz_{module.course_id}_w{module.week}_{uuid.uuid4().hex[:8]}",
            course_id=module.course_id,
            module_id=module.id,
            title=f"Week {module.week} quiz: {module.title}"[:500],
            quiz_type="module",
            passing_score=70,
        )
        session.add(quiz)
    quiz.description = f"{len(questions)} questions on {module.title}"
    await session.flush()
    await session.execute(delete(QuizQuestion).where(QuizQuestion.quiz_id == quiz.quiz_id))
    session.add_all(
        QuizQuestion(
            quiz_id=quiz.quiz_id,
            question_number=q.question_number,
            question_text=q.question_text,
            options=q.options,
            correct_answer=q.correct_answer,
            explanation=q.explanation,
            difficulty=q.difficulty,
            needs_review=q.needs_review,
        )
        for q in questions
    )
    await session.flush()
    return quiz
