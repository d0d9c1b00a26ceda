"""The web console in a real browser: Debian's Chromium driven by Playwright, against the real
API (uvicorn on a loopback port) whose dispatcher consumes a real embedded bus. Alerts enter the
way the worker sends them: Alert v1 JSON produced onto `lookout.alerts.v1`.

Screenshots of each page: `LOOKOUT_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_console.py`
writes them to docs/screenshots/ (1280×800 desktop, 390×844 phone).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC, Clip
from api.app import create_app
from api.settings import Settings
from ingest.health import StreamHealth
from tests.api.conftest import SCENE, TOKENS, make_alert, write_configs
from tests.api.server import serve

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
CAMERA = "cam-1"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def scene_image() -> np.ndarray:
    """A frame of the PETS09 plaza when Debian's opencv-doc is there, else a drawn plaza."""
    if VTEST.exists():
        cap = cv2.VideoCapture(str(VTEST))
        ok, frame = False, None
        for _ in range(60):
            ok, frame = cap.read()
        cap.release()
        if ok:
            return frame
    img = np.full((576, 768, 3), (150, 160, 150), np.uint8)
    cv2.rectangle(img, (0, 0), (768, 150), (200, 190, 170), -1)
    return img


def write_site(config_dir: Path, data_dir: Path) -> Path:
    """Configs (responders and policies of the api tests, two cameras, the example rules), the
    camera's latest frame; returns an annotated snapshot for the alerts."""
    write_configs(config_dir)
    (config_dir / "site.yaml").write_text(json.dumps(
        {"site": {"id": "demo", "name": "Test plaza", "location": {"lat": SCENE[0], "lon": SCENE[1]}}}))
    (config_dir / "cameras.yaml").write_text(json.dumps({"cameras": [
        {"id": CAMERA, "name": "Plaza gate", "url": "generated://scene", "location": {"lat": SCENE[0], "lon": SCENE[1]}},
        {"id": "cam-2", "name": "North street", "url": "generated://scene",
         "location": {"lat": SCENE[0] + 0.004, "lon": SCENE[1] - 0.002}},
    ]}))
    text = (ROOT / "configs" / "rules.yaml").read_text().replace("  plaza:", f"  {CAMERA}:")
    (config_dir / "rules.yaml").write_text(text)
    img = scene_image()
    (data_dir / "frames").mkdir(parents=True)
    cv2.imwrite(str(data_dir / "frames" / f"{CAMERA}.jpg"), img)
    snap = img.copy()
    cv2.rectangle(snap, (470, 200), (520, 330), (0, 0, 255), 3)
    cv2.putText(snap, "east-road zone_intrusion", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
    (data_dir / "snapshots").mkdir()
    path = data_dir / "snapshots" / "a1.jpg"
    cv2.imwrite(str(path), snap)
    return path


@dataclass
class Site:
    url: str
    settings: Settings
    snapshot: Path

    def produce(self, clip: dict | None = None, **kw) -> str:
        """Alert v1 JSON onto the real bus, as the worker's outbox relay sends it; returns its id."""
        kw.setdefault("observed", time.time())
        alert = make_alert(snapshot=self.snapshot.as_uri(), **kw)
        if clip is not None:
            alert = alert.model_copy(update={"clip": Clip(**clip)})
        p = open_bus(self.settings.bus_url).producer()
        p.send(ALERTS_TOPIC, alert.model_dump_json().encode(), key=alert.source.id.encode())
        p.flush(5)
        p.close()
        return alert.alert_id


@contextmanager
def running_site(tmp_path: Path) -> Iterator[Site]:
    config_dir, data_dir = tmp_path / "configs", tmp_path / "data"
    snapshot = write_site(config_dir, data_dir)
    settings = Settings(
        db_url=f"sqlite:///{tmp_path / 'lookout.db'}",
        bus_url=f"embedded:///{tmp_path.as_posix().lstrip('/')}/bus.db",
        config_dir=config_dir, data_dir=data_dir, tokens=TOKENS, dispatcher_enabled=True,
        tick_interval_s=0.2, sse_keepalive_s=1.0,
    )
    with serve(create_app(settings)) as url:
        yield Site(url, settings, snapshot)


def health_events(bus_url: str, emitted: list | None = None):
    """The worker's own health publisher (ingest.health_events) on the test's bus; `.poll(health, now)`
    with ingest.health.StreamHealth snapshots publishes lookout.health.v1 records as the worker does."""
    from ingest.health_events import CameraHealthConfig, CameraHealthTracker, HealthEvents

    tracker = CameraHealthTracker("demo", CameraHealthConfig(lost_after_s=5, publish_every_s=1))
    return HealthEvents(tracker, bus_url=bus_url, emit=(emitted if emitted is not None else []).append)


def has_cjk_font() -> bool:
    import subprocess

    try:
        return bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return False


def photo_file(tmp_path: Path) -> Path:
    """A phone photo of the scene (a JPEG), for the unit's field report."""
    img = scene_image()[150:450, 300:700]
    path = tmp_path / "IMG_0042.jpg"
    cv2.imwrite(str(path), img)
    return path


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    with running_site(tmp_path) as s:
        yield s


PAGE_ERRORS: list[str] = []


@pytest.fixture(autouse=True)
def no_script_errors():
    """Any uncaught exception in a page's scripts fails the test that opened it."""
    PAGE_ERRORS.clear()
    yield
    assert not PAGE_ERRORS, PAGE_ERRORS


def page_for(browser, url: str, token: str, viewport: dict):
    ctx = browser.new_context(viewport=viewport, locale="en-US")
    page = ctx.new_page()
    page.on("pageerror", lambda exc: PAGE_ERRORS.append(f"{page.url}: {exc}"))
    page.goto(f"{url}#token={token}")
    return page


def shot(page, name: str, full: bool = False) -> None:
    """Always taken (a page that cannot render fails here); written over docs/screenshots/ only
    with LOOKOUT_SCREENSHOTS=1, so an ordinary test run leaves the checkout clean."""
    png = page.screenshot(full_page=full)
    if os.environ.get("LOOKOUT_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / name).write_bytes(png)


def test_alert_reaches_command_room_and_unit_acts_on_its_order(browser, site, tmp_path):
    from playwright.sync_api import expect

    (site.settings.data_dir / "frames" / f"{CAMERA}.jpg").touch()  # the worker just wrote it
    ops = page_for(browser, f"{site.url}/", "tok-operator", DESKTOP)
    expect(ops.locator("#status")).to_have_attribute("data-state", "live")
    # Camera health from frame age: cam-1 has a fresh frame, cam-2 none yet.
    expect(ops.locator(f'#cam-health li[data-camera="{CAMERA}"]')).to_have_attribute("data-health", "live")
    expect(ops.locator('#cam-health li[data-camera="cam-2"]')).to_have_attribute("data-health", "none")

    alert_id = site.produce(severity="high")
    # The user-visible requirement: on the command-room page within 2 s of reaching the bus.
    expect(ops.locator(f'#alerts li[data-alert-id="{alert_id}"]')).to_be_visible(timeout=2000)
    card = ops.locator("#incidents article.incident").first
    expect(card).to_be_visible()
    expect(card.locator('.chip[data-responder="patrol-1"]')).to_be_visible()
    incident_id = card.get_attribute("data-incident-id")
    # The snapshot thumbnail loaded (the token travels as ?access_token=).
    thumb = ops.locator(f'#alerts li[data-alert-id="{alert_id}"] img')
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0

    unit = page_for(browser, f"{site.url}/unit.html", "tok-unit", PHONE)
    order = unit.locator(".order").first
    expect(order).to_be_visible()
    order_id = order.get_attribute("data-order-id")
    order.get_by_role("button", name="Acknowledge").click()
    expect(order).to_have_attribute("data-state", "acknowledged")
    expect(ops.locator(f'.chip[data-order-id="{order_id}"]')).to_have_attribute("data-state", "acknowledged")
    order.get_by_role("button", name="On scene").click()
    expect(order).to_have_attribute("data-state", "on_scene")
    # The board follows the unit's action live.
    expect(ops.locator(f'.chip[data-order-id="{order_id}"]')).to_have_attribute("data-state", "on_scene")
    expect(ops.locator(f'article[data-incident-id="{incident_id}"] tr[data-tier="2"] td.count')).to_contain_text("✓")
    # The small offline map: the scene and the crew (patrol-1's duty post, 900 m north of it).
    umap = order.locator("canvas.unitmap")
    expect(umap).to_have_attribute("data-scene", f"{SCENE[0]:.6f},{SCENE[1]:.6f}")
    expect(umap).to_have_attribute("data-unit", f"{SCENE[0] + 900 / 111_195.0:.6f},{SCENE[1]:.6f}")
    expect(order.locator(".bearing")).to_contain_text("900 m south")
    note = "Two people asked to leave the restricted road."
    order.get_by_label("Note (for the report)").fill(note)
    photo = photo_file(tmp_path)
    order.get_by_label("Photo (optional)").set_input_files(str(photo))
    expect(order.locator(".photo-chosen img")).to_be_visible()
    shot(unit, "unit.png", full=True)

    # A second place: its own incident on the board, other units ordered (patrol-1 is busy).
    second = site.produce(severity="high", source="cam-2", zone="road", lat=SCENE[0] + 0.004, lon=SCENE[1] - 0.002)
    item = ops.locator(f'#alerts li[data-alert-id="{second}"]')
    expect(item).to_be_visible(timeout=2000)
    inc2 = item.get_attribute("data-incident-id")
    expect(ops.locator(f'article[data-incident-id="{inc2}"] tr[data-tier="2"] .chip')).to_have_count(1)
    # The worker's health records reach the panel live: cam-2's stream has stalled.
    events = health_events(site.settings.bus_url)
    now = time.time()
    events.poll({CAMERA: StreamHealth(CAMERA, "live", fps_in=25.0, last_frame_at=now - 0.1),
                 "cam-2": StreamHealth("cam-2", "stalled", last_frame_at=now - 14, reconnects=3)}, now)
    events.stop()
    expect(ops.locator('#cam-health li[data-camera="cam-2"]')).to_have_attribute("data-health", "stalled")
    # Acknowledge is kept on the server: the board says who, also after a reload.
    item.get_by_role("button", name="Acknowledge").click()
    expect(ops.locator(f'article[data-incident-id="{inc2}"]')).to_have_attribute("data-acked", "true")
    shot(ops, "command-room.png")
    ops.reload()
    expect(ops.locator(f'article[data-incident-id="{inc2}"]')).to_have_attribute("data-acked", "true")
    expect(ops.locator(f'article[data-incident-id="{inc2}"] .chip.acked')).to_contain_text("acknowledged by alice")
    expect(ops.locator(f'article[data-incident-id="{incident_id}"]')).to_have_attribute("data-acked", "false")
    expect(item.locator(".acts .chip")).to_have_text("acknowledged")

    # Reconnect: a fresh page (new session, new stream) gets the open order replayed, and the
    # half-written note is still there (the photo has to be chosen again).
    unit.reload()
    expect(unit.locator(f'.order[data-order-id="{order_id}"]')).to_have_attribute("data-state", "on_scene")
    order.get_by_label("Photo (optional)").set_input_files(str(photo))
    expect(order.get_by_label("Note (for the report)")).to_have_value(note)

    # Another unit's session: only its own order (guard-near is ordered for tier 1), never patrol-1's.
    guard = page_for(browser, f"{site.url}/unit.html", "tok-guard", PHONE)
    expect(guard.locator(".order").first).to_be_visible()
    expect(guard.locator(f'.order[data-order-id="{order_id}"]')).to_have_count(0)
    ids = guard.locator(".order").evaluate_all("els => els.map(e => e.dataset.orderId)")
    owners = {o["id"]: o["responder_id"] for o in ops.evaluate(
        "() => fetch('/api/orders', {headers: {Authorization: 'Bearer tok-operator'}}).then(r => r.json())")}
    assert ids and all(owners[int(i)] == "guard-near" for i in ids)

    order.get_by_role("button", name="Resolved").click()
    expect(unit.locator(f'.order[data-order-id="{order_id}"]')).to_have_count(0)
    expect(ops.locator(f'article[data-incident-id="{incident_id}"]')).to_have_count(0)
    # The note and the photo went with "resolved"; operators see them in the alert's details.
    ops.locator(f'#alerts li[data-alert-id="{alert_id}"]').get_by_role("button", name="Details").click()
    report = ops.locator(f'#detail-reports li[data-order-id="{order_id}"]')
    expect(report).to_contain_text(note)
    expect(report.locator("img.photo")).to_have_js_property("complete", True)
    assert report.locator("img.photo").evaluate("img => img.naturalWidth") == 400
    ops.get_by_role("button", name="Close").click()
    expect(ops.locator("#detail")).not_to_be_visible()

    # Operator actions from the feed: dispatch one more unit (the next tier up), then stand the
    # incident down as a false alarm; its orders are cancelled and it leaves the board.
    item.get_by_role("button", name="Dispatch").click()
    expect(ops.locator(f'article[data-incident-id="{inc2}"] tr[data-tier="3"] .chip')).to_have_count(1)
    item.get_by_role("button", name="False alarm").click()
    expect(ops.locator(f'article[data-incident-id="{inc2}"]')).to_have_count(0)
    ops.reload()  # stood down on the server, not just hidden
    expect(ops.locator("#status")).to_have_attribute("data-state", "live")
    expect(ops.locator(f'article[data-incident-id="{inc2}"]')).to_have_count(0)
    detail = ops.evaluate(f"() => fetch('/api/incidents/{inc2}', {{headers: {{Authorization: 'Bearer tok-operator'}}}}).then(r => r.json())")
    assert detail["status"] == "stood_down"

    # The reports page charts what just happened: of two incidents that ordered tier 2, one was
    # reached on scene within 3 minutes (the other was stood down).
    reports = page_for(browser, f"{site.url}/reports.html", "tok-operator", DESKTOP)
    tier2 = reports.locator('.tier-card[data-tier="2"]')
    expect(tier2.locator("dd").first).to_have_text("2")
    expect(tier2.locator(".bar").nth(1)).to_contain_text("50%")
    # Distribution (read from the visually hidden table that carries the chart's numbers): tier 2
    # reached once, within its 3 minutes, acknowledged before that; the stood-down one never.
    dist2 = reports.locator('.dist-card[data-tier="2"]')
    expect(dist2).to_have_attribute("data-deadline", "180")
    expect(dist2.locator("line.deadline")).to_have_count(1)
    expect(dist2.locator('tr[data-bin="none"] td.scene')).to_have_text("1")
    expect(dist2.locator('tr[data-bin="none"] td.ack')).to_have_text("1")
    early = ["0-30", "30-60", "60-120", "120-180"]
    scene_counts = [int(dist2.locator(f'tr[data-bin="{b}"] td.scene').inner_text()) for b in early]
    assert sum(scene_counts) == 1, scene_counts
    for b in ("180-300", "300-600", "600+"):
        expect(dist2.locator(f'tr[data-bin="{b}"] td.scene')).to_have_text("0")
    assert sum(int(dist2.locator(f'tr[data-bin="{b}"] td.ack').inner_text()) for b in early) == 1
    assert dist2.locator("rect.scene").count() == 8 and dist2.locator("rect.ack").count() == 8
    dist3 = reports.locator('.dist-card[data-tier="3"]')  # dispatched for the second, then stood down
    expect(dist3.locator('tr[data-bin="none"] td.scene')).to_have_text("1")
    expect(dist3.locator("text.deadline")).to_have_text("deadline 300 s")
    # Per area: "gate" (cam-1) was reached by tier 2, "road" (cam-2) was stood down.
    expect(reports.locator('#attain tr[data-key="gate"][data-tier="2"] .share')).to_have_text("100%")
    expect(reports.locator('#attain tr[data-key="road"][data-tier="2"] .share')).to_have_text("0%")
    expect(reports.locator('#by-rule .crow[data-key="fence-1"]')).to_have_attribute("data-count", "2")
    expect(reports.locator(f'#by-camera .crow[data-key="{CAMERA}"]')).to_have_attribute("data-count", "1")
    expect(reports.locator('#by-camera .crow[data-key="cam-2"]')).to_have_attribute("data-count", "1")
    # Coverage: both alert places. Tier 1's nearest post (guard-near, 100 m) misses the gate's
    # 60 s by a few seconds; tier 2 (patrol-1, a car 900 m away) makes its 3 minutes.
    expect(reports.locator("#coverage")).to_have_attribute("data-places", "2")
    gate = reports.locator('#cov-list li[data-place="cam-1/gate"]')
    expect(gate).to_have_attribute("data-in-time", "false")
    expect(gate).to_contain_text("guard-near")
    reports.get_by_label("Tier", exact=True).select_option("2")
    expect(gate).to_have_attribute("data-in-time", "true")
    expect(reports.locator("#cov-summary")).to_contain_text("Tier 2: 2 / 2")
    shot(reports, "reports.png", full=True)
    reports.get_by_label("Group by").select_option("day")
    expect(reports.locator("#attain tr[data-tier='2']")).to_have_count(1)  # both incidents on one day
    expect(reports.locator("#attain tr[data-tier='2'] th")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    # Bilingual: the distribution's labels follow the language switch.
    reports.locator("#lang").click()
    expect(reports.locator("#h-dist")).to_have_text("响应时间分布")
    expect(dist3.locator("text.deadline")).to_have_text("时限 300 秒")
    expect(dist2.locator('tr[data-bin="none"] th')).to_have_text("未到达")
    reports.locator("#lang").click()


def test_camera_health_panel_follows_the_workers_health_records(browser, site):
    """lookout.health.v1 records, published by the worker's own HealthEvents, drive the panel live
    (pushed over the stream, no reload): live → stalled → lost, with the last frame's time."""
    from playwright.sync_api import expect

    ops = page_for(browser, f"{site.url}/", "tok-operator", DESKTOP)
    expect(ops.locator("#status")).to_have_attribute("data-state", "live")
    cam2 = ops.locator('#cam-health li[data-camera="cam-2"]')
    expect(cam2).to_have_attribute("data-health", "none")  # no record, no frame file yet
    emitted: list = []
    events = health_events(site.settings.bus_url, emitted)
    try:
        now = time.time()
        events.poll({"cam-2": StreamHealth("cam-2", "live", fps_in=12.0, last_frame_at=now)}, now)
        expect(cam2).to_have_attribute("data-health", "live")
        expect(cam2.locator(".state")).to_have_text("live")
        events.poll({"cam-2": StreamHealth("cam-2", "stalled", last_frame_at=now, reconnects=1)}, now + 3)
        expect(cam2).to_have_attribute("data-health", "stalled")
        expect(cam2.locator(".seen")).to_contain_text(re.compile(r"last frame: \S+ (AM|PM) \(\d+ s ago\) .* reconnects 1"))
        expect(ops.locator("#cam-bad")).to_have_text("1 ⚠")
        events.poll({"cam-2": StreamHealth("cam-2", "lost", last_frame_at=now, reconnects=4,
                                           error="rtsp://admin:secret@10.0.0.9/live: timeout")}, now + 10)
        expect(cam2).to_have_attribute("data-health", "lost")
        expect(cam2.locator(".state")).to_have_text("⚠ lost")
        assert "secret" not in cam2.get_attribute("title")  # the worker redacts stream credentials
        expect(ops.locator("#map-list")).to_contain_text("cam-2: lost")
    finally:
        events.stop()
    assert [a.rule.kind for a in emitted] == ["camera_health"]  # lost > lost_after_s: the worker's alert
    # A reload reads the same state back from the API (the feed keeps the newest record per camera).
    ops.reload()
    expect(ops.locator('#cam-health li[data-camera="cam-2"]')).to_have_attribute("data-health", "lost")
    ops.get_by_role("button", name="Switch language / 切换语言").click()
    expect(ops.locator('#cam-health li[data-camera="cam-2"] .state')).to_have_text("⚠ 信号丢失")
    if has_cjk_font():  # without one Chromium draws boxes; Debian: fonts-noto-cjk
        shot(ops, "command-room-zh.png")


def test_alert_detail_shows_the_evidence_clip_when_there_is_one(browser, site):
    from playwright.sync_api import expect

    ops = page_for(browser, f"{site.url}/", "tok-operator", DESKTOP)
    expect(ops.locator("#status")).to_have_attribute("data-state", "live")
    plain = site.produce(severity="low", track=1)
    with_clip = site.produce(severity="high", track=2, clip={
        "uri": "evidence://clips/x.mp4", "pre_s": 5, "post_s": 5, "track_id": 2})
    item = ops.locator(f'#alerts li[data-alert-id="{with_clip}"]')
    expect(item).to_be_visible()
    item.get_by_role("button", name="Details").click()
    dialog = ops.get_by_role("dialog")
    expect(dialog).to_be_visible()
    video = dialog.locator("video#clip")
    expect(video).to_have_attribute("src", re.compile(rf"/api/alerts/{with_clip}/clip\?access_token="))
    expect(dialog).to_contain_text("−5 s … +5 s")
    expect(dialog.locator(".media img")).to_have_js_property("complete", True)
    ops.keyboard.press("Escape")  # keyboard: a modal <dialog> closes on Esc
    expect(dialog).not_to_be_visible()
    ops.locator(f'#alerts li[data-alert-id="{plain}"]').get_by_role("button", name="Details").click()
    expect(ops.get_by_role("dialog")).to_contain_text("No field report yet.")
    expect(ops.locator("#detail video")).to_have_count(0)  # no clip on this alert: no player


def test_fence_editor_draws_a_zone_and_saves_a_valid_version(browser, site):
    from playwright.sync_api import expect

    from rules.config import RulesFile
    from rules.configfile import load_model

    page = page_for(browser, f"{site.url}/fences.html", "tok-engineer", DESKTOP)
    expect(page.locator("#rule-list button")).to_have_count(2)  # the example's tripwire and zone
    expect(page.locator("#frame")).to_have_js_property("complete", True)
    assert page.locator("#frame").evaluate("img => img.naturalWidth") == 768

    page.get_by_role("button", name="Draw zone").click()
    canvas = page.locator("#fence-canvas")
    box = canvas.bounding_box()
    for fx, fy in [(0.08, 0.55), (0.35, 0.5), (0.4, 0.9), (0.1, 0.95)]:
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    canvas.press("Enter")
    expect(page.locator("#rule-list button[aria-pressed=true]")).to_contain_text("zone-1")

    # A bad option is refused server-side with its key path, and nothing is written.
    page.locator("#f-min_inside_s").fill("-1")
    page.locator("#f-min_inside_s").press("Tab")
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator("#save-result")).to_contain_text("cameras.cam-1.rules[2].min_inside_s")
    assert not (site.settings.config_dir / "versions").exists()

    page.locator("#f-min_inside_s").fill("2")
    page.locator("#f-min_inside_s").press("Tab")
    page.locator("#f-id").fill("lawn-west")
    page.locator("#f-id").press("Tab")
    page.locator("#comment").fill("west lawn closed at night")
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator("#save-result")).to_contain_text("Saved version 1")
    expect(page.locator("#save-result code")).to_contain_text("--compare")
    expect(page.locator("#save-result code")).to_contain_text("rules.v1.yaml")
    page.get_by_role("button", name="east-road").click()  # the screenshot shows a zone and a tripwire
    shot(page, "fence-editor.png")

    cfg = site.settings.config_dir
    saved = load_model(RulesFile, cfg / "rules.yaml")  # the file the worker reads validates
    rules = {r.id: r for r in saved.cameras[CAMERA].rules}
    assert set(rules) == {"plaza-midline", "east-road", "lawn-west"}
    zone = rules["lawn-west"]
    assert zone.kind == "zone_intrusion" and zone.min_inside_s == 2 and len(zone.polygon) == 4
    assert abs(zone.polygon[0][0] - 0.08) < 0.01 and abs(zone.polygon[2][1] - 0.9) < 0.01
    assert (cfg / "versions" / "rules.v0.yaml").exists() and (cfg / "versions" / "rules.v1.yaml").exists()
    audit = [json.loads(x) for x in (cfg / "versions" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["version"] == 1 and audit[-1]["actor"] == "engineer:erin"
    assert audit[-1]["comment"] == "west lawn closed at night"


def test_video_patrol_tours_cameras_and_raises_a_manual_alert(browser, site):
    from playwright.sync_api import expect

    page = page_for(browser, f"{site.url}/patrol.html", "tok-operator", DESKTOP)
    expect(page.locator("#cam-title")).to_contain_text("cam-1")
    expect(page.locator("#view")).to_have_js_property("complete", True)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#cam-title")).to_contain_text("cam-2")  # no frame yet: said so
    expect(page.locator("#no-frame")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#cam-title")).to_contain_text("cam-1")
    page.keyboard.press("a")
    expect(page.locator("#raised")).to_contain_text("Manual alert raised: cam-1")
    shot(page, "video-patrol.png")
    # Chinese labels: one toggle, every label from the same dictionary, remembered across pages.
    page.get_by_role("button", name="Switch language / 切换语言").click()
    expect(page.locator("nav a[aria-current=page]")).to_have_text("视频巡逻")
    expect(page.locator("#raise")).to_have_text("人工告警 (A)")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    alerts = page.evaluate("() => fetch('/api/alerts', {headers: {Authorization: 'Bearer tok-operator'}}).then(r => r.json())")
    manual = [a for a in alerts if a["rule_id"] == "manual"]
    assert len(manual) == 1 and manual[0]["source_id"] == "cam-1" and manual[0]["snapshot_url"]
