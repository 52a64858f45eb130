"""The one error body every HTTP route answers with: {"error": <code>, "detail": <for people>}.

The console shows `detail` (Chinese first) and branches on `error`; the core
routes and every plugin's routes (transfer, callbacks, recordings,
supervision) answer the same way, so one function writes it.
"""
from __future__ import annotations

from aiohttp import web


def error_response(status: int, error: str, detail: str) -> web.Response:
    return web.json_response({"error": error, "detail": detail}, status=status)
