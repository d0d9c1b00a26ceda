"""When a rule is armed: days of the week, local time ranges, holidays, in an IANA time zone.

Conventions (docs/rules.md shows examples):
- Times are local wall-clock times of the schedule's zone (the site's zone unless the rule names
  one), so a "08:00-18:00" range follows the DST change: on Europe/Berlin's spring-forward day it
  still starts at 08:00 local, which is an hour earlier in UTC than the day before.
- A range whose end is not after its start runs over midnight ("22:00-06:00"). It belongs to the
  day it *starts* on: Friday 22:00-06:00 covers Friday night and the small hours of Saturday,
  whatever `days` says about Saturday, and a holiday on Friday switches that whole night.
- Holiday dates either switch the rule off for that day's ranges (`on_holidays: off`) or arm
  it for the whole calendar day (`all_day`), e.g. a site closed on public holidays.

Evaluation is cached per minute of Unix time: ranges are whole minutes and every UTC offset in
use today is a whole number of minutes, so the answer cannot change within one. A camera at
25 fps with 50 rules then converts a timestamp to local time once a minute, not 75,000 times.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_DAY_MIN = 24 * 60


def check_timezone(name: str) -> str:
    """An IANA zone name such as Europe/Berlin; raises ValueError naming the bad value."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = [z for z in sorted(available_timezones()) if z.lower() == name.lower()]
        extra = f" (did you mean {hint[0]}?)" if hint else " (use an IANA name like Europe/Berlin)"
        raise ValueError(f"unknown time zone {name!r}{extra}") from None
    return name


def parse_range(text: str) -> tuple[int, int]:
    """'HH:MM-HH:MM' -> (start, end) minutes of the day; end may be 24:00 (= 1440)."""
    m = _RANGE.match(text.strip())
    if not m:
        raise ValueError(f"time range {text!r} must look like 08:00-18:00 (24-hour clock)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > _DAY_MIN:
        raise ValueError(f"time range {text!r} has an impossible time (00:00 to 24:00)")
    if start == end:
        raise ValueError(
            f"time range {text!r} is empty; for all day use 00:00-24:00"
        )
    return start, end


class Schedule(BaseModel):
    """When a rule is armed. Out of schedule it emits nothing and forgets its per-track state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS),
        min_length=1,
        description="Days of the week the ranges start on (mon..sun); an overnight range "
        "belongs to the day it starts on",
    )
    hours: list[str] = Field(
        default_factory=lambda: ["00:00-24:00"],
        min_length=1,
        description="Local time ranges 'HH:MM-HH:MM'; an end not after the start runs over "
        "midnight (22:00-06:00); the start is included, the end is not",
    )
    holidays: list[date] = Field(
        default_factory=list, description="Local calendar dates (YYYY-MM-DD) treated as holidays"
    )
    on_holidays: Literal["off", "all_day"] = Field(
        default="off",
        description="off: ranges starting on a holiday do not run; all_day: the rule is armed "
        "the whole holiday, whatever days and hours say",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA time zone of days, hours and holidays; default the site's time zone",
    )

    @field_validator("hours")
    @classmethod
    def _valid_ranges(cls, v: list[str]) -> list[str]:
        for text in v:
            parse_range(text)
        return v

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, v: str | None) -> str | None:
        return None if v is None else check_timezone(v)

    @model_validator(mode="after")
    def _no_duplicate_days(self) -> "Schedule":
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"days lists a day twice: {self.days}")
        return self

    def clock(self, default_timezone: str = "UTC") -> "ScheduleClock":
        return ScheduleClock(self, default_timezone)


class ScheduleClock:
    """A schedule bound to a zone, answering `armed(unix_t)` with a per-minute cache."""

    def __init__(self, schedule: Schedule, default_timezone: str = "UTC"):
        self.schedule = schedule
        self.zone = ZoneInfo(schedule.timezone or check_timezone(default_timezone))
        self._days = frozenset(WEEKDAYS.index(d) for d in schedule.days)
        self._ranges = [parse_range(r) for r in schedule.hours]
        self._holidays = frozenset(schedule.holidays)
        self._minute: int | None = None
        self._armed = False

    def armed(self, unix_t: float) -> bool:
        minute = math.floor(unix_t / 60.0)
        if minute != self._minute:
            self._minute, self._armed = minute, self._evaluate(unix_t)
        return self._armed

    def _runs_on(self, day: date) -> bool:
        """Whether ranges starting on `day` run (weekday listed, not switched off by a holiday)."""
        if day in self._holidays and self.schedule.on_holidays == "off":
            return False
        return day.weekday() in self._days

    def _evaluate(self, unix_t: float) -> bool:
        local = datetime.fromtimestamp(unix_t, self.zone)
        today = local.date()
        if today in self._holidays and self.schedule.on_holidays == "all_day":
            return True
        now = local.hour * 60 + local.minute
        yesterday = today - timedelta(days=1)
        for start, end in self._ranges:
            if start < end:
                if start <= now < end and self._runs_on(today):
                    return True
            elif now >= start and self._runs_on(today):  # evening part of an overnight range
                return True
            elif now < end and self._runs_on(yesterday):  # small hours: started yesterday
                return True
        return False
