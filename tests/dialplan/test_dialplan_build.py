"""`hotline dialplan build`: the committed files match the shipped config, the
output is deterministic, and what it renders is what the plan needs: every
number into the FastAGI route, emergency straight out, the menu, the queues."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ivr.config.loader import load_config
from ivr.dialplan.build import GENERATED, render
from tests.support.plan_fixtures import config_data, make_config

REPO = Path(__file__).resolve().parents[2]
HOTLINE = Path(sys.executable).parent / "hotline"
ROUTE = "Goto(hotline-route,${EXTEN},1)"


def dialplan(text: str) -> dict[str, dict[str, list[str]]]:
    """context -> extension -> its applications in priority order, read from a rendered extensions file."""
    out: dict[str, dict[str, list[str]]] = {}
    context = exten = None
    for line in text.splitlines():
        if m := re.match(r"^\[([^\]]+)\]", line):
            context = m[1]
            out[context] = {}
        elif m := re.match(r"^exten => ([^,]+),1,(.*)$", line):
            exten = m[1]
            out[context][exten] = [m[2]]
        elif m := re.match(r"^ same => n(?:\([^)]*\))?,(.*)$", line):
            out[context][exten].append(m[1])
    return out


def queues(text: str) -> dict[str, dict[str, list[str]]]:
    """queue section -> key -> values (member lines repeat)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = None
    for line in text.splitlines():
        if m := re.match(r"^\[([^\]]+)\]", line):
            section = m[1]
            out[section] = {}
        elif (m := re.match(r"^(\w[\w-]*)\s*=>?\s*(.*)$", line)) and section:
            out[section].setdefault(m[1], []).append(m[2])
    return out


