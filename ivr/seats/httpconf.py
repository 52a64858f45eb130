"""A city's own http.conf is never overwritten by `hotline dialplan apply --etc`.

Our HTTP server settings (the SIP websocket of browser seats) are rendered as
`http_hotline.conf`; `http.conf` itself is only a one-line stub that includes
it. The stub is written where there is no http.conf yet (the embedded center,
a fresh Asterisk) or where the file is already our stub. A city whose
http.conf is its own (ARI, other websockets, a TLS setup) keeps it untouched,
and the operator is told what to do: Asterisk reads one [general] section, so
two cannot be stacked by #include; the settings are merged by hand.
"""
from __future__ import annotations

from pathlib import Path

OURS = "http_hotline.conf"
STUB_MARK = "; hotline-ivr: http.conf stub"


def stub() -> str:
    return f'{STUB_MARK} (the HTTP server settings are in {OURS})\n#include "{OURS}"\n'


def for_city(files: dict[str, str], etc: Path) -> tuple[dict[str, str], list[str]]:
    """(files to write into `etc`, notes for the operator) — http.conf left out when it is the city's."""
    if "http.conf" not in files:
        return files, []
    current = etc / "http.conf"
    try:
        text = current.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return files, []
    if text.startswith(STUB_MARK):
        return files, []
    kept = {name: body for name, body in files.items() if name != "http.conf"}
    if f'"{OURS}"' in text or f"<{OURS}>" in text:
        return kept, [f"{current}: kept (it includes {OURS})"]
    return kept, [f"{current} is the city's own and was not changed. Browser seats need Asterisk's HTTP server "
                  f"as in {etc / OURS}: put `#include \"{OURS}\"` in {current} if it has no [general] section, "
                  f"otherwise copy enabled/bindaddr/bindport (and tls*) from {OURS} into its [general] by hand; "
                  "then `module reload http`."]
