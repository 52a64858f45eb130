"""A minimal SIP-over-WebSocket REGISTER client (RFC 7118), for tests only.

Just enough SIP to prove what a browser seat depends on: Asterisk accepts the
`sip` websocket subprotocol on /ws, challenges, and accepts (or refuses) the
agent's password.
"""
from __future__ import annotations

import hashlib
import re
import uuid

import aiohttp


def _md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


async def register(ws_url: str, user: str, password: str, domain: str = "127.0.0.1", timeout: float = 10,
                   while_open=None) -> int:
    """REGISTER over ws_url, answering one digest challenge; returns the final status code.

    `while_open()` (if given) runs after the final reply with the websocket still open:
    Asterisk drops a websocket contact as soon as its connection closes."""
    call_id, tag, branch = uuid.uuid4().hex, uuid.uuid4().hex[:8], "z9hG4bK" + uuid.uuid4().hex[:10]
    inv = uuid.uuid4().hex[:8] + ".invalid"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(ws_url, protocols=("sip",), timeout=aiohttp.ClientWSTimeout(ws_close=timeout)) as ws:
            auth = ""
            for cseq in (1, 2):
                msg = (f"REGISTER sip:{domain} SIP/2.0\r\n"
                       f"Via: SIP/2.0/WS {inv};branch={branch}{cseq}\r\n"
                       f"Max-Forwards: 70\r\nTo: <sip:{user}@{domain}>\r\n"
                       f"From: <sip:{user}@{domain}>;tag={tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                       f"Contact: <sip:{user}@{inv};transport=ws>;expires=60\r\n{auth}Content-Length: 0\r\n\r\n")
                await ws.send_str(msg)
                reply = (await ws.receive(timeout)).data
                while not reply.startswith("SIP/2.0 "):  # a request from Asterisk (qualify OPTIONS): skip it
                    reply = (await ws.receive(timeout)).data
                status = int(reply.split(" ", 2)[1])
                if status != 401 or cseq == 2:
                    if while_open is not None:
                        while_open()
                    return status
                realm = re.search(r'realm="([^"]+)"', reply).group(1)
                nonce = re.search(r'nonce="([^"]+)"', reply).group(1)
                uri, ha1, ha2 = f"sip:{domain}", _md5(f"{user}:{realm}:{password}"), _md5(f"REGISTER:sip:{domain}")
                extra = ""
                if re.search(r'qop="?auth', reply):
                    cnonce = uuid.uuid4().hex[:8]
                    resp = _md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
                    extra = f', qop=auth, nc=00000001, cnonce="{cnonce}"'
                else:
                    resp = _md5(f"{ha1}:{nonce}:{ha2}")
                auth = (f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
                        f'uri="{uri}", response="{resp}", algorithm=MD5{extra}\r\n')
    raise AssertionError("unreachable")
