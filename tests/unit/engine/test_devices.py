"""Which device training picks, against what torch itself reports (and, with torch's answers
replaced, on machines this test does not run on)."""
import pytest
import torch

from lessons.engine.devices import DeviceError, available_devices, pick_device


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def test_devices_are_what_torch_reports():
    cuda, mps = torch.cuda.is_available(), _mps_available()
    assert available_devices() == ["cpu"] + ["cuda"] * cuda + ["mps"] * mps
    assert pick_device("auto") == ("cuda" if cuda else "mps" if mps else "cpu")
    assert pick_device("cpu") == "cpu"
    for absent in {"cuda", "mps"} - set(available_devices()):
        with pytest.raises(DeviceError, match=f"{absent} was asked for but is not available"):
            pick_device(absent)
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        pick_device("tpu")


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_takes_the_fastest_device(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert pick_device("auto") == expected
    assert pick_device(expected) == expected
