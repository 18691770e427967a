"""`python -m tutor.llm.llama_server ARGS`: llama-cpp-python's OpenAI-compatible server (`python -m
llama_cpp.server`, same arguments) that does not crash on CPUs with AMX (see tutor.llm.llama_cpu)."""

from __future__ import annotations

from tutor.llm.llama_cpu import avoid_amx_buffers


def main() -> None:
    avoid_amx_buffers()
    from llama_cpp.server.__main__ import main as serve

    serve()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
