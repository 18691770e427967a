"""llama.cpp on CPUs with AMX (Intel Sapphire Rapids and later): load weights without its extra buffer types.

llama.cpp copies weights into AMX buffers on such CPUs, and its AMX matrix product crashes the process with a
segmentation fault on the first token (`ggml_backend_amx_mul_mat`, ggml-org/llama.cpp#20824, closed unfixed; the
same crash in ollama and dspy's CI). A crash there would take the API worker with it. llama-cpp-python does not
expose llama.cpp's `use_extra_bufts` model parameter, so the default parameters it loads every model with are
wrapped to turn it off; the weights then stay in plain CPU buffers (no AMX, no repacking), which on the packaged
135M model costs nothing a student notices. Other CPUs keep llama.cpp's defaults.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

_applied = False


@cache
def cpu_has_amx() -> bool:
    cpuinfo = Path("/proc/cpuinfo")
    return cpuinfo.exists() and "amx_int8" in cpuinfo.read_text()


def avoid_amx_buffers() -> None:
    """Make every llama.cpp model this process loads from now on skip the extra buffer types, if the CPU has AMX.
    Idempotent."""
    global _applied
    if _applied or not cpu_has_amx():
        return
    import llama_cpp.llama_cpp as low

    defaults = low.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = without_extra_buffers
    _applied = True
