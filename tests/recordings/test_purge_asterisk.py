"""Retention: the purge deletes only expired recordings, each deletion audited."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.storage import repo as core
from recordings import repo
from recordings.models import Recording
from recordings.service import purge

pytestmark = pytest.mark.asterisk


def _age(session, rec_pk: int, days: int) -> None:
    """As if the recording had been made `days` ago (its expiry moves back with it)."""
    rec = session.get(Recording, rec_pk)
    rec.expires_at -= dt.timedelta(days=days)


async def test_purge_removes_only_expired(reclab, recorded):
    store = reclab.server.services.store
    _call, _agent, kept = recorded
    old_call, _ = await reclab.call(hold=1)
    old = await reclab.row_for(old_call)
    old_path, kept_path = reclab.folder / old["file"], reclab.folder / kept["file"]
    assert old_path.is_file()
    await store.run(_age, old["id"], 31)  # retention_days: 30

    gone = await purge(store, reclab.folder, dt.datetime.now(dt.timezone.utc))

    assert gone == [old["rec_id"]]
    assert not old_path.exists() and kept_path.is_file()
    assert (await store.run(repo.get, old["id"]))["status"] == "deleted"
    assert (await store.run(repo.get, kept["id"]))["status"] == "ok"
    audit = await store.run(core.audit_entries, record_type="recording", record_id=old["rec_id"])
    deletions = [a for a in audit if a["action"] == "delete"]
    assert len(deletions) == 1 and deletions[0]["actor"] == repo.PURGE_ACTOR
    assert deletions[0]["detail"]["sha256"] == old["sha256"]
    assert not [a for a in await store.run(core.audit_entries, record_type="recording", record_id=kept["rec_id"])
                if a["action"] == "delete"]
    # a second run finds nothing more to delete
    assert await purge(store, reclab.folder, dt.datetime.now(dt.timezone.utc)) == []
    async with reclab.http("sup") as http:
        async with http.get(f"/api/recordings/{old['id']}/audio") as resp:
            assert resp.status == 410
