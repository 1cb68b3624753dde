"""The lowest versions pyproject.toml allows for streamlit and torch are at or above the fixed
version of every advisory we know for them (issue #21), so a floor cannot slip back below a
fix, and the installed versions meet the floors.

A new advisory: add a row here with its fixed version; the test then fails until the floor in
pyproject.toml is raised."""
from __future__ import annotations

from importlib.metadata import version as installed_version

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.helpers import ROOT

tomllib = pytest.importorskip("tomllib")    # Python 3.11+; CI runs 3.11

# package -> [(advisory, first fixed version, what it was)]
ADVISORIES = {
    "streamlit": [
        ("CVE-2026-33682", "1.54.0", "SSRF in the component request handler"),
    ],
    "torch": [
        ("CVE-2025-32434 / GHSA-53q9-r3pm-6pq6", "2.6.0",
         "torch.load(weights_only=True) could still run code"),
        ("CVE-2026-24747 / GHSA-63cw-57p8-fm3p", "2.10.0",
         "heap corruption in the weights_only unpickler"),
    ],
}


def declared_floor(package: str) -> Version | None:
    """The version in the `>=` clause of the package's line in [project] dependencies."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    for line in data["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name.lower() == package:
            floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
            return max(floors) if floors else None
    return None


@pytest.mark.parametrize("package", sorted(ADVISORIES))
def test_the_floor_is_at_or_above_every_advisorys_fix(package):
    floor = declared_floor(package)
    assert floor is not None, f"{package} has no lower bound in pyproject.toml"
    for advisory, fixed, what in ADVISORIES[package]:
        assert floor >= Version(fixed), f"{package}>={floor} allows {advisory} ({what}), fixed in {fixed}"


@pytest.mark.parametrize("package", sorted(ADVISORIES))
def test_the_installed_version_meets_the_floor(package):
    installed = Version(installed_version(package).split("+")[0])
    assert installed >= declared_floor(package)
