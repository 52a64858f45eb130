"""`agi://127.0.0.1:4573/diag[,arg]`: proves the whole path Asterisk -> FastAGI -> Asterisk works.

Sets HOTLINE_DIAG=ok and echoes the first argument into HOTLINE_DIAG_ARG, so a
health check or a test can read both back from the channel.
"""
from __future__ import annotations

from ivr.agi.call import AgiCall
from ivr.agi.registry import route
from ivr.dialplan import variables as V


@route("diag")
async def diag(call: AgiCall) -> None:
    await call.set_variable(V.DIAG, "ok")
    await call.set_variable(V.DIAG_ARG, call.args[0] if call.args else "")
