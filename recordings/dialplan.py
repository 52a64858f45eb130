"""The `hotline-record` subroutine: MixMonitor on the caller's channel, caller and agent apart.

The core dialplan (ivr/dialplan/templates.py, transfer/dialplan.py) calls
`GosubIf(${DIALPLAN_EXISTS(hotline-record,s,1)}?hotline-record,s,1(<kind>))`
right before each Queue() and Dial() that reaches a person (kind: queue,
forward, direct); the context exists only when `recordings.enabled`, so with
recording off the hook is a no-op. The subroutine records once per channel
(a caller who overflows to the pool or comes back from a failed transfer keeps
the recording it has), skips opted-out lines and queues, and names the files
by call id: `<folder>/<linkedid>-<uniqueid>.caller.wav` (what the caller
says: MixMonitor r()) and `.agent.wav` (what the caller hears: t(), the
agent, an expert, a sub-center, everyone a transfer adds). The `b` option
keeps only bridged audio, so second 0 of the files is the moment someone
answered. Ids are checked against ^[0-9A-Za-z._-]+$ before they touch a path;
the folder is a config value checked by the model (absolute, safe characters).
UserEvent(HotlineRecording) tells the server (recordings/service.py) which
files belong to which channel; the server reads them once they are closed.
"""
from __future__ import annotations

from ivr.config.model import Config
from ivr.dialplan.build import header

CONTEXT = "hotline-record"
SKIP_CONTEXT = "hotline-record-skip"
NOTICE_PROMPT = "recording-notice"
EVENT = "HotlineRecording"
ID_PATTERN = "^[0-9A-Za-z._-]{1,120}$"


def render_context(config: Config) -> str:
    rec = config.recordings
    steps = ['GotoIf($["${REC_BASE}" != ""]?done)',
             f"GotoIf($[${{DIALPLAN_EXISTS({SKIP_CONTEXT},line-${{HOTLINE_LINE}},1)}}"
             f" | ${{DIALPLAN_EXISTS({SKIP_CONTEXT},queue-${{HOTLINE_QUEUE}},1)}}]?done)"]
    if not rec.record_forwards:
        steps.append('GotoIf($["${ARG1}" = "forward"]?done)')
    steps += ["Set(REC_ID=${CHANNEL(linkedid)}-${UNIQUEID})",
              f'GotoIf($[${{REGEX("{ID_PATTERN}" ${{REC_ID}})}}]?ok:done)',
              f"(ok)Set(REC_BASE={rec.folder}/${{REC_ID}})"]
    if rec.notice:
        steps.append(f"Playback({config.asterisk.sounds_dir}/{NOTICE_PROMPT})")
    steps += ["MixMonitor(,br(${REC_BASE}.caller.wav)t(${REC_BASE}.agent.wav))",
              f"UserEvent({EVENT},Id: ${{REC_ID}},Kind: ${{ARG1}},Line: ${{HOTLINE_LINE}},Queue: ${{HOTLINE_QUEUE}})",
              "(done)Return()"]
    out = [f"\n[{CONTEXT}]\n",
           "; Gosub before Queue()/Dial(): record the caller's channel once (caller and agent apart).\n"]
    for i, step in enumerate(steps):
        label = ""
        if step.startswith("("):
            label, step = step[: step.index(")") + 1], step[step.index(")") + 1:]
        out.append(f"exten => s,1,{step}\n" if i == 0 else f" same => n{label},{step}\n")
    return "".join(out)


def render_skip(config: Config) -> str:
    """Opted-out lines and queues as extensions (ids: the model's [a-z0-9_-] pattern)."""
    rec = config.recordings
    out = [f"\n[{SKIP_CONTEXT}]\n; recordings.skip_lines / skip_queues: never recorded.\n"]
    out += [f"exten => line-{i},1,Return()\n" for i in rec.skip_lines]
    out += [f"exten => queue-{i},1,Return()\n" for i in rec.skip_queues]
    return "".join(out)


def render(config: Config, source: str = "config.yaml") -> dict[str, str]:
    """extensions_recordings.conf; without `recordings.enabled` it holds no context (the hooks do nothing)."""
    text = header(source)
    if config.recordings.enabled:
        text += render_context(config) + render_skip(config)
    else:
        text += "; recordings.enabled is false: no hotline-record context, calls are not recorded.\n"
    return {"extensions_recordings.conf": text}
