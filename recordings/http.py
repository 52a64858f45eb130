"""HTTP routes of recordings/, behind the web's token middleware:

    GET  /api/recordings[?call=ID]           metadata: an agent sees the recordings of calls they handled,
                                              a supervisor all (newest first)
    GET  /api/recordings/{id}                one recording's metadata (same rule), with its QA for supervisors
    GET  /api/recordings/{id}/audio          the stereo WAV, streamed with HTTP Range (the browser seeks):
                                              the agent who handled the call and supervisors
    GET  /api/recordings/{id}/download       the same file as an attachment: supervisors only
    GET  /api/qa[?limit=N]                   quality-inspection scores: supervisors only
    POST /api/recordings/{id}/qa/override    {"score": 0-100, "note": "..."}: a human grader's score, supervisors

Every read of a recording (metadata, audio, download, QA) writes an audit row
(ivr.storage.repo.log_recording_read / log_access), and so does every refusal.
`{id}` is the row's number; nothing from the request reaches a path: the file
name comes from the database row, itself checked by recordings/files.py.
"""
from __future__ import annotations

import logging

from aiohttp import web

from ivr.storage import repo as core
from ivr.web.errors import error_response as _error
from ivr.web.keys import SERVICES
from ivr.web.auth import principal_of
from recordings import files, repo

log = logging.getLogger("recordings.http")


def _service(request: web.Request):
    service = request.app[SERVICES].recordings
    if service is None:
        return _error(503, "unavailable", "录音未启用 (recordings.enabled is false)")
    return service


def _pk(request: web.Request) -> int | None:
    raw = request.match_info["rec"]
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


async def _allowed(request: web.Request, purpose: str, *, supervisor_only: bool = False):
    """(service, row, principal) when the caller may read recording {rec} for `purpose`; else the error response.

    The read (or the refusal) is audited here, before any byte is sent."""
    service = _service(request)
    if isinstance(service, web.Response):
        return service
    p = principal_of(request)
    pk = _pk(request)
    row = None if pk is None else await service.store.run(repo.get, pk)
    if row is None:
        return _error(404, "not_found", "no such recording")
    ok = p.supervisor or (not supervisor_only and p.agent in row["agents"])
    if not ok:
        await service.store.run(core.log_access, p.agent, "denied", "recording", row["rec_id"], request.remote,
                                {"purpose": purpose})
        log.warning("%s was refused recording %s (%s)", p.agent, row["id"], purpose)
        return _error(403, "forbidden", "只有处理该来电的坐席和班长可以访问此录音" if not supervisor_only
                      else "下载/导出录音需要班长权限")
    await service.store.run(core.log_recording_read, p.agent, row["rec_id"], request.remote, purpose)
    return service, row, p


async def listing(request: web.Request) -> web.Response:
    service = _service(request)
    if isinstance(service, web.Response):
        return service
    p = principal_of(request)
    call = request.query.get("call")
    if call is not None and not files.ID_RE.match(call):
        return _error(400, "bad_request", "malformed call id")
    if call:
        rows = [r for r in await service.store.run(repo.for_call, call) if p.supervisor or p.agent in r["agents"]]
    else:
        rows = await service.store.run(repo.listing, agent=None if p.supervisor else p.agent)
    await service.store.run(core.log_access, p.agent, "list", "recording", None, request.remote,
                            {"count": len(rows), "call": call, "ids": [r["rec_id"] for r in rows][:100]})
    return web.json_response({"recordings": rows})


async def one(request: web.Request) -> web.Response:
    got = await _allowed(request, "metadata")
    if isinstance(got, web.Response):
        return got
    service, row, p = got
    if p.supervisor:
        row = {**row, "qa": await service.store.run(repo.get_qa, row["id"])}
    return web.json_response(row)


def _file(service, row: dict) -> web.StreamResponse:
    if row["status"] == "deleted":
        return _error(410, "gone", "录音已按保存期限删除")
    path = files.parts(service.folder, row["rec_id"]).stereo
    if not path.is_file():
        return _error(404, "not_found", "recording file missing")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


async def audio(request: web.Request) -> web.StreamResponse:
    got = await _allowed(request, "play")
    if isinstance(got, web.Response):
        return got
    service, row, _p = got
    return _file(service, row)


async def download(request: web.Request) -> web.StreamResponse:
    got = await _allowed(request, "download", supervisor_only=True)
    if isinstance(got, web.Response):
        return got
    service, row, _p = got
    resp = _file(service, row)
    if isinstance(resp, web.FileResponse):
        resp.headers["Content-Disposition"] = f'attachment; filename="{row["file"]}"'
    return resp


async def qa_listing(request: web.Request) -> web.Response:
    service = _service(request)
    if isinstance(service, web.Response):
        return service
    p = principal_of(request)
    if not p.supervisor:
        return _error(403, "forbidden", "质检结果需要班长权限")
    raw = request.query.get("limit", "100")
    limit = int(raw) if raw.isdigit() and 0 < int(raw) <= 1000 else 100
    rows = await service.store.run(repo.qa_listing, limit)
    await service.store.run(core.log_access, p.agent, "qa_list", "recording", None, request.remote,
                            {"count": len(rows)})
    return web.json_response({"scores": rows})


async def override(request: web.Request) -> web.Response:
    got = await _allowed(request, "qa_override", supervisor_only=True)
    if isinstance(got, web.Response):
        return got
    service, row, p = got
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "the body must be JSON")
    score, note = (body.get("score"), body.get("note", "")) if isinstance(body, dict) else (None, None)
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
        return _error(400, "bad_request", "score must be an integer 0..100")
    if not isinstance(note, str) or len(note) > 500:
        return _error(400, "bad_request", "note must be a string of at most 500 characters")
    result = await service.store.run(repo.override, row["id"], p.agent, score, note, service.clock(), request.remote)
    return web.json_response(result) if result else _error(409, "not_scored", "this recording has no QA score yet")


def setup(app: web.Application) -> None:
    app.router.add_get("/api/recordings", listing)
    app.router.add_get("/api/recordings/{rec}", one)
    app.router.add_get("/api/recordings/{rec}/audio", audio)
    app.router.add_get("/api/recordings/{rec}/download", download)
    app.router.add_post("/api/recordings/{rec}/qa/override", override)
    app.router.add_get("/api/qa", qa_listing)