def write_config(data: dict, tmp_path: Path, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def shipped_data() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def test_committed_generated_files_match_the_shipped_config():
    rendered = render(load_config(REPO / "config.yaml"))
    on_disk = {p.name for p in GENERATED.glob("*.conf")}
    hint = "dialplans/generated/ is out of date with config.yaml: run `hotline dialplan build` and commit the result"
    assert on_disk == set(rendered), f"{hint} (files on disk {sorted(on_disk)}, rendered {sorted(rendered)})"
    for name, text in rendered.items():
        assert (GENERATED / name).read_bytes() == text.encode("utf-8"), f"{name}: {hint}"


def test_build_is_byte_identical_across_processes_and_hash_seeds(tmp_path):
    outs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"seed-{seed}"
        proc = subprocess.run([str(HOTLINE), "dialplan", "build", "-c", str(REPO / "config.yaml"), "-o", str(out)],
                              capture_output=True, text=True, timeout=60, env=os.environ | {"PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        outs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outs[0] == outs[1]
    in_process = render(load_config(REPO / "config.yaml"))
    assert outs[0] == {name: text.encode("utf-8") for name, text in in_process.items()}


def test_order_of_yaml_mappings_does_not_change_the_output(tmp_path):
    """Trunks, emergency numbers and menu keys are mappings: their order in the file means nothing."""
    data = shipped_data()
    flipped = shipped_data()
    for path in (("trunks",), ("emergency", "numbers"), ("hotline", "entry", "options")):
        node = flipped
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = dict(reversed(list(node[path[-1]].items())))
    assert list(flipped["trunks"]) != list(data["trunks"])
    a = render(load_config(write_config(data, tmp_path, "a.yaml")))
    b = render(load_config(write_config(flipped, tmp_path, "b.yaml")))
    assert a == b


@pytest.mark.parametrize("source", ["shipped", "yancheng", "fixture"])
def test_every_number_and_alias_enters_the_route(source):
    config = {"shipped": lambda: load_config(REPO / "config.yaml"),
              "yancheng": lambda: load_config(REPO / "tests/data/yancheng.yaml"),
              "fixture": make_config}[source]()
    inbound = dialplan(render(config)["extensions_hotline.conf"])["hotline-inbound"]
    wanted = [config.hotline.number]
    for line in config.lines:
        wanted += line.numbers + line.aliases
    for sc in config.sub_centers:
        wanted += sc.numbers
    missing = [n for n in wanted if inbound.get(n.replace("-", "")) != [ROUTE]]
    assert not missing, f"not routed through FastAGI in hotline-inbound: {missing}"
    # unknown numbers are routed too (the plan sends them to the general queue)
    assert inbound["_X."] == [ROUTE]
    if source == "fixture":  # the fixture has aliases and an extension number: make sure they were checked
        assert {"12312", "12330", "12331", "883486661"} <= set(inbound)


@pytest.mark.parametrize("trunk", [{"type": "local", "context": "sim-outside"}, {"type": "pjsip", "endpoint": "city-gw"}])
def test_emergency_numbers_dial_the_emergency_trunk_without_agi(trunk):
    data = config_data()
    data["trunks"]["emergency"] = trunk
    data["emergency"] = {"trunk": "emergency", "numbers": {"110": "公安报警", "119": "消防火警", "120": "医疗急救", "122": "交通事故"}}
    config = make_config(data)
    plan = dialplan(render(config)["extensions_hotline.conf"])
    prefix = "Local/{n}@sim-outside" if trunk["type"] == "local" else "PJSIP/{n}@city-gw"
    for number in ("110", "119", "120", "122"):
        apps = plan["hotline-inbound"][number]
        assert f"Dial({prefix.format(n=number)})" in apps, apps
        assert not any(a.startswith(("AGI", "EAGI", "Goto(hotline-route")) for a in apps), apps
        assert "Set(__HOTLINE_MODE=emergency)" in apps


def test_menu_renders_every_option_and_the_default():
    config = make_config(config_data(
        menu=True, timeout=7, default="queue:fund-expert",
        options={"1": {"label": "市级业务", "target": "queue:general"},
                 "2": {"label": "省级业务", "target": "trunk:pstn/093112345"},
                 "3": {"label": "公积金", "target": "queue:fund-expert"},
                 "9": {"label": "结束", "target": "hangup"}}))
    text = render(config)["extensions_hotline.conf"]
    menu = dialplan(text)["hotline-act-menu"]
    assert set(menu) == {"s", "1", "2", "3", "9", "t", "i"}
    assert menu["s"][-3:] == ["Background(hotline/welcome)", "Background(hotline/menu)", "WaitExten(7)"]
    assert menu["1"] == ["Set(__HOTLINE_MENU=1)", "Set(__HOTLINE_QUEUE=general)", "Set(HOTLINE_OVERFLOW=)",
                         "Goto(hotline-queue,s,1)"]
    assert menu["2"] == ["Set(__HOTLINE_MENU=2)", "Set(HOTLINE_DIAL=Local/093112345@sim-outside)",
                         "Goto(hotline-act-forward,s,dial)"]
    assert "Set(HOTLINE_OVERFLOW=general,45)" in menu["3"]
    assert menu["9"] == ["Set(__HOTLINE_MENU=9)", "Hangup()"]
    for key in ("t", "i"):  # no key / a wrong key: the configured default
        assert menu[key] == ["Set(__HOTLINE_QUEUE=fund-expert)", "Set(HOTLINE_OVERFLOW=general,45)",
                             "Goto(hotline-queue,s,1)"]
    for label in ("市级业务", "省级业务", "公积金", "结束"):
        assert f"; {label}\n" in text


def test_every_action_the_plan_can_take_has_its_context():
    plan = dialplan(render(load_config(REPO / "config.yaml"))["extensions_hotline.conf"])
    for action in ("queue", "prompt_then_forward", "prompt_then_hangup", "not_in_service", "forward",
                   "department", "passthrough", "menu"):
        assert "s" in plan.get(f"hotline-act-{action}", {}), f"hotline-act-{action} missing"
    assert "s" in plan["hotline-failsafe"]


@pytest.mark.parametrize("source", ["shipped", "yancheng"])
def test_expert_queues_leave_when_empty_and_general_always_takes_callers(source):
    config = load_config(REPO / ("config.yaml" if source == "shipped" else "tests/data/yancheng.yaml"))
    rendered = queues(render(config)["queues_hotline.conf"])
    assert set(rendered) == {f"hotline-{q.id}" for q in config.queues}
    experts = [q for q in config.queues if q.overflow_after is not None]
    assert experts, "the config should have expert queues to check"
    for q in config.queues:
        section = rendered[f"hotline-{q.id}"]
        # browser seats are dynamic members: they join by 签入 (ivr/seats/service.py)
        assert section.get("member", []) == [m for m in q.members if m.partition("/")[2] not in config.webrtc.agents]
        assert section["strategy"] == [q.strategy]
        if q in experts:
            # nobody there: leave at once so the dialplan overflows to the general pool
            assert section["leavewhenempty"] != ["no"] and "unavailable" in section["leavewhenempty"][0]
            assert section["joinempty"] != ["yes"] and "unavailable" in section["joinempty"][0]
        else:
            assert section["joinempty"] == ["yes"], q.id
            assert section["leavewhenempty"] == ["no"], q.id
    assert rendered["hotline-general"]["joinempty"] == ["yes"]

