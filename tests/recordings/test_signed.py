"""Signed playback URLs (recordings/signed.py): bound to the recording, the principal and the expiry."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from recordings.signed import MAX_TTL, Signer

NOW = 1_800_000_000.0


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_a_fresh_url_verifies_until_it_expires():
    s = Signer(ttl=120)
    url, expires = s.url(7, "a1", "agent", NOW)
    assert urlsplit(url).path == "/api/recordings/7/stream" and expires == NOW + 120
    assert "token" not in url
    grant, why = s.verify(7, _query(url), NOW + 119)
    assert why == "" and (grant.rec, grant.agent, grant.supervisor) == (7, "a1", False)
    assert s.verify(7, _query(url), NOW + 120) == (None, "expired")


@pytest.mark.parametrize("change", [{"agent": "a2"}, {"role": "supervisor"}, {"exp": str(int(NOW) + 100000)},
                                    {"sig": "0" * 64}])
def test_any_changed_field_breaks_the_signature(change):
    s = Signer()
    q = _query(s.url(7, "a1", "agent", NOW)[0])
    assert s.verify(7, {**q, **change}, NOW) == (None, "bad_signature")


def test_bound_to_the_recording_and_to_the_process_key():
    s = Signer()
    q = _query(s.url(7, "a1", "agent", NOW)[0])
    assert s.verify(8, q, NOW) == (None, "bad_signature")
    assert Signer().verify(7, q, NOW) == (None, "bad_signature")  # another process (restart)


@pytest.mark.parametrize("q", [{}, {"agent": "a1", "role": "root", "exp": "1", "sig": "0" * 64},
                               {"agent": "a 1", "role": "agent", "exp": "1", "sig": "0" * 64},
                               {"agent": "a1", "role": "agent", "exp": "-1", "sig": "0" * 64},
                               {"agent": "a1", "role": "agent", "exp": "\u00b2", "sig": "0" * 64},
                               {"agent": "a1", "role": "agent", "exp": "1", "sig": "XYZ"}])
def test_malformed_queries_are_refused(q):
    assert Signer().verify(7, q, NOW) == (None, "malformed")


def test_limits():
    with pytest.raises(ValueError):
        Signer(ttl=MAX_TTL + 1)
    with pytest.raises(ValueError):
        Signer().url(7, "a1\n", "agent", NOW)
    with pytest.raises(ValueError):
        Signer().url(7, "a1", "admin", NOW)
