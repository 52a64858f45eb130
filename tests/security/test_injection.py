"""No config text becomes dialplan or PJSIP code (issue 11, "No injection, by construction").

Free text (names, labels, departments, notes, prompts) reaches generated files
only as comments through `ivr.config.safe.comment`, so whatever it holds the
rendered statements are byte for byte those of the clean config. Tokens (ids,
trunk names, endpoints, contexts, hosts, members, source networks) have
strict character sets: a value either is refused by the model or leaves the
statement structure (sections, exten/same lines, their applications and
argument counts, object keys) as it was. And the loader turns any file, however
mangled, into a clean config error, never an exception.
"""
from __future__ import annotations

import multiprocessing
import os
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ivr.config.loader import ConfigError, load_config
from ivr.config.model import Config
from ivr.dialplan.build import render
from tests.support.fuzz import cases

REPO = Path(__file__).resolve().parents[2]
SHIPPED = load_config(REPO / "config.yaml")
BASE = SHIPPED.model_dump(mode="json")
for _trunk in BASE["trunks"].values():
    _trunk["match"] = ["127.0.0.1/32"]

PAYLOADS = [
    "x\nexten => 12345,1,System(touch /tmp/pwned)",
    "x\r\n[hotline-inbound]\nexten => _X.,1,System(id)",
    "x\u2028 same => n,System(id)", "x\u0085exten => 1,1,Hangup()", "\x0b\x0c\x1c\x1d\x1e",
    ";-- block comment starts here", "--; ends", "#include /etc/passwd", "[evil](!)",
    "a,b(c)${SHELL(id)}$[1+1]", "\\\nexten => 2,1,Hangup()", "名称\n测试", "\x00\x7f\x9b",
]
TEXT = st.one_of(st.text(max_size=40), st.sampled_from(PAYLOADS),
                 st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS), st.text(max_size=10)))


def statements(files: dict[str, str]) -> dict[str, list[str]]:
    """Every line Asterisk reads as a statement (not blank, not a comment), per file."""
    out = {}
    for name, text in files.items():
        out[name] = [ln.strip() for ln in text.split("\n") if ln.strip() and not ln.strip().startswith(";")]
    return out


def _parts(text: str) -> list[str]:
    """Split at commas outside (...), ${...} and $[...]."""
    depth, cur, parts = 0, "", []
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    return parts + [cur]


def shape(line: str) -> tuple:
    """A statement's structure: its kind, application or key, and argument counts."""
    if line.startswith("["):
        return ("section", line.count("["), line.count("]"), line.endswith("]") or line.endswith("(!)"))
    key, arrow, rhs = line.partition("=>")
    if arrow and key.strip() in ("exten", "same"):
        parts = _parts(rhs.strip())
        app = re.match(r"^([A-Za-z]+)\((.*)\)$", parts[-1] if len(parts) >= 3 else "", re.S)
        return (key.strip(), len(parts), app.group(1) if app else None,
                len(_parts(app.group(2))) if app else None)
    key, eq, value = line.partition("=")
    return ("set", key.strip().rstrip(">").strip(), bool(eq), len(_parts(value)))


def render_all(data: dict, source: str = "config.yaml") -> dict[str, str]:
    return render(Config.model_validate(data), source)


CLEAN = statements(render_all(BASE))
CLEAN_SHAPE = {name: [shape(s) for s in lines] for name, lines in CLEAN.items()}


def test_clean_render_has_the_statements_the_shapes_are_built_from():
    assert any(s.startswith("exten => 12312,1,") for s in CLEAN["extensions_hotline.conf"])
    assert "type = identify" in CLEAN["pjsip_hotline.conf"]
    assert {"extensions_hotline.conf", "queues_hotline.conf", "pjsip_hotline.conf",
            "extensions_transfer.conf", "pjsip_agents.conf"} <= set(CLEAN)


def _free_text_fields(data: dict, draw) -> None:
    h = data["hotline"]
    for key in ("name", "city"):
        h[key] = draw(TEXT)
    for key in ("prompt", "menu_prompt"):
        h["entry"][key] = draw(TEXT)
    for option in h["entry"]["options"].values():
        option["label"] = draw(TEXT)
    for line in data["lines"]:
        for key in ("name", "department", "levels", "notes", "prompt"):
            line[key] = draw(TEXT)
    for item in data["queues"] + data["sub_centers"] + data["utilities"] + [data["provincial"]]:
        item["name"] = draw(TEXT)
    data["emergency"]["numbers"] = {n: draw(TEXT) for n in data["emergency"]["numbers"]}
    data["speech"]["intake_prompt"] = draw(TEXT)


