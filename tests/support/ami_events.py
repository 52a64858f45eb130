"""AMI event sequences as Asterisk 22 sends them (manager.conf timestampevents=yes).

Each event carries the full channel snapshot Asterisk puts on channel events
(Channel ... Linkedid); two-channel events prefix the second snapshot (Dest*,
Transferee*, TransferTarget* ...). Events the tracker ignores (Newexten,
Newstate, DialBegin, BridgeCreate ...) are kept in the sequences on purpose.
"""
from __future__ import annotations

from dataclasses import dataclass

T0 = 1795224600.0  # 2026-11-21 09:30:00 Asia/Shanghai


@dataclass(frozen=True)
class Chan:
    name: str
    uid: str
    lid: str
    cid: str = "13912345678"
    context: str = "from-gateway"
    exten: str = "12333"

    def snap(self, prefix: str = "", state: str = "Up", lid: str | None = None) -> dict[str, str]:
        code = {"Down": "0", "Ring": "4", "Ringing": "5", "Up": "6"}[state]
        p = prefix
        return {
            f"{p}Channel": self.name, f"{p}ChannelState": code, f"{p}ChannelStateDesc": state,
            f"{p}CallerIDNum": self.cid, f"{p}CallerIDName": "<unknown>",
            f"{p}ConnectedLineNum": "<unknown>", f"{p}ConnectedLineName": "<unknown>",
            f"{p}Language": "zh", f"{p}AccountCode": "", f"{p}Context": self.context,
            f"{p}Exten": self.exten, f"{p}Priority": "1", f"{p}Uniqueid": self.uid,
            f"{p}Linkedid": lid or self.lid,
        }


def ev(name: str, t: float, *snaps: dict[str, str], privilege: str = "call,all", **fields: str) -> dict[str, str]:
    out = {"Event": name, "Privilege": privilege, "Timestamp": f"{T0 + t:.6f}"}
    for s in snaps:
        out.update(s)
    out.update({k: str(v) for k, v in fields.items()})
    return out


def plan_vars(t: float, caller: Chan, values: dict[str, str]) -> list[dict[str, str]]:
    """What the `route` FastAGI handler's SET VARIABLEs look like on AMI."""
    return [ev("VarSet", t + i * 0.001, caller.snap(), privilege="dialplan,all", Variable=k, Value=v)
            for i, (k, v) in enumerate(values.items())]


def bridge(name: str, t: float, chan: Chan, bridge_id: str, count: int, lid: str | None = None) -> dict[str, str]:
    return ev(name, t, {"BridgeUniqueid": bridge_id, "BridgeType": "basic", "BridgeTechnology": "simple_bridge",
                        "BridgeCreator": "<unknown>", "BridgeName": "<unknown>", "BridgeNumChannels": str(count),
                        "BridgeVideoSourceMode": "none"}, chan.snap(lid=lid))


def hangup(t: float, chan: Chan, cause: str = "16", lid: str | None = None) -> dict[str, str]:
    text = {"16": "Normal Clearing", "19": "No user responding", "26": "Answered elsewhere", "0": "Unknown"}[cause]
    return ev("Hangup", t, chan.snap(lid=lid), Cause=cause, **{"Cause-txt": text})


def queue_ev(name: str, t: float, caller: Chan, queue: str, **fields: str) -> dict[str, str]:
    return ev(name, t, caller.snap(), privilege="agent,all", Queue=f"hotline-{queue}", **fields)


def member_ev(name: str, t: float, caller: Chan, agent: Chan, queue: str, **fields: str) -> dict[str, str]:
    member = agent.name.split("-")[0]  # PJSIP/agent1001
    return ev(name, t, caller.snap(), agent.snap("Dest"), privilege="agent,all", Queue=f"hotline-{queue}",
              Interface=member, MemberName=member.split("/")[1], **fields)


# -- scenario 1: 12333 (dual number, expert queue) answered by agent1001 -------------------
CALLER1 = Chan("PJSIP/gateway-00000011", "1795224600.34", "1795224600.34")
AGENT1001_1 = Chan("PJSIP/agent1001-00000012", "1795224601.35", "1795224600.34", cid="13912345678",
                   context="hotline-agents", exten="s")
