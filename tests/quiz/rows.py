"""Course rows for quiz and progress tests: a teacher's course with weekly modules, each with a quiz."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Course, Module, Quiz, QuizQuestion, Topic
from tutor.identity import Principal, sign_in

FACTS = [
    ("Osmosis moves water across a membrane.", "osmosis", ["diffusion", "mitosis", "photosynthesis"]),
    ("The nucleus holds the cell's DNA.", "nucleus", ["ribosome", "vacuole", "membrane"]),
    ("Mitochondria release energy from food.", "mitochondria", ["chloroplasts", "lysosomes", "vesicles"]),
    ("Chlorophyll absorbs light for photosynthesis.", "chlorophyll", ["hemoglobin", "keratin", "insulin"]),
]


@dataclass(frozen=True)
class CourseRows:
    course_id: int
    module_ids: list[int]
    quiz_ids: list[str]
    answers: list[dict[str, str]]  # per quiz: question number -> correct letter


async def make_course(
    sessions: async_sessionmaker[AsyncSession], teacher: str = "teacher-q", weeks: int = 2, status: str = "active"
) -> CourseRows:
    async with sessions() as session, session.begin():
        await sign_in(session, Principal(teacher, "teacher"))
        course = Course(title="Cells", created_by=teacher, status=status)
        session.add(course)
        await session.flush()
        module_ids, quiz_ids, answers = [], [], []
        for week in range(1, weeks + 1):
            module = Module(course_id=course.course_id, week=week, title=f"Week {week}: cells", order_index=week)
            session.add(module)
            await session.flush()
            session.add(
                Topic(module_id=module.id, title=f"Cell parts {week}", content="Cells have parts.", order_index=1)
            )
            quiz = Quiz(
                quiz_id=f"quiz-{course.course_id}-{week}",
                course_id=course.course_id,
                module_id=module.id,
                title=f"Week {week} quiz",
                quiz_type="module",
                passing_score=70,
            )
            session.add(quiz)
            await session.flush()
            key = {}
            for n, (sentence, term, distractors) in enumerate(FACTS, 1):
                letters = ["A", "B", "C", "D"]
                correct = letters[(n + week) % 4]
                others = iter(distractors)
                options = {letter: term if letter == correct else next(others) for letter in letters}
                session.add(
                    QuizQuestion(
                        quiz_id=quiz.quiz_id,
                        question_number=n,
                        question_text=sentence.replace(term, "_____", 1).replace(term.capitalize(), "_____"),
                        options=options,
                        correct_answer=correct,
                        explanation=f"{sentence} (cells.pdf, p. {n})",
                        difficulty="easy",
                    )
                )
                key[str(n)] = correct
            module_ids.append(module.id)
            quiz_ids.append(quiz.quiz_id)
            answers.append(key)
        return CourseRows(course.course_id, module_ids, quiz_ids, answers)
