"""`dialplan apply --etc` and a city's http.conf: ours goes in http_hotline.conf; the city's
http.conf is never replaced, and the operator is told what to merge. (Every browser-seat
test runs Asterisk with the http.conf stub including http_hotline.conf: tests/seats/conftest.py.)"""
from __future__ import annotations

from ivr.config.loader import load_config
from ivr.dialplan.build import render
from ivr.seats.httpconf import for_city, stub
from tests.conftest import REPO


def _files():
    files = render(load_config(REPO / "config.yaml"))
    assert files["http.conf"] == stub() and "bindport = 8088" in files["http_hotline.conf"]
    return files


def test_a_fresh_asterisk_gets_the_stub(tmp_path):
    files, notes = for_city(_files(), tmp_path)
    assert files["http.conf"] == stub() and "http_hotline.conf" in files and notes == []


def test_our_own_stub_is_rewritten(tmp_path):
    (tmp_path / "http.conf").write_text(stub())
    files, notes = for_city(_files(), tmp_path)
    assert "http.conf" in files and notes == []


def test_a_city_http_conf_is_kept_and_the_operator_told(tmp_path):
    city = "[general]\nenabled = yes\nbindport = 8088\n; ARI lives here\n"
    (tmp_path / "http.conf").write_text(city)
    files, notes = for_city(_files(), tmp_path)
    assert "http.conf" not in files and "http_hotline.conf" in files
    assert len(notes) == 1 and "not changed" in notes[0] and '#include "http_hotline.conf"' in notes[0]
    assert (tmp_path / "http.conf").read_text() == city


def test_a_city_http_conf_that_includes_ours_is_kept_quietly(tmp_path):
    (tmp_path / "http.conf").write_text('[general]\n#include "http_hotline.conf"\n')
    files, notes = for_city(_files(), tmp_path)
    assert "http.conf" not in files and notes == [f"{tmp_path / 'http.conf'}: kept (it includes http_hotline.conf)"]
