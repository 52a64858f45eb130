"""`hotline callback add|list|cancel|stats` on a real SQLite database."""
from __future__ import annotations

import json

from ivr.cli import main

CONFIG = """
hotline: {{name: 测试市12345政务服务便民热线, timezone: Asia/Shanghai}}
queues:
  - {{id: general, name: 12345综合座席}}
trunks:
  pstn: {{type: local, context: sim-outside}}
database: {{url: "sqlite:///{db}"}}
callbacks:
  enabled: true
  do_not_call: ["13900000000"]
"""


def run(capsys, config, *argv) -> tuple[int, str, str]:
    code = main(["callback", *argv, "-c", str(config)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_list_cancel_stats(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "h.db"), encoding="utf-8")
    code, out, _ = run(capsys, config, "add", "13912345678", "--ticket", "T20261204-0009", "--json")
    task = json.loads(out)
    assert code == 0 and task["state"] == "pending" and task["ticket"] == "T20261204-0009"
    # Same ticket again: the same task (idempotent), not a second one.
    code, out, _ = run(capsys, config, "add", "13912345678", "--ticket", "T20261204-0009")
    assert code == 0 and out.startswith("已存在")
    code, _, err = run(capsys, config, "add", "13912345678")
    assert code == 1 and "dedupe" in err
    code, _, err = run(capsys, config, "add", "13900000000")
    assert code == 1 and "免打扰" in err
    code, _, err = run(capsys, config, "add", "139-1234;x")
    assert code == 2 and "号码格式错误" in err
    code, out, _ = run(capsys, config, "list")
    assert code == 0 and "139******78" in out and "13912345678" not in out  # masked
    code, out, _ = run(capsys, config, "cancel", str(task["id"]), "--json")
    assert code == 0 and json.loads(out)["state"] == "cancelled"
    code, out, _ = run(capsys, config, "stats", "--json")
    assert code == 0 and json.loads(out)["tasks"] == {"cancelled": 1}
    code, _, err = run(capsys, config, "cancel", "999")
    assert code == 1 and "没有任务" in err


def test_import_checks_every_row_then_adds_idempotently(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "h.db"), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("号码,工单,类型\n13912340001,T1,survey\n1391234000x,T2,survey\n13912340003,T3,robocall\n",
                   encoding="utf-8")
    code, _, err = run(capsys, config, "import", str(bad))
    assert code == 2 and f"{bad}:3: 号码格式错误" in err and f"{bad}:4: unknown flow 'robocall'" in err
    assert "nothing imported" in err
    good = tmp_path / "good.csv"
    good.write_text("number,ticket,campaign\n13912340001,T20261204-0101,w49\n13912340002,T20261204-0102,w49\n"
                    "13900000000,T20261204-0103,w49\n", encoding="utf-8")
    code, out, err = run(capsys, config, "import", str(good), "--json")
    assert code == 0 and json.loads(out) == {"added": 2, "existing": 0, "refused": 1}
    assert f"{good}:4: 未添加：号码在免打扰名单中" in err
    code, out, _ = run(capsys, config, "import", str(good), "--json")  # the same file again: nothing doubles
    assert json.loads(out) == {"added": 0, "existing": 2, "refused": 1}
