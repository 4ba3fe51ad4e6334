"""What this machine's processor can do, asked once per process."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=1)
def cpu_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN's check: AVX-512 BF16 or AMX).

    Where it does, bfloat16 autocast roughly halves the time of convolutions here (measured on a
    2-core AMD EPYC with avx512_bf16); elsewhere bfloat16 is emulated and slower than float32.
    Returns False when torch cannot tell.
    """
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=1)
def describe() -> str:
    """One line naming the machine for results files, e.g. ``"AMD EPYC, 2 cores, no GPU"``.

    The CPU name comes from /proc/cpuinfo where there is one (Linux), else `platform.processor()`;
    the core count is what this process may use (`os.sched_getaffinity` where available).
    """
    import os
    import platform

    import torch

    name = cpu_info().get("cpu_model") or platform.processor() or platform.machine()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{name}, {cores} cores, {gpu}"


def cpu_info() -> dict[str, str]:
    """The CPU's model, widest vector units and whether it does bfloat16 natively, from /proc/cpuinfo (Linux;
    empty elsewhere).

    The same load benchmark gave a p95 of 10.3 s on one 2-core machine and 11.3 s on another (an AMD EPYC with
    AVX2 only), and bfloat16 training that ran at 26 images/s on the first did not finish 50 steps in 13
    minutes on the second: result files and training logs say which machine they came from.
    """
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    lines = text.splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    vector = "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "other"
    native = "avx512_bf16" in flags or "amx_bf16" in flags
    return {"cpu_model": model, "vector": vector, "native_bf16": "yes" if native else "no"}
