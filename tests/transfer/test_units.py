"""The pure parts of transfers: feature codes, targets, generated config, the call index."""
from __future__ import annotations

import pytest

from ivr.config.loader import load_config
from ivr.seats.asterisk import render_pjsip as render_seats
from tests.conftest import REPO
from transfer.dialplan import agent_ids, render, render_agent_auth
from transfer.features import DIGIT_GAP_S, FeatureAction, FeatureCodes
from transfer.targets import resolve


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "config.yaml", env={})


def _press(codes: FeatureCodes, keys: str, start: float = 0.0, gap: float = 0.3):
    actions = [codes.feed("PJSIP/agent1001-00000001", k, start + i * gap) for i, k in enumerate(keys)]
    return [a for a in actions if a is not None]


def test_feature_codes(config):
    codes = FeatureCodes(config)  # sub-centers: 1 = tax, 2 = tobacco
    assert _press(codes, "*71") == [FeatureAction("transfer", "subcenter", "tax", "threeway")]
    assert _press(codes, "*82") == [FeatureAction("transfer", "subcenter", "tobacco", "blind")]
    assert _press(codes, "*91") == [FeatureAction("transfer", "subcenter", "tax", "attended")]
    assert _press(codes, "*6119") == [FeatureAction("transfer", "emergency", "119", "threeway")]
    assert _press(codes, "*0") == [FeatureAction("cancel")]
    assert _press(codes, "*79") == [] and _press(codes, "*6999") == [] and _press(codes, "71") == []
    assert _press(codes, "12*71") == [FeatureAction("transfer", "subcenter", "tax", "threeway")]
    assert _press(codes, "*7*71") == [FeatureAction("transfer", "subcenter", "tax", "threeway")]
    assert _press(codes, "*71", gap=DIGIT_GAP_S + 0.5) == []   # too slow: not a code


def test_targets(config):
    assert resolve(config, "subcenter", "tax").dial == "PJSIP/12366@subcenter"
    assert resolve(config, "subcenter", "tax").timeout == 30
    fire = resolve(config, "emergency", "fire")
    assert (fire.target, fire.dial, fire.label) == ("119", "Local/119@sim-outside", "消防火警")
    assert resolve(config, "expert", "hrss-expert").queue == "hrss-expert"
    assert resolve(config, "provincial", "").dial == "Local/093112345@sim-outside"
    assert resolve(config, "utility", "09438220002").ref == "utility:09438220002"
    for kind, target in (("subcenter", "nope"), ("emergency", "12345"), ("utility", "110"), ("queue", "x"),
                         ("provincial", "123"), ("fax", "1")):
        with pytest.raises(ValueError):
            resolve(config, kind, target)


def test_generated_config(config):
    files = render(config)
    ext = files["extensions_transfer.conf"]
    for context in ("hotline-xfer-join", "hotline-xfer-leg", "hotline-xfer-answered", "hotline-xfer-direct",
                    "hotline-xfer-rescue", "hotline-xfer-return", "hotline-xfer-return-line", "hotline-agent"):
        assert f"[{context}]" in ext
    # lines with expert seats get them back first; others the general pool
    assert "exten => hrss-12333,1,Set(__HOTLINE_QUEUE=hrss-expert)" in ext
    assert "exten => market-12315" not in ext
    assert agent_ids(config) == ["agent1001", "agent1002", "agent1003", "agent2001", "agent2101"]
    agents = files["pjsip_agents.conf"]
    # every phone must authenticate; the passwords are never in the (committed) generated file
    # agent1001 is a browser seat in the shipped config: its WebRTC endpoint is in pjsip_seats.conf (ivr/seats)
    assert agents.count("type = endpoint") == 4 and agents.count("auth = agent") == 4
    assert "[agent1001]" not in agents and "auth = agent1001-auth" in render_seats(config)
    assert "password" not in agents
    auth, missing = render_agent_auth(config, env={"HOTLINE_AGENT_PASSWORDS": "agent1001=s3cret, bad"})
    assert "[agent1001-auth]" in auth and "password = s3cret" in auth and auth.count("type = auth") == 1
    assert missing == ["agent1002", "agent1003", "agent2001", "agent2101"]
    assert render(config) == files  # deterministic
