"""Choose the LLM provider once, from settings."""

from __future__ import annotations

import threading

from tutor.llm.base import LLM
from tutor.llm.extractive import ExtractiveLLM
from tutor.settings import Settings

_cache: dict[tuple[object, ...], LLM] = {}
_lock = threading.Lock()


def provider_name(settings: Settings) -> str:
    """The configured provider; else the LLM server when one is configured; else the quoting tutor.

    Measured on SciQ (benchmarks/quality.py), the quoting tutor answers ~2.5x as often correctly as the packaged
    135M model and ~200x sooner, so the small model is opt-in (`TUTOR_LLM_PROVIDER=local`) even when installed.
    """
    if settings.llm_provider:
        return settings.llm_provider
    return "openai" if settings.llm_base_url else "extractive"


def get_llm(settings: Settings) -> LLM:
    name = provider_name(settings)
    key = (name, settings.llm_base_url, settings.llm_model, settings.llm_model_path)
    with _lock:
        if key not in _cache:
            if name == "openai":
                from tutor.llm.openai_compat import OpenAICompatLLM

                _cache[key] = OpenAICompatLLM(
                    settings.llm_model or "gpt-4o-mini",
                    settings.llm_base_url,
                    settings.llm_api_key,
                    settings.llm_timeout_s,
                )
            elif name == "local":
                from tutor.llm.local import LocalLLM

                _cache[key] = LocalLLM(settings.llm_model_path)
            else:
                from tutor.embeddings import get_embedder

                # The model that embeds the course scores its sentences too (loaded once per process).
                _cache[key] = ExtractiveLLM(get_embedder(settings))
        return _cache[key]
