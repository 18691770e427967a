"""The extractive provider: no generative model; the answer is the course's own sentences that answer, cited.

Deterministic, fast and grounded by construction, which makes it the default without an LLM server, the test
default and the fallback of verified generation. The choosing is tutor.answers.quoting's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tutor.answers.quoting import NOT_FOUND, QuotedAnswer, QuotingTutor
from tutor.embeddings import Embedder
from tutor.llm.base import Capabilities, GenerationRequest

__all__ = ["NOT_FOUND", "ExtractiveLLM"]


class ExtractiveLLM:
    name = "extractive"
    model = "extractive"
    capabilities = Capabilities(quotes_course=True, needs_verification=False, streams=False)

    def __init__(self, embedder: Embedder | None = None) -> None:
        """`embedder`: scores sentences by meaning too; without one they are chosen by their words alone."""
        self.tutor = QuotingTutor(embedder)

    async def quote(self, request: GenerationRequest) -> QuotedAnswer:
        context = request.query if request.query and request.query != request.question else ""
        if self.tutor.embeds:
            # Sentences not seen before are embedded (once), off the event loop.
            return await asyncio.to_thread(
                self.tutor.answer, request.question, request.passages, context, request.withhold
            )
        return self.tutor.answer(request.question, request.passages, context, request.withhold)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        # A delta per quoted sentence, not per word: there is no model to wait for, and every event costs the
        # server and each client a write and a parse (word by word held a 2-core server to ~60% of the turns/s).
        for delta in (await self.quote(request)).deltas():
            yield delta
