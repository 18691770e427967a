"""Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp's server) through the openai client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tutor.llm.base import Capabilities, GenerationRequest, LLMError


class OpenAICompatLLM:
    name = "openai"
    capabilities = Capabilities(quotes_course=False, needs_verification=True, streams=True, writes_json=True)

    def __init__(self, model: str, base_url: str | None, api_key: str | None, timeout: float) -> None:
        from openai import AsyncOpenAI

        self.model = model
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=1)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        import openai

        try:
            stream: Any = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],  # type: ignore[misc]
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stream=True,
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.OpenAIError as exc:
            raise LLMError(f"the language model failed: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # a dropped connection mid-stream surfaces as an httpx error
            raise LLMError(f"the language model stream broke: {type(exc).__name__}: {exc}") from exc
