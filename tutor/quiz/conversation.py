"""A quiz inside the chat: start on request, read each reply, grade, move on, and sum up at the end.

The chat engine calls `quiz_turn` first; it returns None when the message is not part of a quiz, so the
turn is an ordinary answer. All state is in quiz_attempts, so a quiz continues in any later stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, Quiz, QuizAttempt, QuizQuestion, Topic
from tutor.errors import TutorError
from tutor.identity import utcnow
from tutor.quiz.answers import Reading, read_reply
from tutor.quiz.attempts import (
    AskedQuestion,
    asked,
    attempt_questions,
    finish,
    open_attempt,
    record_answer,
    set_status,
    start_attempt,
)
from tutor.quiz.attempts import timed_out as attempt_timed_out
from tutor.quiz.grading import Grade
from tutor.quiz.selection import QuizChoice, choose_quiz, is_quiz_request
from tutor.quiz.snapshot import AttemptQuestion
from tutor.review.due import review_quiz
from tutor.review.intent import is_review_request
from tutor.review.record import GradedAnswer, record_graded
from tutor.textutil import letter_words


@dataclass(frozen=True)
class Feedback:
    quiz_id: str
    number: int
    question_number: int
    given: str | None
    correct: bool
    correct_answer: str
    correct_text: str
    explanation: str | None


@dataclass(frozen=True)
class ReviewTopic:
    question_number: int
    topic_id: int | None
    topic_title: str | None
    link: str | None


@dataclass(frozen=True)
class QuizResult:
    quiz_id: str
    title: str
    score: int
    correct_answers: int
    total_questions: int
    passed: bool
    passing_score: int
    time_taken: int
    timed_out: bool
    review: list[ReviewTopic]


@dataclass(frozen=True)
class QuizStep:
    kind: Literal["say", "question", "feedback", "result"]
    text: str
    question: AskedQuestion | None = None
    feedback: Feedback | None = None
    result: QuizResult | None = None


@dataclass
class QuizTurn:
    steps: list[QuizStep] = field(default_factory=list)
    # A question asked during a quiz: answer it normally, without giving the open question's answer away.
    side_question_for: AskedQuestion | None = None
    quiz_id: str | None = None

    def say(self, text: str) -> None:
        self.steps.append(QuizStep("say", text))


def render_question(q: AskedQuestion) -> str:
    options = "\n".join(f"{letter}) {text}" for letter, text in sorted(q.options.items()))
    return f"Question {q.number} of {q.total}: {q.text}\n{options}"


async def _quiz(session: AsyncSession, quiz_id: str) -> Quiz:
    return (await session.execute(select(Quiz).where(Quiz.quiz_id == quiz_id))).scalar_one()


async def _ask(session: AsyncSession, turn: QuizTurn, attempt: QuizAttempt) -> None:
    question = await asked(session, attempt)
    if question is not None:
        turn.steps.append(QuizStep("question", render_question(question), question=question))


async def _review(session: AsyncSession, attempt: QuizAttempt, missed: list[int]) -> list[ReviewTopic]:
    """Each missed question points to the topic its explanation quotes (best word overlap in the course)."""
    if not missed:
        return []
    questions = [q for q in await attempt_questions(session, attempt) if q is not None and q.question_number in missed]
    course_id = attempt.course_id
    topics = (
        (
            await session.execute(
                select(Topic).join(Module, Topic.module_id == Module.id).where(Module.course_id == course_id)
            )
        )
        .scalars()
        .all()
    )
    words = {t.id: letter_words(t.content) for t in topics}
    review = []
    for q in sorted(questions, key=lambda q: q.question_number):
        wanted = letter_words(f"{q.question_text} {q.explanation or ''}")
        best = max(topics, key=lambda t: len(wanted & words[t.id]), default=None)
        if best is None or not wanted & words[best.id]:
            review.append(ReviewTopic(q.question_number, None, None, None))
        else:
            review.append(ReviewTopic(q.question_number, best.id, best.title, f"/api/topics/{best.id}"))
    return review


async def _finish(session: AsyncSession, turn: QuizTurn, attempt: QuizAttempt, *, timed_out: bool) -> None:
    quiz = await _quiz(session, attempt.quiz_id)
    result: Grade | None = await finish(session, attempt, quiz)
    if result is None:
        turn.say("This quiz was already finished in another window.")
        return
    missed = [g.question_number for g in result.questions if not g.is_correct]
    review = await _review(session, attempt, missed)
    summary = QuizResult(
        quiz.quiz_id,
        quiz.title,
        result.score,
        result.correct_answers,
        result.total_questions,
        result.passed,
        quiz.passing_score if quiz.passing_score is not None else 70,
        int((attempt.updated_at - attempt.started_at).total_seconds()),
        timed_out,
        review,
    )
    lead = "Time is up! " if timed_out else ""
    verdict = (
        "You passed — well done!"
        if result.passed
        else f"The pass mark is {summary.passing_score}%; let's review and try again."
    )
    lines = [f"{lead}You scored {result.score}% ({result.correct_answers}/{result.total_questions}). {verdict}"]
    named = [r for r in review if r.topic_title]
    if named:
        lines.append("To review: " + "; ".join(f"{r.topic_title} (question {r.question_number})" for r in named))
    turn.steps.append(QuizStep("result", "\n".join(lines), result=summary))


def _feedback(quiz_id: str, question: AskedQuestion, letter: str | None, row: AttemptQuestion) -> QuizStep:
    key, key_text = row.correct_answer, row.options[row.correct_answer]
    if letter is None:
        text = f"Skipped. The answer was {key}) {key_text}."
    elif letter == key:
        text = f"Correct — {letter}) {row.options[letter]}."
    else:
        text = f"Not quite: you chose {letter}, the answer is {key}) {key_text}."
    if row.explanation:
        text += f" {row.explanation}"
    feedback = Feedback(
        quiz_id, question.number, question.question_number, letter, letter == key, key, key_text, row.explanation
    )
    return QuizStep("feedback", text, feedback=feedback)


async def _count_for_review(
    session: AsyncSession, attempt: QuizAttempt, asked_as: AttemptQuestion, letter: str | None, now: datetime
) -> None:
    """Each answer counts for review and mastery as it is given (a skip as a miss), also if the quiz stops here;
    graded as asked, scheduled on the question as it is now (one a teacher deleted since has nothing to schedule)."""
    live = (
        await session.execute(
            select(QuizQuestion).where(
                QuizQuestion.quiz_id == attempt.quiz_id, QuizQuestion.question_number == asked_as.question_number
            )
        )
    ).scalar_one_or_none()
    if live is not None:
        graded = [GradedAnswer(live, letter == asked_as.correct_answer)]
        await record_graded(
            session, user_id=attempt.user_id, quiz=await _quiz(session, attempt.quiz_id), graded=graded, now=now
        )


async def _answer(
    session: AsyncSession,
    turn: QuizTurn,
    attempt: QuizAttempt,
    question: AskedQuestion,
    reading: Reading,
    now: datetime,
) -> None:
    letter = reading.letter if reading.intent == "answer" else None
    if not await record_answer(session, attempt, question.number, letter):
        turn.say("That question was already answered in another window; here is where the quiz is now.")
        await session.refresh(attempt)
        await _ask(session, turn, attempt)
        return
    row = (await attempt_questions(session, attempt))[question.number - 1]
    if row is None:  # deleted since it was asked, in an attempt without a snapshot: it is not graded
        turn.say("That question has been removed from the quiz by your teacher, so it does not count.")
    else:
        turn.steps.append(_feedback(attempt.quiz_id, question, letter, row))
        await _count_for_review(session, attempt, row, letter, now)
    if attempt.position > len(attempt.question_numbers):
        await _finish(session, turn, attempt, timed_out=False)
    else:
        await _ask(session, turn, attempt)


async def quiz_turn(
    session: AsyncSession,
    *,
    user_id: str,
    course_id: int,
    session_id: str,
    message: str,
    quiz_id: str | None = None,
    question_number: int | None = None,
    now: datetime | None = None,
) -> QuizTurn | None:
    """Handle the message if it belongs to a quiz; `question_number` (from a tapped option) guards double answers.

    `now`: the review schedule's time (a test's clock); the system's when absent.
    """
    now = now or utcnow()
    attempt = await open_attempt(session, session_id, for_update=True)
    turn = QuizTurn()
    if attempt is None:
        if not (quiz_id or is_quiz_request(message)):
            return None
        if not quiz_id and is_review_request(message):
            review = await review_quiz(session, user_id=user_id, course_id=course_id, now=now)
            choice = QuizChoice(review, True)
        else:
            choice = await choose_quiz(session, course_id, message, quiz_id)
            if choice.created_practice:
                choice.quiz.made_for = user_id  # a practice quiz made for this student: not one of the course's
        attempt = await start_attempt(
            session, user_id=user_id, course_id=course_id, session_id=session_id, quiz=choice.quiz
        )
        quiz = choice.quiz
        limit = f"a {quiz.time_limit}-minute time limit" if quiz.time_limit else "no time limit"
        turn.quiz_id = quiz.quiz_id
        turn.say(
            f"Let's do “{quiz.title}”: {len(attempt.question_numbers)} questions, {limit}. "
            "Answer with a letter or the option's words; say skip, stop or resume any time."
        )
        await _ask(session, turn, attempt)
        return turn

    turn.quiz_id = attempt.quiz_id
    if attempt_timed_out(attempt):
        await _finish(session, turn, attempt, timed_out=True)
        return turn
    question = await asked(session, attempt)
    if question is None:  # every question answered but not yet graded (an interrupted turn)
        await _finish(session, turn, attempt, timed_out=False)
        return turn
    reading = read_reply(message, question.options)
    if attempt.status == "paused":
        if reading.intent == "resume" or quiz_id == attempt.quiz_id:
            await set_status(session, attempt, "running")
            turn.say("Welcome back — let's continue.")
            await _ask(session, turn, attempt)
            return turn
        if quiz_id or is_quiz_request(message):
            turn.say("You have a paused quiz in this chat; say “resume” to continue it, or “end quiz” to finish it.")
            return turn
        if reading.intent == "stop":
            await _finish(session, turn, attempt, timed_out=False)
            return turn
        return None  # an ordinary question while the quiz rests
    if question_number is not None and question_number != question.number:
        turn.say(f"Question {question_number} was already answered; we are on question {question.number}.")
        await _ask(session, turn, attempt)
        return turn
    if reading.intent in ("answer", "skip"):
        await _answer(session, turn, attempt, question, reading, now)
    elif reading.intent == "stop":
        await set_status(session, attempt, "paused")
        turn.say(
            f"Quiz paused at question {question.number} of {question.total}. Say “resume” to continue, "
            "or “end quiz” to finish and see your score."
        )
    elif reading.intent == "resume":
        await _ask(session, turn, attempt)
    elif reading.intent == "question":
        turn.side_question_for = question
    elif quiz_id or is_quiz_request(message):
        raise TutorError(
            "quiz_already_running", "a quiz is already running in this chat; finish or stop it first", status=409
        )
    else:
        turn.say("I didn't catch which option you mean — reply with A, B, C or D, or say skip or stop.")
        await _ask(session, turn, attempt)
    return turn
