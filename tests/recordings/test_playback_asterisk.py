"""Signed playback URLs on a real recorded call: granted with the token (audited), played without it
with Range (audited on every read), refused when expired, tampered, or pointed at another recording."""
from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import pytest

from ivr.storage import repo as core
from recordings.playback import SIGNER

pytestmark = pytest.mark.asterisk


async def _audit(reclab, rec_id: str) -> list[dict]:
    return await reclab.server.services.store.run(core.audit_entries, record_type="recording", record_id=rec_id)


def _anon(reclab) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(f"http://127.0.0.1:{reclab.web_port}")


async def _grant(reclab, agent: str, rec: int) -> tuple[int, dict]:
    async with reclab.http(agent) as http:
        async with http.post(f"/api/recordings/{rec}/play-url") as resp:
            return resp.status, await resp.json()


def _with(url: str, **changes) -> str:
    parts = urlsplit(url)
    return parts.path + "?" + urlencode({**dict(parse_qsl(parts.query)), **changes})


async def test_signed_url_plays_with_range_and_is_audited(reclab, recorded):
    _call, _agent, row = recorded
    data = (reclab.folder / row["file"]).read_bytes()
    status, grant = await _grant(reclab, "a1", row["id"])
    assert status == 200 and "token" not in grant["url"] and grant["expires"] - time.time() <= grant["ttl"]
    async with _anon(reclab) as anon:  # no Authorization: the signature is the permission
        async with anon.get(grant["url"], headers={"Range": "bytes=44-1043"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 44-1043/{len(data)}"
            assert resp.headers["Content-Type"] == "audio/wav"
            assert await resp.read() == data[44:1044]
        async with anon.get(grant["url"]) as resp:  # reusable until it expires (the browser seeks)
            assert resp.status == 200 and await resp.read() == data
    mine = [a for a in await _audit(reclab, row["rec_id"]) if a["actor"] == "a1"]
    assert any(a["action"] == "play_grant" for a in mine)
    signed = [a for a in mine if a["action"] == "play" and a["detail"].get("via") == "signed_url"]
    assert len(signed) >= 2 and "bytes=44-1043" in [a["detail"]["range"] for a in signed]


async def test_only_who_may_play_gets_a_url(reclab, recorded):
    _call, _agent, row = recorded
    status, _ = await _grant(reclab, "a2", row["id"])
    assert status == 403
    assert ("a2", "denied") in {(a["actor"], a["action"]) for a in await _audit(reclab, row["rec_id"])}
    status, grant = await _grant(reclab, "sup", row["id"])
    assert status == 200 and "role=supervisor" in grant["url"]
    async with _anon(reclab) as anon:
        async with anon.get(grant["url"], headers={"Range": "bytes=0-3"}) as resp:
            assert resp.status == 206 and await resp.read() == b"RIFF"
    async with reclab.http("a1") as http:
        async with http.post("/api/recordings/999999/play-url") as resp:
            assert resp.status == 404


async def test_tampered_expired_or_moved_urls_are_refused(reclab, recorded):
    _call, _agent, row = recorded
    _status, grant = await _grant(reclab, "a1", row["id"])
    url = grant["url"]
    other = url.replace(f"/recordings/{row['id']}/", f"/recordings/{row['id'] + 1}/")
    sig = dict(parse_qsl(urlsplit(url).query))["sig"]
    signer = reclab.web_app[SIGNER]
    expired, _ = signer.url(row["id"], "a1", "agent", time.time() - signer.ttl - 1)  # rightly signed, too old
    before = len(await _audit(reclab, row["rec_id"]))
    async with _anon(reclab) as anon:
        for bad in (other, _with(url, sig=("1" if sig[0] != "1" else "2") + sig[1:]), _with(url, agent="a2"),
                    _with(url, role="supervisor"), _with(url, exp=str(grant["expires"] + 60)), expired,
                    urlsplit(url).path, _with(url, sig="")):
            async with anon.get(bad, headers={"Range": "bytes=0-3"}) as resp:
                assert resp.status == 403, bad
                assert b"RIFF" not in await resp.read()
        for path in ("/audio", "/streamx", "/stream/x", ""):  # only the signed route skips the token
            async with anon.get(url.replace("/stream", path)) as resp:
                assert resp.status == 401, path
    assert len(await _audit(reclab, row["rec_id"])) == before  # refused before any read: nothing was played


async def test_a_grant_is_bound_to_the_principal_on_every_read(reclab, recorded):
    """A URL signed for an agent who is not on the row (forged with the server's own key) reads nothing."""
    _call, _agent, row = recorded
    signer = reclab.web_app[SIGNER]
    url, _ = signer.url(row["id"], "a2", "agent", time.time())
    async with _anon(reclab) as anon:
        async with anon.get(url) as resp:
            assert resp.status == 403
    denied = [a for a in await _audit(reclab, row["rec_id"]) if a["actor"] == "a2" and a["action"] == "denied"]
    assert any(a["detail"].get("via") == "signed_url" for a in denied)
