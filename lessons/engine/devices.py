"""Which device to train on: the CPU, or a GPU when there is one."""
from __future__ import annotations

import torch

from lessons.errors import LessonError


class DeviceError(LessonError):
    """The device asked for is not available on this machine."""


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def pick_device(requested: str = "auto") -> str:
    """'auto' takes the fastest available; naming one that is absent is an error."""
    devices = available_devices()
    if requested == "auto":
        return "cuda" if "cuda" in devices else "mps" if "mps" in devices else "cpu"
    if requested not in ("cpu", "cuda", "mps"):
        raise DeviceError("device_unknown", name=requested)
    if requested not in devices:
        raise DeviceError("device_missing", name=requested, available=", ".join(devices))
    return requested
