"""Alert lifecycle in the command room: an update and an end of an alert already on screen change
its entry in place (no second entry), through the real bus, dispatcher and SSE stream."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from alerts.build import follow_up
from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC
from tests.api.conftest import make_alert
from tests.e2e.test_console import DESKTOP, PAGE_ERRORS, browser, no_script_errors, page_for, running_site  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _send(site, alert) -> None:
    p = open_bus(site.settings.bus_url).producer()
    p.send(ALERTS_TOPIC, alert.model_dump_json().encode(), key=alert.source.id.encode())
    p.flush(5)
    p.close()


def test_updates_and_end_change_the_alerts_entry_in_place(browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    with running_site(tmp_path) as site:
        ops = page_for(browser, f"{site.url}/", "tok-operator", DESKTOP)
        expect(ops.locator("#status")).to_have_attribute("data-state", "live")
        start = make_alert(observed=time.time(), severity="medium", snapshot=site.snapshot.as_uri())
        _send(site, start)
        entry = ops.locator(f'#alerts li[data-alert-id="{start.alert_id}"]')
        expect(entry).to_be_visible()
        expect(entry.locator("[data-lifecycle]")).to_have_count(0)
        update = follow_up(start, "update", observed_at=start.observed_at + timedelta(seconds=10))
        _send(site, update)
        expect(entry.locator('[data-lifecycle="update"]')).to_contain_text("ongoing · update 1")
        _send(site, follow_up(update, "end", observed_at=start.observed_at + timedelta(seconds=20)))
        expect(entry.locator('[data-lifecycle="end"]')).to_contain_text("ended")
        expect(ops.locator("#alerts li")).to_have_count(1)  # one condition, one entry
