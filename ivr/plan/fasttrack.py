"""Fast tracks past the 12345 pool: 一企来 enterprise callers and language seats (pure).

- **Enterprise** (`enterprise:`): a call from a registered enterprise number
  keeps the plan's decision but is tagged `enterprise` and waits ahead of
  citizens in its queue (`priority`, Asterisk's QUEUE_PRIO: a caller with a
  higher priority is placed before every lower one already waiting). With
  `enterprise.queue` (涉企专席) a call bound for the general pool goes there
  instead; a call to 12345 with a voice menu skips the menu. Emergency
  numbers, prompts and hang-ups are never changed.
- **Menu keys**: `enterprise.key` and each `languages[i].key` (外籍人士服务热线,
  "For English, press 9") become entry-menu options next to
  `hotline.entry.options`, each with its own prompt after the menu prompt.

The dialplan renders the keys from `menu_entries` and `Plan.menu_choice`
explains them from the same list, so what an operator reads is what runs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ivr.config.model import Config
from ivr.plan.decision import Decision
from ivr.plan.numbers import normalise
from ivr.plan.targets import GENERAL, Resolved, resolve
from ivr.tickets.deadlines import deadline

ENTERPRISE = "enterprise"
QUEUED = ("queue", "prompt_then_forward")   # actions that end in a 12345 queue
ENTERPRISE_URGENCY = "15workdays"            # 涉企诉求: 15 working days unless the words say more urgent


def ticket_fields(tags: str | None, at: dt.datetime, tz: str) -> dict:
    """Draft-ticket fields a call's tags (HOTLINE_TAGS) give from its first second.

    An enterprise caller's draft is tagged and due in 15 working days; the
    speech draft may later shorten it (an outage, a hazard: ivr.tickets.draft)."""
    found = (tags or "").split()
    if not found:
        return {}
    out: dict = {"tags": found}
    if ENTERPRISE in found:
        out |= {"urgency": ENTERPRISE_URGENCY,
                "deadline": deadline(ENTERPRISE_URGENCY, at, tz).isoformat(timespec="seconds")}
    return out


def language_tag(language_id: str) -> str:
    return f"language:{language_id}"


@dataclass(frozen=True)
class MenuEntry:
    """One key of the 12345 entry menu."""
    key: str
    label: str
    target: str                       # destination string
    tags: tuple[str, ...] = ()
    priority: int = 0
    prompt_id: str | None = None      # played after the menu prompt ("For English, press 9")
    prompt: str = ""
    why: str = ""                     # for the reason: what the key is


def menu_entries(config: Config) -> list[MenuEntry]:
    """Every key of the entry menu in key order: configured options, then the fast tracks."""
    entry = config.hotline.entry
    out = [MenuEntry(k, o.label, o.target, why=o.label) for k, o in entry.options.items()]
    e = config.enterprise
    if e.key is not None:
        out.append(MenuEntry(e.key, e.label, f"queue:{e.queue or _default_queue(config)}", (ENTERPRISE,),
                             e.priority, "menu-enterprise", e.prompt, f"enterprise track {e.label} (一企来)"))
    for lang in config.languages:
        if lang.key is not None:
            out.append(MenuEntry(lang.key, lang.name, f"queue:{lang.queue}", (language_tag(lang.id),),
                                 prompt_id=f"menu-language-{lang.id}", prompt=lang.prompt,
                                 why=f"{lang.name} seats (外籍人士服务热线)"))
    return sorted(out, key=lambda m: m.key)


def menu_prompts(config: Config) -> dict[str, str]:
    """Prompt id -> text of the fast-track keys' menu prompts (for the prompts pipeline)."""
    if not config.hotline.entry.menu:
        return {}
    return {m.prompt_id: m.prompt for m in menu_entries(config) if m.prompt_id and m.prompt}


def _default_queue(config: Config) -> str:
    default = config.hotline.entry.default
    return default.partition(":")[2] if default.startswith("queue:") else GENERAL


def _go(d: Decision, dest: Resolved, action: str) -> Decision:
    return replace(d, action=action, target=dest.target, dial=dest.dial, queue=dest.queue,
                   overflow_queue=dest.overflow_queue, overflow_after=dest.overflow_after)


class FastTrack:
    """Built once with the plan; `enterprise(caller)` and `apply` cost a set lookup per call."""

    def __init__(self, config: Config):
        e = config.enterprise
        self.numbers = frozenset(e.numbers)
        self.priority = e.priority
        self.queue = resolve(f"queue:{e.queue}", config) if e.queue else None
        self.entry_default = resolve(config.hotline.entry.default, config)
        self.menu = {m.key: m for m in menu_entries(config)}

    def enterprise(self, caller: str | None) -> bool:
        """Is `caller` (a caller ID as Asterisk gives it) a registered enterprise number?"""
        if not self.numbers or not caller:
            return False
        return normalise(caller).replace("-", "") in self.numbers

    def apply(self, d: Decision) -> Decision:
        """The decision for an enterprise caller: tagged, ahead in its queue, 涉企专席 if configured."""
        if d.mode == "emergency":
            return d
        tagged = replace(d, tags=(*d.tags, ENTERPRISE))
        why = f"{d.reason}; the caller is a registered enterprise (一企来)"
        if d.action == "menu":
            dest = self.queue or self.entry_default
            if dest.kind != "queue":
                return replace(tagged, reason=f"{why}, but neither an enterprise queue nor a default queue "
                                              f"is configured: the menu as for everyone")
            return replace(_go(tagged, dest, "queue"), priority=self.priority,
                           reason=f"{why}: menu skipped, straight to {dest.target} with priority {self.priority}")
        if d.action not in QUEUED:
            return replace(tagged, reason=f"{why}: no queue on this path, tagged only")
        if self.queue is not None and d.queue == GENERAL:
            return replace(_go(tagged, self.queue, d.action), priority=self.priority,
                           reason=f"{why}: 涉企专席 {self.queue.target} instead of the general pool, "
                                  f"priority {self.priority}")
        return replace(tagged, priority=self.priority,
                       reason=f"{why}: waits in {d.target} with priority {self.priority}, ahead of citizens")

    def menu_choice(self, main: Decision, key: str, config: Config) -> Decision | None:
        """What pressing `key` at the 12345 menu does (None: not a key of the menu)."""
        m = self.menu.get(key)
        if m is None:
            return None
        dest = resolve(m.target, config)
        return replace(_go(main, dest, "queue" if dest.kind == "queue" else "forward"), tags=m.tags, priority=m.priority, prompt=None, prompt_id=None,
                       prompt_sound=None, reason=f"key {key} at the {config.hotline.number} menu: {m.why}: "
                                                 f"{dest.target}" + (f" with priority {m.priority}" if m.priority else ""))
