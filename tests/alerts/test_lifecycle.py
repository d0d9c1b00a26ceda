"""Alert lifecycle (start / update / end) within v1: compatible both ways, and through the outbox."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ConfigDict, create_model

from alerts.build import follow_up
from alerts.model import Alert
from alerts.outbox import Outbox
from tests.alerts.conftest import sample_alert

NEW_FIELDS = {"lifecycle", "sequence", "ended_at"}


def old_consumer_model():
    """Alert v1 as a consumer built before lifecycles knew it: the same fields minus the new ones,
    ignoring unknown fields (the contract's rule)."""
    fields = {n: (f.annotation, f) for n, f in Alert.model_fields.items() if n not in NEW_FIELDS}
    return create_model("OldAlert", __config__=ConfigDict(extra="ignore"), **fields)


def test_an_alert_without_lifecycle_is_a_start():
    data = json.loads(sample_alert(1).to_json())
    for name in NEW_FIELDS:
        data.pop(name)
    alert = Alert.from_json(json.dumps(data))  # what a producer from before lifecycles wrote
    assert (alert.lifecycle, alert.sequence, alert.ended_at) == ("start", 0, None)
    assert alert.delivery_id == alert.alert_id  # the outbox and stores key it as before


def test_new_messages_with_unknown_fields_parse_for_new_and_old_consumers():
    start = sample_alert(2)
    end = follow_up(start, "end", observed_at=start.observed_at + timedelta(seconds=40))
    data = json.loads(end.to_json())
    data["v1_9_field"] = {"anything": [1]}
    again = Alert.from_json(json.dumps(data))
    assert (again.lifecycle, again.sequence, again.ended_at) == ("end", 1, end.observed_at)
    old = old_consumer_model().model_validate_json(json.dumps(data))
    assert old.alert_id == start.alert_id and not hasattr(old, "lifecycle")


def test_follow_ups_keep_the_id_and_count_up():
    start = sample_alert(3)
    t = start.observed_at
    update = follow_up(start, "update", observed_at=t + timedelta(seconds=10), evidence={"dwell_s": 10.0})
    end = follow_up(update, "end", observed_at=t + timedelta(seconds=20))
    assert {start.alert_id, update.alert_id, end.alert_id} == {start.alert_id}
    assert [m.sequence for m in (start, update, end)] == [0, 1, 2]
    assert update.evidence == {"dwell_s": 10.0} and end.ended_at == t + timedelta(seconds=20)
    assert len({m.delivery_id for m in (start, update, end)}) == 3
    with pytest.raises(ValueError):
        follow_up(end, "update", observed_at=t)
    with pytest.raises(ValueError):
        follow_up(start, "start", observed_at=t)


def test_outbox_keeps_each_lifecycle_message_once(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db")
    start = sample_alert(4)
    update = follow_up(start, "update", observed_at=start.observed_at)
    assert outbox.put(start) and outbox.put(update)
    assert not outbox.put(update) and not outbox.put(start)  # replays still dedupe
    values = [Alert.from_json(v) for *_, v in outbox.pending(10)]
    assert [(a.lifecycle, a.sequence) for a in values] == [("start", 0), ("update", 1)]
    outbox.close()
