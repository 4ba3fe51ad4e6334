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
