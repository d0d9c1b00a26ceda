"""The published JSON Schema of Alert v1 (docs/alert-v1.schema.json).

Regenerate after changing `alerts.model`: `python -m alerts.schema docs/alert-v1.schema.json`.
A test fails while the committed file differs from what this module generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from alerts.model import ALERTS_TOPIC, SCHEMA_VERSION, Alert

SCHEMA_ID = f"urn:lookout:schema:alert:v{SCHEMA_VERSION}"

# Field documentation for readers of the schema; kept here so the wire model stays terse.
_FIELD_DOCS = {
    "alert_id": "Deterministic UUIDv5 of site, source, rule, track and start time: a replay or a "
    "retry of the same fired condition has the same id, so consumers dedupe by it.",
    "schema_version": "Major version of this contract; consumers ignore fields they do not know.",
    "site": "Id of the site (deployment) that produced the alert.",
    "source": "The camera, drone or sensor that saw it; its id is also the record key.",
    "rule": "The fence rule that fired: id, kind (tripwire, intrusion, dwell, ...), severity, version.",
    "started_at": "UTC time the condition began (e.g. entry into a zone).",
    "observed_at": "UTC time of the frame or reading that made the rule fire.",
    "emitted_at": "UTC time the alert was built by the worker.",
    "objects": "Objects involved, in pixel coordinates of the snapshot's frame.",
    "location": "Geographic position when known, and the zone (fence) name.",
    "snapshot": "URI of the annotated snapshot image (file:// for the embedded store).",
    "clip": "Short video around the alert (pre/post seconds) with the track drawn, and the track's "
    "points; the file may appear a few seconds after the alert.",
    "evidence": "Rule-specific facts, e.g. dwell seconds, crossing direction, object count.",
    "media_time": "Seconds from the start of the file, for file and replay input.",
    "drill": "True for an exercise (drill) alert rather than a real event.",
    "lifecycle": "start, update or end of the same alert (same alert_id). Absent means start. "
    "Consumers that do not follow lifecycles may treat update and end as duplicates.",
}


def alert_json_schema() -> dict[str, Any]:
    # Serialization mode: the schema describes the JSON producers write on the topic.
    generated = Alert.model_json_schema(mode="serialization")
    for name, doc in _FIELD_DOCS.items():
        prop = generated["properties"].get(name)
        if prop is not None and "description" not in prop:
            prop["description"] = doc
    generated.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"Lookout Alert v{SCHEMA_VERSION}",
        "description": (
            f"One alert as published on the `{ALERTS_TOPIC}` topic (JSON, UTF-8, record key = "
            "source id). Delivery is at-least-once: dedupe by alert_id. Producers may add fields "
            "within a major version; consumers must ignore fields they do not know."
        ),
        **generated,
    }


def render() -> str:
    return json.dumps(alert_json_schema(), indent=2, sort_keys=False) + "\n"


def write_schema(path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    write_schema(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/alert-v1.schema.json"))
