"""What a survey answer means: the campaign's questions (config) or the default one.

Pure. A task whose campaign has questions in `callbacks.campaigns` is asked
those (hotline-survey-<campaign>); any other survey asks the one default
satisfaction question (「满意请按1，基本满意请按2，不满意请按3」). A key in a
question's `redo` list ("不满意", "未解决") flags the ticket for 重办, and
where `callbacks.offer_agent` says so the citizen is then offered an agent:
the answer to that offer is the question "offer" (0: 要求转人工).
"""
from __future__ import annotations

from ivr.config.callbacks_model import OFFER_QUESTION

DEFAULT_KEYS = {"1": "满意", "2": "基本满意", "3": "不满意"}
DEFAULT_REDO = ("3",)
INVALID = "无效按键"
OFFER_KEY = "0"
OFFER_TEXT = {OFFER_KEY: "要求转人工"}
NO_OFFER = "未转人工"


def campaign_question(campaigns: dict, campaign: str | None, question: str):
    """`question` of `campaign` (a config `Question`), or None: the default survey, or unknown."""
    return next((q for q in campaigns.get(campaign or "", ()) if q.id == question), None)


def meaning(campaigns: dict, campaign: str | None, question: str, key: str) -> tuple[str, bool]:
    """(text, redo) of `key` pressed for `question` of `campaign`'s survey."""
    q = campaign_question(campaigns, campaign, question)
    if q is not None:
        return q.keys.get(key, INVALID), key in q.redo
    if question == OFFER_QUESTION:  # reserved: never a campaign's question id
        return OFFER_TEXT.get(key, NO_OFFER), False
    if question == "satisfaction":
        return DEFAULT_KEYS.get(key, INVALID), key in DEFAULT_REDO
    return INVALID, False


def ticket_result(previous: dict | None, task_id: int, question: str, text: str, key: str, redo: bool,
                  at: str) -> dict:
    """The ticket's extra["回访"] after one more answer of task `task_id`: every question's
    text, the last key, and `redo` once any answer of this survey asked for 重办."""
    out = dict(previous or {}) if (previous or {}).get("task") == task_id else {}
    answers = dict(out.get("answers") or {}) | {question: {"text": text, "key": key}}
    asked = {"agent_asked": key == OFFER_KEY} if question == OFFER_QUESTION else {}
    return out | {question: text, "key": key, "at": at, "answers": answers, "task": task_id,
                  "redo": bool(out.get("redo")) or redo} | asked
