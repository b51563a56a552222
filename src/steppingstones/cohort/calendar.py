"""The interview diary and the iCalendar feed (RFC 5545) of booked interviews.

The feed leaves the platform for calendar apps and phones, so it carries pseudonyms, wave,
mode and location type only: never names, addresses or notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

ZONE = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class CalendarEntry:
    uid: str
    pseudonym: str
    wave: int
    wave_name: str
    day: date
    time: time | None
    duration_minutes: int
    mode: str
    location_type: str


def diary_days(start: date, view: str) -> list[date]:
    """The days a diary page shows: the Monday-to-Sunday week of ``start``, or its month laid
    out in whole weeks."""
    if view == "month":
        first = start.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        begin = first - timedelta(days=first.weekday())
        end = following - timedelta(days=1)
        end += timedelta(days=6 - end.weekday())
    else:
        begin = start - timedelta(days=start.weekday())
        end = begin + timedelta(days=6)
    return [begin + timedelta(days=offset) for offset in range((end - begin).days + 1)]


def ical_feed(study_name: str, entries: list[CalendarEntry]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Stepping Stones//interview diary//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{study_name}: booked interviews")
    stamp = datetime.now(tz=ZoneInfo("UTC"))
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        event.add("summary", f"Interview {entry.pseudonym}, wave {entry.wave}")
        event.add("description", f"Wave {entry.wave}: {entry.wave_name}. {entry.mode}.")
        if entry.location_type:
            event.add("location", entry.location_type)
        if entry.time is None:
            event.add("dtstart", entry.day)
            event.add("dtend", entry.day + timedelta(days=1))
        else:
            start = datetime.combine(entry.day, entry.time, tzinfo=ZONE)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=entry.duration_minutes))
        calendar.add_component(event)
    return calendar.to_ical()