@settings(max_examples=cases(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_free_text_never_changes_a_statement(data):
    import copy

    mutated = copy.deepcopy(BASE)
    _free_text_fields(mutated, data.draw)
    files = render_all(mutated, source=data.draw(TEXT))
    assert statements(files) == CLEAN
    for text in files.values():  # nothing else Asterisk would split on either
        assert not re.search(r"[\r\x00\x0b\x0c\x85\u2028\u2029]", text)


TOKEN_FIELDS = [
    ("trunks", "subcenter", "endpoint"), ("trunks", "subcenter", "host"), ("trunks", "pstn", "context"),
    ("queues", 0, "id"), ("queues", 0, "members", 0), ("lines", 0, "id"), ("sub_centers", 0, "id"),
    ("trunks", "subcenter", "match", 0), ("asterisk", "ami", "username"),
]


def _set(data: dict, path: tuple, value) -> None:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@settings(max_examples=cases(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(TOKEN_FIELDS), value=TEXT)
def test_token_is_refused_or_keeps_the_statement_structure(path, value):
    import copy

    mutated = copy.deepcopy(BASE)
    _set(mutated, path, value)
    try:
        config = Config.model_validate(mutated)
    except ValidationError:
        return  # refused: nothing is rendered from it
    try:
        files = render(config)
    except Exception as exc:  # a dangling reference (queue id changed) is the plan's error, not injection
        assert "not defined" in str(exc), exc
        return
    got = {name: [shape(s) for s in lines] for name, lines in statements(files).items()}
    assert got == CLEAN_SHAPE, (path, value)


@pytest.mark.parametrize("field,value", [
    ("endpoint", "gw,60,G(evil)"), ("endpoint", "gw)"), ("context", "sim-outside\nexten"),
    ("host", "1.2.3.4\n[x]"), ("host", "h;x"), ("endpoint", "a b"),
])
def test_dial_string_parts_are_strict(field, value):
    data = {**BASE, "trunks": {**BASE["trunks"], "pstn": {"type": "local", "context": "sim-outside", field: value}}}
    with pytest.raises(ValidationError, match=field):
        Config.model_validate(data)


def test_control_character_in_a_name_is_a_config_error_with_its_line(tmp_path):
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    evil = text.replace("name: 全国统一民政服务电话", 'name: "民政\\nexten => 12345,1,System(id)"', 1)
    assert evil != text
    path = tmp_path / "config.yaml"
    path.write_text(evil, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    line = evil.splitlines().index('    name: "民政\\nexten => 12345,1,System(id)"') + 1
    assert f"{path}:{line}: lines[4].name [civil-12349]: control character U+000A" in str(err.value)


def test_bad_match_network_is_a_config_error_with_its_line(tmp_path):
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    evil = text.replace('    host: "127.0.0.1:5070"\n', '    host: "127.0.0.1:5070"\n    match: [10.0.0.0/33]\n', 1)
    path = tmp_path / "config.yaml"
    path.write_text(evil, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    line = evil.splitlines().index("    match: [10.0.0.0/33]") + 1
    assert f"{path}:{line}: trunks.subcenter.match[0]: '10.0.0.0/33' is not an IP address" in str(err.value)


JUNK = ["\n", "\x00", "\x1b[31m", "\u2028", ": ", "- ", "{", "}", "[", "]", "&a", "*a", "!!python/object:os.system ",
        "'", '"', "\\", "#", "0x1F", "~", "null", "110", "1e9", "exten => 1,1,System(id)", "名称", "\t", "  "]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + rng.choice(JUNK) + lines[i][j:]
        elif op == 3 and ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ": " + rng.choice(JUNK + [chr(rng.randrange(1, 0x3000))])
        elif op == 4:
            lines[i] = "".join(chr(rng.randrange(0, 0x250)) for _ in range(rng.randrange(1, 30)))
        else:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return "\n".join(lines)


def _load_mangled(args: tuple[str, str]) -> str:
    """One mutated file: "error" (a clean ConfigError at its FILE:LINE) or "loaded" (and it renders safely)."""
    folder, text = args
    path = Path(folder) / f"config-{os.getpid()}.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        config = load_config(path, env={})
    except ConfigError as exc:
        assert exc.problems and all(str(p).startswith(str(path)) for p in exc.problems), str(exc)
        return "error"
    for lines in statements(render(config)).values():
        assert not any("System(" in s for s in lines)
    return "loaded"


FILES = cases(2000)


def test_mangled_config_files_give_clean_errors(tmp_path, capsys):
    """Mutated config files (2,000 at full scale): a ConfigError or a config that renders; no other exception.

    Both cores: parsing YAML with line numbers is most of the cost, and the
    files are independent (any exception in a worker fails the test here).
    """
    source = (REPO / "config.yaml").read_text(encoding="utf-8")
    rng = random.Random(11)
    texts = [(str(tmp_path), _mutate(source, rng)) for _ in range(FILES)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_load_mangled, texts, chunksize=50)
    counts = {"files": len(results), "errors": results.count("error"), "loaded": results.count("loaded")}
    with capsys.disabled():
        print(f"\nconfig fuzz: {counts['files']} files, {counts['errors']} config errors, {counts['loaded']} loaded")
    assert counts["files"] == FILES and counts["errors"] > 0 and counts["errors"] + counts["loaded"] == FILES


@pytest.mark.parametrize("field,value", [("sounds_dir", "hotline&beep"), ("sounds_dir", "hotline,skip"),
                                         ("sounds_dir", "../../etc"), ("instance", "center\n[x]"),
                                         ("instance", "a/b")])
def test_asterisk_names_that_reach_paths_and_prompts_are_strict(field, value):
    data = {**BASE, "asterisk": {**BASE["asterisk"], field: value}}
    with pytest.raises(ValidationError, match=field):
        Config.model_validate(data)
