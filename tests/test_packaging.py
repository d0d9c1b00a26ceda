"""The distribution's shape: our import names are ours, one OpenCV build, layering holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = ("ingest", "detectors", "rules", "alerts", "api")
OUR_DISTRIBUTION = "lookout-patrol-analytics"


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


@pytest.mark.parametrize("package", OUR_PACKAGES)
def test_no_other_distribution_claims_our_package_names(package):
    owners = {_norm(d) for d in packages_distributions().get(package, [])}
    assert owners <= {OUR_DISTRIBUTION}, f"{package!r} is also installed by {owners - {OUR_DISTRIBUTION}}"


def test_one_opencv_4_build_with_hog():
    import cv2

    assert cv2.__version__.startswith("4."), f"OpenCV {cv2.__version__}: the project pins 4.x (5.0 has no HOG)"
    assert hasattr(cv2, "HOGDescriptor")
    cv2_owners = {_norm(d) for d in packages_distributions().get("cv2", [])}
    assert len(cv2_owners) == 1, f"several distributions provide cv2: {cv2_owners}"


def test_import_layers_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    exe = str(lint) if lint.exists() else shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency; install '.[test]'"
    proc = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_packages_import_without_heavy_backends():
    code = (
        "import sys, detectors.registry, rules.engine, alerts.bus, api.app\n"
        "heavy = [m for m in ('onnxruntime', 'ultralytics', 'torch', 'kafka') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
