"""What this machine's processor can do, asked once per process."""

from __future__ import annotations

import functools

import torch


@functools.lru_cache(maxsize=1)
def cpu_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN's check: AVX-512 BF16 or AMX).

    Where it does, bfloat16 autocast roughly halves the time of convolutions here (measured on a
    2-core AMD EPYC with avx512_bf16); elsewhere bfloat16 is emulated and slower than float32.
    Returns False when torch cannot tell.
    """
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

    name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            name = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    name = name or platform.processor() or platform.machine()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{name}, {cores} cores, {gpu}"
