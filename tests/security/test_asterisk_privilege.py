"""Asterisk least privilege on real Asterisk: the running process is not root,
its folders belong to the Asterisk user and are closed to others, secret config
is 0600, and the server's AMI user can do what the server does and nothing
that rewrites config (UpdateConfig), forges user events or sends messages.
(GetConfig stays possible: it needs `system` or `config`, and `system` is
needed for Filter and MuteAudio; docs/security.md says so.)"""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from tests.support.asterisk_harness import Ami, free_port, new_instance

REPO = Path(__file__).resolve().parents[2]


def proc_ids(pid: int) -> tuple[list[int], list[int]]:
    """(real, effective, saved, fs) uids and gids of a running process (or thread)."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    field = lambda name: [int(x) for x in next(l for l in lines if l.startswith(name + ":")).split()[1:]]  # noqa: E731
    return field("Uid"), field("Gid")


def asterisk_ids(root: Path) -> tuple[int, int]:
    """uid, gid of the `asterisk` user the Debian package made in the root."""
    [entry] = [line.split(":") for line in (root / "etc/passwd").read_text().splitlines()
               if line.startswith("asterisk:")]
    return int(entry[2]), int(entry[3])


@pytest.fixture(scope="module")
def instance():
    inst = new_instance("priv", free_port())
    inst.write_config(instance_files(load_config(REPO / "config.yaml"), "center"))
    inst.start()
    yield inst
    inst.remove()


@pytest.mark.asterisk
def test_asterisk_runs_as_the_asterisk_user_not_root(instance):
    pid = instance.pid()
    assert pid is not None
    uids, gids = proc_ids(pid)
    uid, gid = asterisk_ids(instance.root)
    assert uid != 0 and gid != 0
    assert uids == [uid] * 4, f"asterisk runs with uids {uids}"
    assert gids == [gid] * 4, f"asterisk runs with gids {gids}"
    # every thread too (a module thread started before the drop would keep root)
    threads = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            task_uids = proc_ids(int(task.name))[0]
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        threads += 1
        assert 0 not in task_uids, f"thread {task.name} runs as root"
    assert threads > 1
    # and it works as that user: it wrote its pid file and its astdb
    assert (instance.host / "run" / "asterisk.pid").stat().st_uid == uid
    assert (instance.host / "lib" / "astdb.sqlite3").stat().st_uid == uid


@pytest.mark.asterisk
def test_instance_folders_and_secret_files(instance):
    from ivr.asterisk.instance import STATE_DIRS
    uid, gid = asterisk_ids(instance.root)
    for sub, mode in STATE_DIRS.items():
        st = (instance.host / sub).stat()
        assert (st.st_uid, st.st_gid) == (uid, gid), sub
        assert stat.S_IMODE(st.st_mode) == mode, (sub, oct(st.st_mode))
        if sub in ("lib", "spool", "recordings"):
            assert stat.S_IMODE(st.st_mode) & 0o077 == 0, sub
    etc = instance.host / "etc"
    for name in ("manager.conf", "pjsip.conf", "pjsip_hotline.conf"):
        st = (etc / name).stat()
        assert stat.S_IMODE(st.st_mode) == 0o600, (name, oct(st.st_mode))
        assert st.st_uid == uid, name
    for path in etc.glob("*.conf"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o007 == 0, f"{path.name} is world-readable"
    assert not list(etc.glob(".*.tmp")), "a temp file was left behind"


@pytest.mark.asterisk
def test_manager_conf_grants_only_the_classes_the_server_uses(instance):
    from ivr.asterisk.confgen import AMI_READ, AMI_WRITE
    text = (instance.host / "etc" / "manager.conf").read_text()
    assert f"write = {AMI_WRITE}" in text and f"read = {AMI_READ}" in text
    assert "= all" not in text
    for cls in ("config", "user", "message", "aoc", "test", "security", "cc"):
        assert cls not in AMI_WRITE.split(","), cls


@pytest.mark.asterisk
async def test_the_server_ami_user_cannot_touch_config_but_can_do_its_job(instance):
    ami = await Ami(instance).connect()
    try:
        for action in ({"Action": "UpdateConfig", "SrcFilename": "extensions.conf",
                        "DstFilename": "extensions.conf", "Action-000000": "Append",
                        "Cat-000000": "globals", "Var-000000": "X", "Value-000000": "1"},
                       {"Action": "UserEvent", "UserEvent": "HotlineTransfer", "Channel": "x"},
                       {"Action": "MessageSend", "To": "pjsip:nobody", "Body": "x"}):
            reply = await ami.action(action)
            assert reply.get("Response") == "Error", (action["Action"], dict(reply))
            assert "Permission denied" in reply.get("Message", ""), dict(reply)
        assert "'X'" not in (instance.host / "etc" / "extensions.conf").read_text()
        # what the server and `dialplan apply` send still goes through
        for action in ({"Action": "Command", "Command": "core show uptime seconds"},
                       {"Action": "CoreSettings"},
                       {"Action": "Getvar", "Variable": "HOTLINE_INSTANCE"},
                       {"Action": "QueuePause", "Interface": "PJSIP/nobody", "Paused": "true"},
                       {"Action": "Hangup", "Channel": "PJSIP/nobody-00000000"},
                       {"Action": "Redirect", "Channel": "PJSIP/nobody-00000000", "Context": "x",
                        "Exten": "s", "Priority": "1"}):
            reply = await ami.action(action)
            assert "Permission denied" not in str(reply.get("Message", "")), (action["Action"], dict(reply))
    finally:
        ami.close()
