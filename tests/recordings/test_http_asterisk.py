"""Playback over HTTP: Range streaming for the agent who handled the call and supervisors, every read audited."""
from __future__ import annotations

import pytest

from ivr.storage import repo as core

pytestmark = pytest.mark.asterisk


async def _audit(reclab, rec_id: str) -> list[dict]:
    return await reclab.server.services.store.run(core.audit_entries, record_type="recording", record_id=rec_id)


async def test_range_request_by_the_agent_who_handled_it(reclab, recorded):
    _call, _agent, row = recorded
    data = (reclab.folder / row["file"]).read_bytes()
    async with reclab.http("a1") as http:
        async with http.get(f"/api/recordings/{row['id']}/audio", headers={"Range": "bytes=1000-1999"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
            assert resp.headers["Content-Type"] == "audio/wav"
            assert await resp.read() == data[1000:2000]
    plays = [a for a in await _audit(reclab, row["rec_id"]) if a["actor"] == "a1" and a["action"] == "play"]
    assert plays, "the agent's playback was not audited"


async def test_another_agent_is_refused_and_audited(reclab, recorded):
    _call, _agent, row = recorded
    async with reclab.http("a2") as http:
        for path in ("audio", "download"):
            async with http.get(f"/api/recordings/{row['id']}/{path}") as resp:
                assert resp.status == 403
        async with http.get("/api/recordings") as resp:
            assert row["id"] not in [r["id"] for r in (await resp.json())["recordings"]]
    denied = [a for a in await _audit(reclab, row["rec_id"]) if a["actor"] == "a2"]
    assert [a["action"] for a in denied] == ["denied", "denied"]


async def test_download_is_for_supervisors_only(reclab, recorded):
    _call, _agent, row = recorded
    data = (reclab.folder / row["file"]).read_bytes()
    async with reclab.http("a1") as http:
        async with http.get(f"/api/recordings/{row['id']}/download") as resp:
            assert resp.status == 403
    async with reclab.http("sup") as http:
        async with http.get(f"/api/recordings/{row['id']}/download") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Disposition"] == f'attachment; filename="{row["file"]}"'
            assert await resp.read() == data
        async with http.get(f"/api/recordings/{row['id']}/audio") as resp:
            assert resp.status == 200 and await resp.read() == data
    actions = {(a["actor"], a["action"]) for a in await _audit(reclab, row["rec_id"])}
    assert {("a1", "denied"), ("sup", "download"), ("sup", "play")} <= actions


async def test_no_token_no_recording(reclab, recorded):
    import aiohttp

    _call, _agent, row = recorded
    async with aiohttp.ClientSession(f"http://127.0.0.1:{reclab.web_port}") as http:
        async with http.get(f"/api/recordings/{row['id']}/audio") as resp:
            assert resp.status == 401