TICKET1 = "T20261121-0007"
PLAN_12333 = {
    "HOTLINE_DIALED": "12333", "HOTLINE_LINE": "hrss-12333", "HOTLINE_DEPARTMENT": "市人社局",
    "HOTLINE_MODE": "dual_number", "HOTLINE_PHASE": "active", "HOTLINE_ACTION": "queue",
    "HOTLINE_TARGET": "queue:hrss-expert", "HOTLINE_DIAL": "", "HOTLINE_PROMPT": "",
    "HOTLINE_QUEUE": "hrss-expert", "HOTLINE_OVERFLOW": "general,30", "HOTLINE_TICKET": TICKET1,
}


def answered_call() -> list[dict[str, str]]:
    c, a = CALLER1, AGENT1001_1
    return [
        ev("Newchannel", 0.0, c.snap(state="Ring")),
        ev("Newexten", 0.01, c.snap(state="Ring"), privilege="dialplan,all", Extension="12333",
           Application="AGI", AppData="agi://127.0.0.1:4573/route"),
        ev("AGIExecStart", 0.02, c.snap(state="Ring"), privilege="agi,all", Command="GET VARIABLE", CommandId="1"),
        ev("VarSet", 0.19, c.snap(state="Ring"), privilege="dialplan,all", Variable="AGISTATUS", Value="SUCCESS"),
        *plan_vars(0.2, c, PLAN_12333),
        ev("Newstate", 0.3, c.snap()),
        queue_ev("QueueCallerJoin", 1.0, c, "hrss-expert", Position="1", Count="1"),
        ev("Newchannel", 1.01, a.snap(state="Down")),
        member_ev("AgentCalled", 1.02, c, a, "hrss-expert"),
        ev("DialBegin", 1.03, c.snap(), a.snap("Dest", state="Down"), DialString="agent1001"),
        ev("Newstate", 4.0, a.snap()),
        ev("DialEnd", 4.0, c.snap(), a.snap("Dest"), DialStatus="ANSWER"),
        queue_ev("QueueCallerLeave", 4.01, c, "hrss-expert", Position="1", Count="0"),
        ev("BridgeCreate", 4.02, {"BridgeUniqueid": "b1-3f0c", "BridgeType": "basic"}),
        bridge("BridgeEnter", 4.03, c, "b1-3f0c", 1),
        bridge("BridgeEnter", 4.04, a, "b1-3f0c", 2),
        member_ev("AgentConnect", 4.05, c, a, "hrss-expert", HoldTime="3", RingTime="3"),
        bridge("BridgeLeave", 64.0, c, "b1-3f0c", 1),
        hangup(64.0, c),
        member_ev("AgentComplete", 64.01, c, a, "hrss-expert", HoldTime="3", TalkTime="60", Reason="caller"),
        bridge("BridgeLeave", 64.02, a, "b1-3f0c", 0),
        hangup(64.03, a),
    ]


# -- scenario 2: 12345 general queue rings two agents; the caller gives up --------------------
CALLER2 = Chan("PJSIP/gateway-00000020", "1795224700.40", "1795224700.40", cid="13800138000", exten="12345")
RING_1001 = Chan("PJSIP/agent1001-00000021", "1795224702.41", "1795224700.40", cid="13800138000",
                 context="hotline-agents", exten="s")
RING_1002 = Chan("PJSIP/agent1002-00000022", "1795224702.42", "1795224700.40", cid="13800138000",
                 context="hotline-agents", exten="s")


def abandoned_call() -> list[dict[str, str]]:
    c = CALLER2
    plan = {"HOTLINE_DIALED": "12345", "HOTLINE_LINE": "", "HOTLINE_DEPARTMENT": "", "HOTLINE_MODE": "main",
            "HOTLINE_PHASE": "active", "HOTLINE_ACTION": "queue", "HOTLINE_TARGET": "queue:general",
            "HOTLINE_QUEUE": "general"}
    return [
        ev("Newchannel", 100.0, c.snap(state="Ring")),
        *plan_vars(100.2, c, plan),
        queue_ev("QueueCallerJoin", 101.0, c, "general", Position="1", Count="1"),
        ev("Newchannel", 101.01, RING_1001.snap(state="Down")),
        member_ev("AgentCalled", 101.02, c, RING_1001, "general"),
        ev("Newchannel", 101.03, RING_1002.snap(state="Down")),
        member_ev("AgentCalled", 101.04, c, RING_1002, "general"),
        queue_ev("QueueCallerAbandon", 121.0, c, "general", Position="1", OriginalPosition="1", HoldTime="20"),
        queue_ev("QueueCallerLeave", 121.0, c, "general", Position="1", Count="0"),
        hangup(121.01, RING_1001, cause="0"),
        hangup(121.02, RING_1002, cause="0"),
        hangup(121.03, c),
    ]


