"""The fence editor's "Try on recording" in a real browser: draw a tripwire across the walkers'
path on the camera's frame, replay the unsaved drawing on the camera's recording (the API runs the
real `lookout replay` in a subprocess), see it fire in the result table, then save it as a version.

The camera is a file camera on a 6 s generated clip (ingest.generated, marker detector): walker 1
crosses x = 0.5 right to left at ~5.2 s, which is a_to_b for a line drawn top to bottom.
Screenshot: `LOOKOUT_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_fence_replay.py`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from api.app import create_app
from api.settings import Settings
from ingest.generated import write_generated_video
from tests.api.conftest import TOKENS, write_configs
from tests.api.server import serve
from tests.e2e.test_console import DESKTOP, browser, no_script_errors, page_for, shot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
CAMERA = "cam-1"


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[str, Settings]]:
    cfg, data = tmp_path / "configs", tmp_path / "data"
    clip = write_generated_video(tmp_path / "yard.mp4", seconds=6, fps=10)
    write_configs(cfg)
    shutil.copy(ROOT / "configs" / "site.yaml", cfg / "site.yaml")
    (cfg / "cameras.yaml").write_text(json.dumps({"detector": {"kind": "fake"}, "cameras": [
        {"id": CAMERA, "name": "Yard", "url": str(clip), "analysis_fps": 5}]}))
    (cfg / "rules.yaml").write_text(json.dumps({"cameras": {CAMERA: {"rules": []}}}))
    cap = cv2.VideoCapture(str(clip))  # the worker's latest frame: a moment with walkers in view
    cap.set(cv2.CAP_PROP_POS_FRAMES, 45)
    ok, frame = cap.read()
    cap.release()
    assert ok
    (data / "frames").mkdir(parents=True)
    cv2.imwrite(str(data / "frames" / f"{CAMERA}.jpg"), frame)
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'lookout.db'}", config_dir=cfg, data_dir=data,
                        bus_url=f"embedded:///{tmp_path.as_posix().lstrip('/')}/bus.db", tokens=TOKENS,
                        dispatcher_enabled=False, replay_timeout_s=120)
    app = create_app(settings)
    with serve(app) as url:
        yield url, settings
    if getattr(app.state, "replay_jobs", None) is not None:
        app.state.replay_jobs.close()


def test_drawn_tripwire_fires_on_replay_then_is_saved(browser, site):  # noqa: F811 (fixture)
    from playwright.sync_api import expect

    from rules.config import RulesFile
    from rules.configfile import load_model

    url, settings = site
    page = page_for(browser, f"{url}/fences.html", "tok-engineer", DESKTOP)
    expect(page.locator("#frame")).to_have_js_property("complete", True)
    expect(page.locator("#recording option")).to_have_text(["yard.mp4"])

    page.get_by_role("button", name="Draw tripwire").click()
    canvas = page.locator("#fence-canvas")
    box = canvas.bounding_box()
    for fx, fy in [(0.5, 0.05), (0.5, 0.95)]:  # top to bottom: side A is east
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    canvas.press("Enter")
    expect(page.locator("#rule-list button[aria-pressed=true]")).to_contain_text("line-1")

    page.get_by_role("button", name="Try on recording").click()
    row = page.locator('#try-result tr[data-rule="line-1"]')
    expect(row).to_have_attribute("data-count", "1", timeout=120_000)  # a_to_b: walker 1 going west
    expect(row).to_contain_text("tripwire")
    expect(page.locator("#try-result .compare")).to_contain_text("+1 / −0")
    snap = page.locator("#try-snapshot")
    expect(snap).to_have_js_property("complete", True)
    assert snap.evaluate("img => img.naturalWidth") == 640
    assert not (settings.config_dir / "versions").exists()  # trying saves nothing
    shot(page, "fence-replay.png")

    page.locator("#comment").fill("tripwire across the yard")
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator("#save-result")).to_contain_text("Saved version 1")
    expect(page.locator("#history li").first).to_contain_text("v1")
    expect(page.locator("#history li").first).to_contain_text("tripwire across the yard")

    saved = load_model(RulesFile, settings.config_dir / "rules.yaml")
    (line,) = saved.cameras[CAMERA].rules
    assert line.id == "line-1" and line.kind == "tripwire" and abs(line.line[0][0] - 0.5) < 0.01
