"""The one validator for config text that reaches generated files, dial strings, AMI and AGI.

Two kinds of config strings exist:

- *tokens* (ids, trunk names, PJSIP endpoints, dialplan contexts, hosts,
  queue member interfaces, source addresses): they become part of a
  statement (`[section]`, `Dial(PJSIP/<n>@<endpoint>,...)`, `member => ...`),
  so each kind has a strict character set with no separator of any syntax
  it lands in (no `,` `(` `)` `$` `;` `[` `]` `=` `>`, spaces or line breaks);
- *free text* (names, labels, departments, notes, prompts): it only ever
  reaches a generated file as a comment, through `comment()`, which cannot
  end the line it starts.

Control characters anywhere in a config file are an error with FILE:LINE
(`control_problems`, run by `ivr.config.check` on the raw YAML data), so a
wrapped table cell or a smuggled line break is caught before anything is
rendered; `comment()` neutralises them again for a `Config` built in code.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any, Iterator

from ivr.config.problems import Path

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TRUNK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# PJSIP endpoint / section names and dialplan context names.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
# A host name or IPv4 address, optionally :port (generated `contact = sip:<host>`).
HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::\d{1,5})?$")
# Queue members: PJSIP/agent1001, Local/1001@agents/n.
MEMBER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*/[A-Za-z0-9_.@-]+(/n)?$")
# A folder under Asterisk's sounds (it prefixes prompt names in Playback()).
SOUNDS_RE = re.compile(r"^[A-Za-z0-9_./-]{1,200}$")
NAME_CHARS = "letters, digits, '.', '-' and '_' (at most 80)"


def control_chars(text: str) -> list[str]:
    """The control / line-break characters in `text`, as U+XXXX."""
    return sorted({f"U+{ord(c):04X}" for c in text if _is_control(c)})


def _is_control(c: str) -> bool:
    # Cc: C0/C1 controls incl. \n \r \t \x85; Zl/Zp: U+2028/U+2029 line and paragraph separators.
    return unicodedata.category(c) in ("Cc", "Zl", "Zp")


def comment(text: object) -> str:
    """One generated-file comment line for free text: '; <text>' that cannot end early.

    Control and line-break characters become spaces, so the text cannot start a new
    statement; it always follows '; ', so Asterisk reads the rest of the line as a
    comment (a ';--' inside is not a block comment once a line comment has begun).
    Invisible format characters (Cf: bidi overrides, zero-width) go too, so the
    comment an operator reads in a diff is the text that is there.
    """
    flat = "".join(" " if _is_control(c) or unicodedata.category(c) == "Cf" else c for c in str(text))
    return f"; {flat.strip()}\n"


def name_error(value: object, what: str) -> str | None:
    """Why `value` cannot be a PJSIP endpoint / dialplan context name, or None."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        return f"{what} {value!r} may use only {NAME_CHARS}"
    return None


def host_error(value: object) -> str | None:
    if not isinstance(value, str) or not HOST_RE.match(value) or ".." in value:
        return f"host {value!r} must be a host name or IPv4 address, optionally :port"
    port = value.rpartition(":")[2] if ":" in value else None
    if port is not None and not 1 <= int(port) <= 65535:
        return f"host {value!r}: port must be 1-65535"
    return None


def network_error(value: object) -> str | None:
    """Why `value` is not an IP address or CIDR network (for `identify` match), or None."""
    if not isinstance(value, str):
        return f"{value!r} is not an IP address or network like 192.0.2.10 or 192.0.2.0/24"
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return f"{value!r} is not an IP address or network like 192.0.2.10 or 192.0.2.0/24"
    return None


def member_error(value: object) -> str | None:
    if not isinstance(value, str) or not MEMBER_RE.match(value):
        return f"member {value!r} is not an interface like PJSIP/agent1001"
    return None


def check_name(value: str | None, what: str) -> str | None:
    """Pydantic validator body: raise ValueError with the shared reason."""
    if value is not None and (reason := name_error(value, what)):
        raise ValueError(reason)
    return value


def walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every string in the raw config data, keys included, with its path."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield path + (key,), key
            yield from walk(value, path + (key,) if isinstance(key, (str, int)) else path)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from walk(value, path + (i,))


def control_problems(data: Any, secret: tuple[Path, ...] = ()) -> list[tuple[Path, str]]:
    """(path, reason) for every config string with a control character."""
    out = []
    for path, text in walk(data):
        bad = control_chars(text)
        if bad:
            hidden = any(path[: len(s)] == s for s in secret)
            shown = "" if hidden else f" {text[:40]!r}"
            out.append((path, f"control character {', '.join(bad)} in text{shown}: "
                              "line breaks and control characters are not allowed (use one line)"))
    return out


def trunk_name_error(value: object) -> str | None:
    if not isinstance(value, str) or not TRUNK_NAME_RE.match(value):
        return f"trunk name {value!r} may use only letters, digits, '-' and '_'"
    return None
