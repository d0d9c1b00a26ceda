"""Schedules: edges, overnight ranges, holidays, time zones, DST change days, engine gating."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from rules.config import RuleSpec
from rules.engine import RuleEngine
from rules.schedule import Schedule
from tests.rules.conftest import FRAME, batch, norm

BERLIN = ZoneInfo("Europe/Berlin")


def unix(y, mo, d, h, mi=0, s=0, tz=BERLIN) -> float:
    return datetime(y, mo, d, h, mi, s, tzinfo=tz).timestamp()


def armed(schedule: dict, t: float, default_tz: str = "Europe/Berlin") -> bool:
    return Schedule(**schedule).clock(default_tz).armed(t)


def test_range_start_included_end_excluded():
    s = {"hours": ["08:00-18:00"]}
    assert not armed(s, unix(2026, 11, 23, 7, 59, 59))
    assert armed(s, unix(2026, 11, 23, 8, 0, 0))
    assert armed(s, unix(2026, 11, 23, 17, 59, 59))
    assert not armed(s, unix(2026, 11, 23, 18, 0, 0))


def test_overnight_range_belongs_to_the_day_it_starts():
    s = {"days": ["fri"], "hours": ["22:00-06:00"]}  # 2026-11-27 is a Friday
    assert not armed(s, unix(2026, 11, 27, 21, 59))
    assert armed(s, unix(2026, 11, 27, 22, 0))
    assert armed(s, unix(2026, 11, 28, 5, 59))  # Saturday small hours: Friday's night
    assert not armed(s, unix(2026, 11, 28, 6, 0))
    assert not armed(s, unix(2026, 11, 28, 23, 0))  # Saturday night is not listed
    assert not armed(s, unix(2026, 11, 27, 3, 0))  # Friday small hours belong to Thursday


def test_days_filter():
    s = {"days": ["sat", "sun"]}
    assert not armed(s, unix(2026, 11, 27, 12))  # Friday
    assert armed(s, unix(2026, 11, 28, 12))
    assert armed(s, unix(2026, 11, 29, 23, 59))
    assert not armed(s, unix(2026, 11, 30, 0, 0))


def test_holiday_off_switches_the_night_that_starts_on_it():
    # 2026-12-24 is a Thursday and a holiday.
    off = {"days": ["wed", "thu"], "hours": ["22:00-06:00"], "holidays": ["2026-12-24"]}
    assert not armed(off, unix(2026, 12, 24, 23))  # the holiday's night is off
    assert not armed(off, unix(2026, 12, 25, 2))  # including its small hours
    assert armed(off, unix(2026, 12, 24, 3))  # but Wednesday's night runs into the holiday
    assert armed(off, unix(2026, 12, 23, 22))


def test_holiday_all_day_arms_whole_date():
    s = {"days": ["mon"], "hours": ["09:00-10:00"], "holidays": ["2026-12-25"],
         "on_holidays": "all_day"}
    assert armed(s, unix(2026, 12, 25, 0, 0))
    assert armed(s, unix(2026, 12, 25, 23, 59))
    assert not armed(s, unix(2026, 12, 26, 0, 0))


def test_time_zone_of_rule_overrides_site_default():
    t = datetime(2026, 11, 23, 1, 30, tzinfo=ZoneInfo("UTC")).timestamp()  # 09:30 in Shanghai
    s = {"hours": ["09:00-10:00"]}
    assert not armed(s, t, default_tz="UTC")
    assert armed(s, t, default_tz="Asia/Shanghai")
    assert armed({**s, "timezone": "Asia/Shanghai"}, t, default_tz="UTC")


def test_dst_spring_forward_day_follows_local_clock():
    s = {"hours": ["08:00-18:00"]}
    utc = ZoneInfo("UTC")
    # Saturday 2026-03-28 (CET, UTC+1): 08:00 local is 07:00 UTC.
    assert not armed(s, datetime(2026, 3, 28, 6, 30, tzinfo=utc).timestamp())
    assert armed(s, datetime(2026, 3, 28, 7, 0, tzinfo=utc).timestamp())
    # Sunday 2026-03-29 (CEST from 02:00, UTC+2): 08:00 local is 06:00 UTC.
    assert not armed(s, datetime(2026, 3, 29, 5, 59, tzinfo=utc).timestamp())
    assert armed(s, datetime(2026, 3, 29, 6, 0, tzinfo=utc).timestamp())
    assert not armed(s, datetime(2026, 3, 29, 16, 0, tzinfo=utc).timestamp())  # 18:00 local


def test_dst_overnight_range_across_the_change():
    s = {"hours": ["22:00-06:00"]}
    utc = ZoneInfo("UTC")
    # Night 28->29 March: 22:00 CET = 21:00 UTC to 06:00 CEST = 04:00 UTC (7 hours long).
    assert armed(s, datetime(2026, 3, 28, 21, 0, tzinfo=utc).timestamp())
    assert armed(s, datetime(2026, 3, 29, 3, 59, tzinfo=utc).timestamp())
    assert not armed(s, datetime(2026, 3, 29, 4, 0, tzinfo=utc).timestamp())
    # Night 24->25 October: 22:00 CEST = 20:00 UTC to 06:00 CET = 05:00 UTC (9 hours long).
    assert not armed(s, datetime(2026, 10, 24, 19, 59, tzinfo=utc).timestamp())
    assert armed(s, datetime(2026, 10, 24, 20, 0, tzinfo=utc).timestamp())
    assert armed(s, datetime(2026, 10, 25, 4, 59, tzinfo=utc).timestamp())
    assert not armed(s, datetime(2026, 10, 25, 5, 0, tzinfo=utc).timestamp())


def test_dst_fall_back_repeated_hour_is_armed_both_times():
    s = {"hours": ["02:00-03:00"]}
    utc = ZoneInfo("UTC")
    # 2026-10-25: 02:00-03:00 local happens at 00:00-01:00 UTC (CEST) and 01:00-02:00 UTC (CET).
    assert armed(s, datetime(2026, 10, 25, 0, 30, tzinfo=utc).timestamp())
    assert armed(s, datetime(2026, 10, 25, 1, 30, tzinfo=utc).timestamp())
    assert not armed(s, datetime(2026, 10, 25, 2, 0, tzinfo=utc).timestamp())


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"hours": ["8-18"]}, "must look like"),
        ({"hours": ["08:00-08:00"]}, "empty"),
        ({"hours": ["25:00-26:00"]}, "impossible"),
        ({"timezone": "europe/berlin"}, "did you mean Europe/Berlin"),
        ({"days": ["mon", "mon"]}, "twice"),
        ({"days": ["monday"]}, "mon"),
    ],
)
def test_bad_schedules_are_refused(bad, words):
    with pytest.raises(ValidationError, match=words):
        Schedule(**bad)


def _engine(min_inside_s=2.0, **kw):
    spec = TypeAdapter(list[RuleSpec]).validate_python([{
        "id": "yard", "kind": "zone_intrusion", "min_inside_s": min_inside_s,
        "polygon": [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)],
        "schedule": {"hours": ["22:00-06:00"]},
    }])
    return RuleEngine("cam1", spec, **kw)


def test_engine_out_of_schedule_emits_nothing_and_forgets_state():
    engine = _engine(timezone="Europe/Berlin")
    start = unix(2026, 11, 23, 21, 59, 0)  # someone inside from 21:59:00 local, 1 frame/s
    fired = []
    for k in range(0, 80):
        t = start + k
        fired += [(e.t - start) for e in engine.update(batch({1: (300, 300)}), t, FRAME)]
    # The minute before 22:00 does not count: 2 s inside hours, from 22:00:00.
    assert fired == [62.0]
    assert engine.armed("yard", start + 60) and not engine.armed("yard", start)


def test_engine_switching_off_clears_state():
    engine = _engine(min_inside_s=0.0, timezone="Europe/Berlin")
    t = unix(2026, 11, 24, 5, 59, 58)
    engine.update(batch({1: (300, 300)}), t, FRAME)
    assert engine.state_size() == 1
    assert engine.update(batch({1: (300, 300)}), t + 3, FRAME) == []  # 06:00:01, off
    assert engine.state_size() == 0


def test_engine_clock_origin_for_replay():
    origin = unix(2026, 11, 23, 21, 59, 30)
    engine = _engine(min_inside_s=0.0, timezone="Europe/Berlin", clock_origin=origin)
    events = []
    for t in range(0, 60, 5):  # media time from 0 s
        events += engine.update(batch({1: (300, 300)}), float(t), FRAME)
    assert [e.t for e in events] == [30.0]  # media 30 s = 22:00:00 local


def test_engine_default_timezone_is_utc():
    engine = _engine(min_inside_s=0.0)
    t = datetime(2026, 11, 23, 22, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert engine.update(batch({1: (300, 300)}), t, FRAME)
    with pytest.raises(ValueError, match="time zone"):
        RuleEngine("cam1", [], timezone="Mars/Olympus")


def test_bad_schedule_in_a_file_names_key_and_line(tmp_path):
    from rules.config import RulesFile
    from rules.configfile import ConfigError, load_model

    path = tmp_path / "rules.yaml"
    path.write_text(
        "cameras:\n"
        "  gate:\n"
        "    rules:\n"
        "      - id: yard\n"
        "        kind: zone_intrusion\n"
        "        polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]\n"
        "        schedule:\n"
        "          days: [mon]\n"
        "          hours: [\"22:00-6:00\"]\n"
    )
    with pytest.raises(ConfigError) as err:
        load_model(RulesFile, path)
    issue = err.value.issues[0]
    assert issue.key.startswith("cameras.gate.rules[0].schedule.hours") and issue.line == 9
    assert "must look like" in issue.message
