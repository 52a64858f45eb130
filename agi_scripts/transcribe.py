#!/usr/bin/env python3
"""EAGI script: stream the caller's audio to the live transcription server.

Run by Asterisk itself (inside its root, with the root's python3):

    same => n,EAGI(transcribe.py,127.0.0.1:4574,${CHANNEL(linkedid)}[,SECONDS])

Arguments: [HOST:PORT] [CALL_ID] [SECONDS]. SECONDS bounds a "please state
your matter" step: the dialplan goes on after that long. Without them: $HOTLINE_LIVE_ADDR (default
127.0.0.1:4574) and the channel's linkedid. Asterisk writes the channel's audio
to fd 3 as signed linear; $EAGI_AUDIO_FORMAT says at which rate (slin = 8 kHz,
slin16 = 16 kHz, ...). The script sends a JSON header, waits for "OK", then
copies fd 3 to the socket until the call ends. The header carries the call's
intake nonce, the third field of HOTLINE_INTAKE (`<server>,<seconds>,<nonce>`,
set by the route): the server takes no stream without it (docs/security.md).

The call ends when fd 3 reaches EOF, Asterisk sends "HANGUP" on stdin or a
SIGHUP, or a periodic CHANNEL STATUS (only when no audio flows) fails. fd 3 is
only read when select() says it is readable, so a hangup that leaves fd 3 open
never blocks the script. Every failure ends the script with exit status 0: live
text is an add-on and must never disturb the call. Needs only python3 and
pyst2 (which needs six).
"""
import json
import os
import re
import select
import socket
import sys
import time

AUDIO_FD = 3
DEFAULT_ADDR = "127.0.0.1:4574"
CONNECT_TIMEOUT = 3.0   # seconds to reach the server and get its "OK"
SEND_TIMEOUT = 5.0      # a server that stops reading for this long is given up
POLL = 0.25             # select() timeout: how fast a SIGHUP is noticed
IDLE_CHECK = 5.0        # seconds without audio before asking Asterisk if the channel lives
MAX_SECONDS = 6 * 3600  # no call is longer; bounds the loop whatever happens
READ_SIZE = 4096


def say(msg):
    # Our own short messages only: never the AGI environment (it holds the caller's number).
    sys.stderr.write("transcribe.py: %s\n" % msg)
    sys.stderr.flush()


def parse_addr(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("address must be HOST:PORT, got %r" % text)
    return host, int(port)


def eagi_rate(fmt):
    """Sample rate of Asterisk's slin format name ("slin" -> 8000, "slin16" -> 16000)."""
    m = re.fullmatch(r"slin(\d*)", (fmt or "").strip())
    if not m:
        return 8000
    if not m.group(1):
        return 8000
    return 44100 if m.group(1) == "44" else int(m.group(1)) * 1000


def connect(addr, header):
    sock = socket.create_connection(addr, timeout=CONNECT_TIMEOUT)
    try:
        sock.sendall((json.dumps(header) + "\n").encode("utf-8"))
        reply = b""
        while not reply.endswith(b"\n") and len(reply) < 256:
            part = sock.recv(256)
            if not part:
                break
            reply += part
        if not reply.startswith(b"OK"):
            raise ConnectionError("server refused: %s" % reply.decode("utf-8", "replace").strip())
        sock.settimeout(SEND_TIMEOUT)
        return sock
    except BaseException:
        sock.close()
        raise


def stream(agi, sock, limit=MAX_SECONDS):
    """Copy fd 3 to the socket until the call ends or `limit` s pass; returns why it stopped."""
    stdin_fd = agi.stdin.fileno()
    last_audio = started = time.monotonic()
    while time.monotonic() - started < limit:
        if agi._got_sighup:
            return "SIGHUP"
        ready, _, _ = select.select([AUDIO_FD, stdin_fd], [], [], POLL)
        if AUDIO_FD in ready:
            data = os.read(AUDIO_FD, READ_SIZE)
            if not data:
                return "audio EOF"
            sock.sendall(data)
            last_audio = time.monotonic()
        if stdin_fd in ready:
            line = agi.stdin.readline()
            if not line or line.strip().upper().startswith(b"HANGUP"):
                return "hangup"
        if not ready and time.monotonic() - last_audio > IDLE_CHECK:
            agi.channel_status()  # raises AGIHangup / AGIError once the channel is gone
            last_audio = time.monotonic()
    return "time limit"


def intake_nonce(agi):
    """The nonce in the channel's HOTLINE_INTAKE, or "" (no intake: the server decides)."""
    from asterisk.agi import AGIHangup
    try:
        value = agi.get_variable("HOTLINE_INTAKE") or ""
    except AGIHangup:  # the caller is gone: nothing to transcribe (main() stops)
        raise
    except Exception:  # not set, or an Asterisk that refuses: send none
        return ""
    parts = value.split(",")
    return parts[2].strip() if len(parts) > 2 else ""


def main(argv):
    try:
        from asterisk.agi import AGI
    except ImportError as exc:
        say("pyst2 is not installed for this python3 (%s)" % exc)
        return 0
    # Unbuffered binary stdin so select() on it tells the truth; pyst2's debug
    # output (which includes the caller's number) goes nowhere.
    agi = AGI(stdin=os.fdopen(0, "rb", buffering=0), stderr=open(os.devnull, "w"))
    try:
        os.fstat(AUDIO_FD)
    except OSError:
        say("no audio on fd 3: run this script with EAGI(), not AGI()")
        return 0
    try:
        addr = parse_addr(argv[1] if len(argv) > 1 and argv[1] else os.environ.get("HOTLINE_LIVE_ADDR", DEFAULT_ADDR))
        call_id = argv[2] if len(argv) > 2 and argv[2] else (
            agi.get_full_variable("${CHANNEL(linkedid)}") or agi.env.get("agi_uniqueid", ""))
        limit = min(float(argv[3]), MAX_SECONDS) if len(argv) > 3 and argv[3] else MAX_SECONDS
        rate = eagi_rate(agi.get_variable("EAGI_AUDIO_FORMAT"))
        header = {"call_id": call_id, "channel": agi.env.get("agi_channel", ""), "rate": rate}
        nonce = intake_nonce(agi)
        if nonce:
            header["nonce"] = nonce
    except Exception as exc:  # AGIHangup, bad arguments: nothing to transcribe
        say("not started: %s" % exc)
        return 0
    try:
        sock = connect(addr, header)
    except (OSError, ConnectionError) as exc:
        say("live server %s:%d unavailable: %s" % (addr[0], addr[1], exc))
        try:
            agi.verbose("live transcription unavailable", 3)
        except Exception:
            pass
        return 0
    try:
        why = stream(agi, sock, limit)
    except Exception as exc:  # hangup seen by CHANNEL STATUS, server gone, fd 3 closed
        why = exc.__class__.__name__
    finally:
        sock.close()
    say("call %s: stopped (%s)" % (call_id, why))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
