"""The `route` handler sets every HOTLINE_* variable in one `EXEC MSet`: values
holding MSet's special characters ( ) , = and spaces must arrive in Asterisk
exactly as the plan made them, and no variable may swallow the next one."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from ivr.agi.handlers.route import mset_arguments
from ivr.agi.protocol import MAX_COMMAND_BYTES, quote
from ivr.config.loader import load_config
from ivr.plan.decide import Plan
from tests.support.routing_calls import collect, place

pytestmark = pytest.mark.asterisk

REPO = Path(__file__).resolve().parents[2]
SH = dt.timezone(dt.timedelta(hours=8))
DURING = dt.datetime(2026, 12, 20, 10, 0, tzinfo=SH)
AWKWARD = "市商务局 (直属 a=b) c(d"  # unbalanced "(" would make MSet merge the rest into one value


def awkward_config(tmp_path: Path) -> Path:
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    next(line for line in data["lines"] if line["id"] == "commerce-12312")["department"] = AWKWARD
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def first_values(events: list[dict]) -> dict[str, str]:
    """Each inheritable HOTLINE_* variable as first set: by the route handler (the dialplan may change some later)."""
    out: dict[str, str] = {}
    for e in events:
        if e.get("Event") == "VarSet" and e.get("Variable", "").startswith("__HOTLINE_"):
            out.setdefault(e["Variable"].lstrip("_"), e.get("Value") or "")
    return out


@pytest.mark.parametrize("number", ["12312", "12333"])
async def test_variables_arrive_exactly(number, hotline_server, center_ami, tmp_path):
    path = awkward_config(tmp_path)
    await hotline_server(path, at=DURING)  # FastAGI in its worker process, as in production
    since = len(center_ami.events)
    call = await place(center_ami, number, hold=2)
    await collect(center_ami, [call], settle=2.5, since=since)
    got = first_values(call.events)
    want = Plan(load_config(path)).decide(number, DURING).channel_vars()
    assert {k: got.get(k) for k in want} == want
    assert got["HOTLINE_TICKET"].startswith("T")
    if number == "12333":  # "hrss-expert,30": the expert queue is tried for 30 s (none logged in: at once)
        tried = call.apps("Queue")[0]
        assert tried.startswith("hotline-hrss-expert,") and tried.endswith(",30"), tried


def test_long_values_split_over_several_lines_with_action_last():
    variables = {f"__HOTLINE_V{i}": "市" * 128 for i in range(14)} | {"__HOTLINE_ACTION": "queue"}
    args = mset_arguments(variables)
    assert len(args) > 1
    assert all(len(f"EXEC MSet {quote(a)}\n".encode()) <= MAX_COMMAND_BYTES for a in args)
    assert args[-1].endswith("__HOTLINE_ACTION=queue")
    assert sum(a.count("__HOTLINE_") for a in args) == 15
