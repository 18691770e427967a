"""One chat turn: validate, record the question, decide the mode, answer (grounded, cited) or run the quiz.

The student's message and a placeholder for the reply are committed before anything streams; the reply is
completed when the stream ends, however it ends (done, error, or the client going away), so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import transaction
from db.models import ChatMessage
from tutor.answers.quoting import WITHHELD, QuotedAnswer, blank_out
from tutor.answers.sentence_store import SentenceCache, SharedQueries
from tutor.answers.verify import SupportChecker, Verification, already_says, verified
from tutor.chat import events as ev
from tutor.chat import history, recording
from tutor.chat.autosave import ReplyAutosave
from tutor.chat.prompts import about_open_question, build_messages, resolve_follow_up
from tutor.courses import visible_course
from tutor.embeddings import Embedder
from tutor.errors import TutorError
from tutor.identity import Principal
from tutor.llm.base import LLM, GenerationRequest, LLMError
from tutor.llm.extractive import NOT_FOUND, ExtractiveLLM
from tutor.quiz.attempts import AskedQuestion, open_attempt
from tutor.quiz.conversation import QuizTurn, quiz_turn, render_question
from tutor.quiz.selection import is_quiz_request
from tutor.retrieval import Retriever, covers, passages_of
from tutor.review.clock import Clock, SystemClock
from tutor.review.due import DueSummary, announcement, due_summary
from tutor.settings import Settings, local_jwt_secret
from tutor.sourcelinks import SourceLinks
from tutor.unavailable import as_unavailable
from tutor.vectorstore import Hit, VectorStore
from tutor.xapi import record as xapi

CITED = re.compile(r"\[(\d{1,2})\]")
log = logging.getLogger(__name__)
PART = re.compile(r"\s*\(part \d+\)$")
DANGLING = re.compile(r"(?:\b(?:and|or|of|the|a|an|with|to|for|in|on|by|from|at)|[-\u2013,:;(/])$", re.I)


def check_title(topic_title: str) -> str | None:
    """The topic's title fit to name it in a question, or None when the course did not give it a whole one.

    Titles come from PDF headings: one that ends on "and" or a hyphen was cut where the heading wrapped.
    """
    title = PART.sub("", " ".join(topic_title.split()))
    if not title or len(title) > 90 or DANGLING.search(title):
        return None
    return title


@dataclass(frozen=True)
class ChatRequest:
    course_id: int
    message: str
    session_id: str | None = None
    quiz_id: str | None = None  # a quiz the student tapped
    question_number: int | None = None  # the quiz question a tapped option answers


@dataclass
class Turn:
    user: Principal
    request: ChatRequest
    course_title: str
    session_id: str
    user_message_id: int
    message_id: int  # the assistant's reply, completed when the stream ends
    earlier: list[ChatMessage]
    quiz_possible: bool  # an open attempt, a quiz request or a tapped quiz; otherwise the quiz step is skipped
    # Filled while streaming, written when the stream ends.
    text: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    finished: bool = False
    topics: set[tuple[int, int]] = field(default_factory=set)  # (module, topic) answered from
    retrieved: Retrieved | None = None  # done while preparing, unless the turn may be a quiz step
    due: DueSummary | None = None  # a new session's reviews due, said before the answer


@dataclass(frozen=True)
class Retrieved:
    query: str  # the message, or the follow-up resolved against the session's earlier questions
    hits: list[Hit]
    ms: float


class ChatEngine:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        store: VectorStore,
        embedder: Embedder,
        llm: LLM,
        autosave: ReplyAutosave | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings, self.sessions, self.store, self.embedder, self.llm = settings, sessions, store, embedder, llm
        self.autosave = autosave  # saves the text of open streams every second or so; None: only at the end
        self.clock: Clock = clock or SystemClock()
        self.links = SourceLinks(local_jwt_secret(settings))
        # Generated answers are checked against the passages, and quoted from them when nothing holds up.
        self.quoter = llm if isinstance(llm, ExtractiveLLM) and llm.tutor.vectors else ExtractiveLLM(embedder)
        vectors = self.quoter.tutor.vectors
        assert vectors is not None  # the quoter is built with the embedder
        self.checker = SupportChecker(embedder, vectors)
        self.sentences = SentenceCache(sessions, vectors, embedder.name)
        # The question's vector is the quoter's too: a turn embeds its question once.
        self.retriever = Retriever(store, SharedQueries(embedder, vectors), sessions, self.sentences)

    async def prepare(self, user: Principal, request: ChatRequest, session: AsyncSession | None = None) -> Turn:
        """Every check that can refuse the turn runs here, before anything is recorded or streamed.

        `session`: the request's own, so that a turn checks out one connection, not two.
        """
        message = request.message.strip()
        if not message:
            raise TutorError("empty_message", "the message is empty", status=422)
        if len(message) > self.settings.max_message_chars:
            raise TutorError(
                "message_too_long", f"messages are limited to {self.settings.max_message_chars} characters", status=413
            )
        async with (
            self._search_early(request, message) as early,
            nullcontext(session) if session is not None else self.sessions() as session,
        ):
            # The request's session may be in its sign-in's read transaction already: the reads go on in it.
            async with transaction(session):
                course = await visible_course(session, user, request.course_id)
                session_id = request.session_id
                if session_id:
                    await history.own_session(session, session_id, user.user_id, request.course_id)
                    attempt = await open_attempt(session, session_id)
                else:
                    session_id, attempt = history.new_session_id(), None
                quiz_mode = bool(
                    request.quiz_id or is_quiz_request(message) or (attempt and attempt.status == "running")
                )
                # A new session has no history to read.
                earlier = (
                    await history.recent(session, session_id, 2 * self.settings.chat_history_turns)
                    if request.session_id
                    else []
                )
                due = (
                    None
                    if request.session_id or quiz_mode
                    else await due_summary(
                        session, user_id=user.user_id, course_id=request.course_id, now=self.clock.now()
                    )
                )
            # Retrieval before recording (a missing index, or one built with another model, refuses the turn),
            # with no database connection held meanwhile.
            retrieved = None if quiz_mode else await (early or self._retrieve(request.course_id, message, earlier))
            asked_id, reply_id = await recording.add_turn(
                session, user_id=user.user_id, course_id=request.course_id, session_id=session_id, message=message
            )
        return Turn(
            user,
            ChatRequest(**{**request.__dict__, "message": message}),
            course.title,
            session_id,
            asked_id,
            reply_id,
            earlier,
            quiz_possible=bool(request.quiz_id or attempt is not None or is_quiz_request(message)),
            retrieved=retrieved,
            due=due if due and due.questions else None,
        )

    @asynccontextmanager
    async def _search_early(
        self, request: ChatRequest, message: str
    ) -> AsyncIterator[asyncio.Future[Retrieved] | None]:
        """A new session's question needs nothing the turn's reads return to be searched: the search (the question's
        embedding, above all) runs while they do. When they refuse the turn, it is dropped unreported. Only for a
        course this process has searched before, so no one can make it keep search state for made-up course ids.
        """
        early = None
        known = self.retriever.lexical.current(request.course_id) is not None
        if known and not request.session_id and not (request.quiz_id or is_quiz_request(message)):
            early = asyncio.ensure_future(self._retrieve(request.course_id, message, []))
        try:
            yield early
        finally:
            if early is not None:
                early.cancel()
                await asyncio.gather(early, return_exceptions=True)

    async def _retrieve(self, course_id: int, message: str, earlier: list[ChatMessage]) -> Retrieved:
        # Follow-ups ("and what does it produce?") are searched with what they refer to.
        query = resolve_follow_up(message, [m.message for m in earlier if m.message_type == "user"])
        started = time.perf_counter()
        try:
            hits = await self.retriever.retrieve(course_id, query, k=self.settings.retrieval_k)
            if not hits:  # nothing at all: an empty index is a missing one
                await asyncio.to_thread(self.store.check, course_id, self.embedder.name)
        except TutorError:
            raise
        except Exception as exc:
            down = as_unavailable(exc)
            if down is None:
                raise
            raise down from exc
        return Retrieved(query, hits, round(1000 * (time.perf_counter() - started), 1))

    async def run(self, turn: Turn) -> AsyncIterator[ev.Event]:
        # The reply's text is saved as it grows while it is tracked; closing the inner stream here (aclosing)
        # keeps its clean-up (the reply closed as interrupted) in this task when the client goes away.
        if self.autosave is not None:
            self.autosave.track(turn.message_id, turn.text)
        try:
            async with aclosing(self._run(turn)) as events:
                async for event in events:
                    yield event
        finally:
            if self.autosave is not None:
                self.autosave.forget(turn.message_id)

    async def _run(self, turn: Turn) -> AsyncGenerator[ev.Event, None]:
        started = time.perf_counter()
        timing: dict[str, float] = {}
        quiz: QuizTurn | None = None
        failed: Exception | None = None
        try:
            if turn.quiz_possible:
                async with self.sessions() as session, session.begin():
                    quiz = await quiz_turn(
                        session,
                        user_id=turn.user.user_id,
                        course_id=turn.request.course_id,
                        session_id=turn.session_id,
                        message=turn.request.message,
                        quiz_id=turn.request.quiz_id,
                        question_number=turn.request.question_number,
                        now=self.clock.now(),
                    )
                    await xapi.chat_quiz(
                        session, self.settings, user_id=turn.user.user_id, session_id=turn.session_id, turn=quiz
                    )
        except TutorError as exc:  # e.g. no quiz on that topic: the tutor says so, in the conversation
            quiz = QuizTurn()
            quiz.say(f"{exc.message}.")
        except Exception as exc:
            failed = exc  # the database went away since the turn was prepared: reported in the stream below
        mode = "quiz" if quiz and (quiz.steps or quiz.side_question_for) else "answer"
        turn.meta["mode"] = mode
        yield ev.Meta(turn.session_id, turn.message_id, mode)
        try:
            if failed is not None:
                raise failed
            if turn.due:
                notice = announcement(turn.due) + "\n\n"
                turn.meta["review_due"] = turn.due.questions
                yield ev.ReviewDue(turn.due.questions, [vars(t) for t in turn.due.topics])
                turn.text.append(notice)
                yield ev.Token(notice)
            if quiz and quiz.steps:
                async for event in self._quiz_events(turn, quiz):
                    yield event
            else:
                guard = quiz.side_question_for if quiz else None
                async for event in self._answer(turn, timing, guard=guard):
                    yield event
                if guard:
                    turn.text.append("\n\nBack to the quiz — " + render_question(guard))
                    yield ev.Token("\n\nBack to the quiz — " + render_question(guard))
                    yield ev.QuizQuestion(
                        guard.quiz_id, guard.number, guard.total, guard.question_number, guard.text, guard.options
                    )
            timing["total_ms"] = round(1000 * (time.perf_counter() - started), 1)
            turn.meta.update(incomplete=False, status="complete", timing_ms=timing)
            await self._finish(turn)
            yield ev.Done(
                turn.message_id,
                self.llm.name if mode == "answer" else "quiz",
                self.llm.model if mode == "answer" else "quiz",
                turn.meta.get("usage", {}),
                timing,
            )
        except LLMError as exc:
            turn.meta.update(incomplete=True, status="error", error=exc.message)
            await self._finish(turn)
            yield ev.Error(exc.code, exc.message)
        except TutorError as exc:
            turn.meta.update(incomplete=True, status="error", error=exc.message)
            await self._finish(turn)
            yield ev.Error(exc.code, exc.message)
        except Exception as exc:  # a stream never just drops: the client gets an error event naming what failed
            down = as_unavailable(exc)
            if down is None:
                log.exception("chat turn %s failed", turn.message_id)
            code, message = (down.code, down.message) if down else ("internal_error", "the tutor failed on this turn")
            turn.meta.update(incomplete=True, status="error", error=message)
            await self._finish(turn)
            yield ev.Error(code, message)
        finally:
            if not turn.finished:  # the client went away (or we crashed) mid-stream: keep what was said
                turn.meta.update(incomplete=True, status="interrupted")
                await asyncio.shield(self._finish(turn))

    async def _quiz_events(self, turn: Turn, quiz: QuizTurn) -> AsyncIterator[ev.Event]:
        turn.meta["quiz_id"] = quiz.quiz_id
        for i, step in enumerate(quiz.steps):
            text = ("\n\n" if i else "") + step.text
            if step.question:
                q = step.question
                yield ev.QuizQuestion(q.quiz_id, q.number, q.total, q.question_number, q.text, q.options)
            elif step.feedback:
                f = step.feedback
                yield ev.QuizFeedback(
                    f.quiz_id,
                    f.number,
                    f.question_number,
                    f.given,
                    f.correct,
                    f.correct_answer,
                    f.correct_text,
                    f.explanation,
                )
            elif step.result:
                r = step.result
                turn.meta["quiz_result"] = {"score": r.score, "passed": r.passed}
                yield ev.QuizResult(
                    r.quiz_id,
                    r.title,
                    r.score,
                    r.correct_answers,
                    r.total_questions,
                    r.passed,
                    r.passing_score,
                    r.time_taken,
                    r.timed_out,
                    [vars(x) for x in r.review],
                )
            turn.text.append(text)
            yield ev.Token(text)

    async def _answer(
        self, turn: Turn, timing: dict[str, float], *, guard: AskedQuestion | None
    ) -> AsyncIterator[ev.Event]:
        """`guard`: the quiz question open while the student asks aside; the answer must not give it away."""
        t0 = time.perf_counter()
        if guard is not None:
            # "What does the course say about this?" asks about the open question's topic.
            retrieved = await self._retrieve(
                turn.request.course_id, about_open_question(turn.request.message, guard.text), []
            )
        else:
            retrieved = turn.retrieved or await self._retrieve(
                turn.request.course_id, turn.request.message, turn.earlier
            )
        hits = retrieved.hits
        timing["retrieval_ms"] = retrieved.ms
        turn.meta["query"] = retrieved.query
        if not covers(hits, self.settings.refusal_threshold):
            async for event in self._not_covered(turn, hits):
                yield event
            return
        passages = passages_of(hits)
        request = GenerationRequest(
            build_messages(
                course=turn.course_title,
                history=turn.earlier,
                question=turn.request.message,
                passages=passages,
                guard=render_question(guard) if guard else None,
                history_turns=self.settings.chat_history_turns,
            ),
            # Retrieval used the resolved query; the answer must still address what was asked now.
            question=turn.request.message,
            passages=passages,
            query=retrieved.query,
            withhold=(guard.withheld,) if guard and guard.withheld else (),
        )
        deltas = 0
        # A quote scores its passages' sentences by meaning: those this process has no vector for yet are fetched
        # from the stored ones first, and the ones it still has to embed are kept for the other processes after.
        quoting = self.llm is self.quoter
        unstored = await self.sentences.fetch(turn.request.course_id, (p.text for p in passages)) if quoting else []
        check = Verification() if self.llm.capabilities.needs_verification and self.settings.llm_verify else None
        source = self.llm.stream(request)
        if check is not None:
            source = verified(source, passages, self.checker, check)
        async for delta in source:
            if deltas == 0:
                timing["first_token_ms"] = round(1000 * (time.perf_counter() - t0), 1)
            deltas += 1
            turn.text.append(delta)
            yield ev.Token(delta)
        if check is not None:
            async for delta in self._after_verification(turn, request, check, shown=deltas):
                yield ev.Token(delta)
        if unstored:
            await self.sentences.keep(turn.request.course_id, unstored)
        answer = "".join(turn.text)
        turn.meta["usage"] = {
            "prompt_tokens": sum(len(m.content) for m in request.messages) // 4,
            "completion_tokens": deltas,
        }
        if answer.strip() == WITHHELD:  # nothing quoted, nothing to cite
            turn.meta.update(grounded=False, withheld=True)
            return
        if answer.strip() == NOT_FOUND:
            async for event in self._not_covered(turn, hits, continuing=True):
                yield event
            return
        # In the order the answer cites them: the first is the passage the answer starts from.
        cited = list(dict.fromkeys(int(n) for n in CITED.findall(answer) if 1 <= int(n) <= len(hits))) or [1]
        lead = hits[cited[0] - 1].metadata
        title = check_title(lead.topic_title)
        if self.llm.capabilities.quotes_course and not guard and title:
            offer = f"\n\nQuick check: how would you explain “{title}” in your own words?" + (
                f" Say “quiz me on week {lead.week}” when you want a short quiz." if lead.week else ""
            )
            turn.text.append(offer)
            yield ev.Token(offer)
        citations = [self._citation(n, hits[n - 1], request.withhold) for n in cited]
        for citation in citations:
            yield citation
        turn.meta.update(grounded=True, citations=[c.data() for c in citations])
        # Recorded with the reply, in one transaction, when the turn is finished.
        turn.topics = {
            (m.module_id, m.topic_id)
            for m in (hits[n - 1].metadata for n in cited)
            if m.module_id is not None and m.topic_id is not None
        }

    async def _after_verification(
        self, turn: Turn, request: GenerationRequest, check: Verification, *, shown: int
    ) -> AsyncIterator[str]:
        """Say what was left out; when nothing the model wrote held up, quote the course instead."""
        dropped = len(check.unsupported)
        if dropped and not check.verified:
            check.fallback = True
            lead = "I couldn't confirm the generated answer in the course, so here is what the course says: "
            quoted = (await self.quoter.quote(request)).deltas()
            for i, delta in enumerate([lead, *quoted] if quoted != [NOT_FOUND] else [NOT_FOUND]):
                text = ("\n\n" if shown and i == 0 else "") + delta
                turn.text.append(text)
                yield text
        else:
            # Supported is not complete: a small model often writes true sentences that miss the answer, or nothing
            # that states anything. The course sentences that answer, which the model's did not say, follow them,
            # quoted and cited.
            course = await self.quoter.quote(request)
            shown_text = "".join(turn.text)
            # A model that said the course does not cover it is not contradicted (the pointers follow instead).
            answering = course.quotes if not course.withheld and shown_text.strip() != NOT_FOUND else []
            missing = await asyncio.to_thread(
                lambda: [q for q in answering if not already_says(self.checker, shown_text, q.text)]
            )
            if missing:
                check.completed = len(missing)
                for i, delta in enumerate(QuotedAnswer(missing, course.kind).deltas()):
                    lead = ("\n\n" if shown_text.strip() else "") + "From the course: "
                    text = (lead if i == 0 else "") + delta
                    turn.text.append(text)
                    yield text
            if dropped:
                note = (
                    f"\n\n(I left out {dropped} sentence{'s' if dropped > 1 else ''} that the course passages "
                    "do not support.)"
                )
                turn.text.append(note)
                yield note
        turn.meta["verification"] = check.metadata()

    async def _not_covered(self, turn: Turn, hits: list[Hit], *, continuing: bool = False) -> AsyncIterator[ev.Event]:
        """Say plainly that the course does not cover it, and point to the closest topics instead.

        `continuing`: the model already said it could not find it; only the pointers are added.
        """
        names = list(dict.fromkeys(f"“{h.metadata.topic_title}” (week {h.metadata.week})" for h in hits[:3]))
        pointers = f" The closest topics in this course are {', '.join(names)}." if names else ""
        text = pointers if continuing else "I couldn't find this in the course material, so I won't guess." + pointers
        turn.text.append(text)
        turn.meta.update(grounded=False, content_gap=True)
        if text:
            yield ev.Token(text)

    def _citation(self, number: int, hit: Hit, withhold: Sequence[str] = ()) -> ev.Citation:
        """`withhold`: an open quiz question's answer, blanked out of the snippet as out of the answer."""
        m = hit.metadata
        text = blank_out(hit.text, withhold)
        snippet = text[:240].rsplit(" ", 1)[0] + ("…" if len(text) > 240 else "")
        return ev.Citation(
            number,
            hit.chunk_id,
            m.filename,
            m.file_id,
            m.page_start,
            m.page_end,
            m.module_id,
            m.topic_id,
            m.topic_title,
            m.week,
            snippet,
            self.links.link(m.course_id, m.file_id, m.page_start, self.clock.now()).url if m.file_id else None,
        )

    async def _finish(self, turn: Turn) -> None:
        if turn.finished:
            return
        turn.finished = True
        turn.meta.setdefault("provider", self.llm.name)
        turn.meta.setdefault("model", self.llm.model)
        try:
            await recording.finish_turn(
                self.sessions,
                reply_id=turn.message_id,
                text="".join(turn.text),
                metadata=turn.meta,
                user_id=turn.user.user_id,
                course_id=turn.request.course_id,
                topics=turn.topics,
                also=None
                if "quiz_id" in turn.meta  # a quiz step, not a question to the tutor
                else xapi.asked(
                    self.settings,
                    user_id=turn.user.user_id,
                    course_id=turn.request.course_id,
                    course_title=turn.course_title,
                    session_id=turn.session_id,
                    message=turn.request.message,
                ),
            )
        except Exception as exc:
            # The database is away: the reply keeps its last saved text and is closed as interrupted once the
            # database is back (no process saves it any more); the student's stream still ends properly.
            if as_unavailable(exc) is None:
                raise
            log.warning("could not save reply %s: %s", turn.message_id, exc)
