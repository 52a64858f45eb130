"""Playback in the console through a short-lived signed URL (recordings/signed.py):

    POST /api/recordings/{id}/play-url   (token) the agent who handled the call or a supervisor gets
                                          {"url", "expires", "ttl"}; audited as `play_grant`
    GET  /api/recordings/{id}/stream?... (no token: the signature) the stereo WAV with HTTP Range,
                                          audited as `play` (detail via=signed_url) on every request

Why a separate route and not a signature on /audio: the web's token middleware
lets exactly this path shape through (ivr/web/auth.py, `signed.STREAM_PATH`), and
this handler alone decides, from the signature, who is asking. The permission is
checked twice: when the grant is issued and again on every read (the agent must
still be on the row; a supervisor grant is only issued to a supervisor).
A request with a bad or expired signature writes no audit row (anyone can send
one: no database write for them), it is logged and refused 403.
"""
from __future__ import annotations

import logging
import time

from aiohttp import web

from ivr.web.errors import error_response
from ivr.storage import repo as core
from recordings import http, repo
from recordings.signed import Signer

log = logging.getLogger("recordings.playback")

SIGNER = web.AppKey("recordings_signer", Signer)


async def play_url(request: web.Request) -> web.Response:
    got = await http._allowed(request, "play_grant")
    if isinstance(got, web.Response):
        return got
    _service, row, p = got
    if row["status"] == "deleted":
        return error_response(410, "gone", "录音已按保存期限删除")
    signer = request.app[SIGNER]
    url, expires = signer.url(row["id"], p.agent, p.role, time.time())
    return web.json_response({"url": url, "expires": expires, "ttl": signer.ttl})


async def stream(request: web.Request) -> web.StreamResponse:
    service = http._service(request)
    if isinstance(service, web.Response):
        return service
    pk = http._pk(request)
    if pk is None:
        return error_response(404, "not_found", "no such recording")
    grant, why = request.app[SIGNER].verify(pk, dict(request.query), time.time())
    if grant is None:
        log.warning("signed playback of recording %s refused from %s: %s", pk, request.remote, why)
        return error_response(403, "forbidden", "播放链接已失效，请重新点击播放 (playback link %s)" % why.replace("_", " "))
    row = await service.store.run(repo.get, pk)
    if row is None:
        return error_response(404, "not_found", "no such recording")
    if not (grant.supervisor or grant.agent in row["agents"]):
        await service.store.run(core.log_access, grant.agent, "denied", "recording", row["rec_id"], request.remote,
                                {"purpose": "play", "via": "signed_url"})
        return error_response(403, "forbidden", "只有处理该来电的坐席和班长可以访问此录音")
    await service.store.run(core.log_access, grant.agent, "play", "recording", row["rec_id"], request.remote,
                            {"via": "signed_url", "range": request.headers.get("Range", "")[:64]})
    return http._file(service, row)


def setup(app: web.Application, signer: Signer | None = None) -> None:
    app[SIGNER] = signer or Signer()
    app.router.add_post("/api/recordings/{rec}/play-url", play_url)
    app.router.add_get("/api/recordings/{rec}/stream", stream)
