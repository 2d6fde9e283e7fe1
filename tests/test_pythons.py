"""Choosing the Python of a cell from wheel metadata and the machine's interpreters."""
import platform
import sys

import pytest
from packaging.version import Version

from harness.plan import pythons
from harness.plan.index import WheelFile, PackageIndex

MACHINE = {"3.9": "/x/python3.9", "3.10": "/x/python3.10", "3.11": "/x/python3.11", "3.12": "/x/python3.12"}


def test_newest_common_python_on_the_machine_wins():
    python, reason = pythons.choose("2.4.1", {"3.8", "3.9", "3.10", "3.11", "3.12"},
                                    "0.46.0", {"3.9", "3.10", "3.11", "3.12", "3.13"}, MACHINE)
    assert python == "3.12"
    assert "torch 3.8-3.12" in reason
    assert "shap 3.9-3.13" in reason


def test_disjoint_wheels_are_not_applicable_with_the_reason():
    python, reason = pythons.choose("1.13.1", {"3.8", "3.9", "3.10", "3.11"}, "0.54.1", {"3.12", "3.13"}, MACHINE)
    assert python is None
    assert reason == "no Python has wheels of both: torch 1.13.1 covers 3.8-3.11, shap 0.54.1 covers 3.12-3.13"


def test_common_python_missing_from_the_machine():
    python, reason = pythons.choose("9.0", {"3.13", "3.14"}, "1.0", {"3.13", "3.14"}, MACHINE)
    assert python is None
    assert "share wheels only for 3.13-3.14, not on this machine" in reason


def test_no_wheel_for_the_platform():
    assert pythons.choose("1.0", set(), "0.46.0", {"3.12"}, MACHINE) == (None, "no torch 1.0 wheel for this platform")


def test_the_running_interpreter_is_found():
    here = "%d.%d" % sys.version_info[:2]
    assert here in pythons.available()


@pytest.mark.skipif(not (platform.machine() == "x86_64" and sys.platform.startswith("linux")),
                    reason="the fixture wheels are for linux x86_64")
def test_wheel_tags_and_requires_python_decide_support():
    index = PackageIndex()
    v = Version("1.0")
    index._wheels["demo"] = {v: [
        WheelFile(v, frozenset({"cp310-cp310-manylinux_2_17_x86_64", "cp310-cp310-manylinux2014_x86_64"}), ">=3.8"),
        WheelFile(v, frozenset({"cp311-cp311-win_amd64"}), ">=3.8"),
        WheelFile(v, frozenset({"cp39-cp39-manylinux_2_17_x86_64"}), ">=3.10"),
    ]}
    tags = pythons.compatible_tags(["3.9", "3.10", "3.11"])
    # 3.11 has only a Windows wheel; 3.9's wheel requires >=3.10
    assert index.supported_pythons("demo", v, tags) == {"3.10"}
