"""Score ticket drafting against a labelled set of phone utterances.

A row is {"text", and any of: "emergency_target" (+ "also"), "department",
"category", "out_of_scope"}; a field a row does not label is not scored on
it (an emergency is handed over, so its department is not asked). Figures:
emergency recall (right number: handed over, or shown to the agent as
可能紧急，请核实 with that number), the part handed over at once and the part
only the trained classifier alerted (`"by": "model"`), false
alarms over the rows that are no emergency (and the parts handed over and by the model),
department and category accuracy, out-of-scope recall and false flags. Used by tests/speech/ and by `hotline ticket eval`.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ivr.config.model import Config
from ivr.tickets.draft import draft_ticket
from ivr.tickets.possible import hands_over

AT = dt.datetime(2024, 11, 20, 10, 0)  # a Wednesday morning, hotline time


def load_rows(path: str | Path) -> list[dict]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate(rows: list[dict], config: Config) -> dict:
    """Figures for one set, with every miss spelled out."""
    n = {k: 0 for k in ("emergencies", "caught", "handed_over", "by_model", "model_alarms", "ordinary", "alarms_handed_over", "false_alarms", "harmless", "harmless_alarms",
                        "department", "department_right", "category", "category_right", "oos", "oos_right",
                        "oos_false")}
    misses: list[str] = []
    for row in rows:
        d = draft_ticket(row["text"], config, at=AT)
        got = d.emergency["target"] if d.emergency else None
        want = row.get("emergency_target")
        if want:
            n["emergencies"] += 1
            if got == want and set(row.get("also", ())) <= set(d.emergency.get("also", ())):
                n["caught"] += 1
                n["handed_over"] += hands_over(d.emergency)
                if d.emergency.get("by") == "model":
                    n["by_model"] += 1
                    misses.append(f"alerted by the model only: {d.emergency['reason']} | {row['text']}")
            else:
                misses.append(f"emergency: got {got} {d.emergency and d.emergency.get('also')} want {want} | {row['text']}")
            continue
        n["ordinary"] += 1
        n["harmless"] += bool(row.get("harmless"))
        if got:
            n["false_alarms"] += 1
            n["alarms_handed_over"] += hands_over(d.emergency)
            n["model_alarms"] += d.emergency.get("by") == "model"
            n["harmless_alarms"] += bool(row.get("harmless"))
            misses.append(f"false alarm: {d.emergency['kind']} {d.emergency['phrase']!r} | {row['text']}")
        for field in ("department", "category"):
            if field in row:
                n[field] += 1
                if getattr(d, field) == row[field]:
                    n[f"{field}_right"] += 1
                else:
                    misses.append(f"{field}: got {getattr(d, field)} want {row[field]} | {row['text']}")
        if row.get("out_of_scope"):
            n["oos"] += 1
            n["oos_right"] += d.out_of_scope
            if not d.out_of_scope:
                misses.append(f"out_of_scope missed | {row['text']}")
        elif d.out_of_scope:
            n["oos_false"] += 1
            misses.append(f"out_of_scope flagged ({d.out_of_scope_reason}) | {row['text']}")
    return {
        "utterances": len(rows),
        "emergencies": n["emergencies"],
        "emergency_recall": _ratio(n["caught"], n["emergencies"]),
        "emergency_recall_handed_over": _ratio(n["handed_over"], n["emergencies"]),
        "emergencies_alerted_by_model": n["by_model"],   # only the trained vote saw them (ivr.tickets.classifier)
        "false_alarm_rate": _ratio(n["false_alarms"], n["ordinary"]),
        "false_alarms": n["false_alarms"],
        "false_alarms_handed_over": n["alarms_handed_over"],
        "false_alarms_by_model": n["model_alarms"],
        "harmless_mentions": n["harmless"],
        "harmless_alarms": n["harmless_alarms"],
        "department_accuracy": _ratio(n["department_right"], n["department"]),
        "category_accuracy": _ratio(n["category_right"], n["category"]),
        "out_of_scope_recall": _ratio(n["oos_right"], n["oos"]),
        "out_of_scope_false_flags": n["oos_false"],
        "misses": misses,
    }