# -- scenario 3: 12315 answered by agent1001, attended transfer to agent1002 -------------------
CALLER3 = Chan("PJSIP/gateway-00000030", "1795224800.50", "1795224800.50", cid="13700137000", exten="12315")
A1001_3 = Chan("PJSIP/agent1001-00000031", "1795224802.51", "1795224800.50", cid="13700137000",
               context="hotline-agents", exten="s")
CONSULT = Chan("PJSIP/agent1001-00000032", "1795224840.52", "1795224840.52", cid="1001",
               context="hotline-agents", exten="1002")
A1002_3 = Chan("PJSIP/agent1002-00000033", "1795224840.53", "1795224840.52", cid="1001",
               context="hotline-agents", exten="s")


def transferred_call() -> list[dict[str, str]]:
    c = CALLER3
    plan = {"HOTLINE_DIALED": "12315", "HOTLINE_LINE": "amr-12315", "HOTLINE_DEPARTMENT": "市市场监管局",
            "HOTLINE_MODE": "dual_number", "HOTLINE_PHASE": "active", "HOTLINE_ACTION": "queue",
            "HOTLINE_TARGET": "queue:general", "HOTLINE_QUEUE": "general"}
    xfer = {"Result": "Success", "DestType": "Bridge", "DestBridgeUniqueid": "b3-91aa", "IsExternal": "No",
            "OrigBridgeUniqueid": "b3-91aa", "SecondBridgeUniqueid": "b4-77d2"}
    return [
        ev("Newchannel", 200.0, c.snap(state="Ring")),
        *plan_vars(200.2, c, plan),
        queue_ev("QueueCallerJoin", 201.0, c, "general", Position="1", Count="1"),
        ev("Newchannel", 201.01, A1001_3.snap(state="Down")),
        member_ev("AgentCalled", 201.02, c, A1001_3, "general"),
        queue_ev("QueueCallerLeave", 203.0, c, "general", Position="1", Count="0"),
        bridge("BridgeEnter", 203.01, c, "b3-91aa", 1),
        bridge("BridgeEnter", 203.02, A1001_3, "b3-91aa", 2),
        member_ev("AgentConnect", 203.03, c, A1001_3, "general", HoldTime="2", RingTime="2"),
        # agent1001 puts the caller on hold and calls agent1002 from the phone
        ev("Newchannel", 240.0, CONSULT.snap(state="Ring")),
        ev("Newchannel", 240.01, A1002_3.snap(state="Down")),
        bridge("BridgeEnter", 243.0, CONSULT, "b4-77d2", 1),
        bridge("BridgeEnter", 243.01, A1002_3, "b4-77d2", 2),
        ev("AttendedTransfer", 260.0, A1001_3.snap("OrigTransferer"), CONSULT.snap("SecondTransferer"),
           c.snap("Transferee"), A1002_3.snap("TransferTarget"), **xfer),
        bridge("BridgeLeave", 260.01, A1001_3, "b3-91aa", 1),
        hangup(260.02, A1001_3),
        bridge("BridgeLeave", 260.03, CONSULT, "b4-77d2", 1),
        hangup(260.04, CONSULT),
        bridge("BridgeLeave", 260.05, A1002_3, "b4-77d2", 0),
        bridge("BridgeEnter", 260.06, A1002_3, "b3-91aa", 2, lid=c.lid),  # linkedid propagated
        member_ev("AgentComplete", 260.07, c, A1001_3, "general", HoldTime="2", TalkTime="57", Reason="transfer"),
        bridge("BridgeLeave", 400.0, c, "b3-91aa", 1),
        hangup(400.0, c),
        bridge("BridgeLeave", 400.01, A1002_3, "b3-91aa", 0, lid=c.lid),
        hangup(400.02, A1002_3, lid=c.lid),
    ]
