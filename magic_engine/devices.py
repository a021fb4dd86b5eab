"""Device and numeric precision choice."""

from __future__ import annotations

import torch

from .errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then the CPU. Also takes 'cuda:1'."""
    if isinstance(name, torch.device):
        return name
    kind = str(name).split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ConfigError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but this machine has no usable CUDA GPU; use --device cpu or auto")
    if kind == "mps" and not _mps_available():
        raise ConfigError("device 'mps' was asked for, but Apple MPS is not available here; use --device cpu or auto")
    return torch.device(name)


def cpu_has_fast_bf16() -> bool:
    checker = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(checker()) if checker else False
    except Exception:  # noqa: BLE001 - older builds without oneDNN
        return False


def resolve_precision(precision: str, device: torch.device):
    """-> autocast dtype for the networks, or None for plain fp32."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        if device.type == "cpu":
            raise ConfigError("fp16 is not supported on the CPU; use bf16 or fp32")
        return torch.float16
    # auto
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_fast_bf16() else None
    return None


def available_devices() -> list:
    """Devices this machine can run on, for `hello` and --help."""
    out = [{"name": "cpu", "description": "CPU", "fast_bf16": cpu_has_fast_bf16()}]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            out.append({"name": f"cuda:{i}", "description": props.name, "memory_gb": round(props.total_memory / 2**30, 1)})
    if _mps_available():
        out.append({"name": "mps", "description": "Apple GPU (MPS)"})
    return out
