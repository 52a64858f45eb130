import datetime as dt
from tests.routing_calls import collect, place
SH = dt.timezone(dt.timedelta(hours=8))
async def test_dbg(hotline_server, center, center_ami):
    server = await hotline_server()
    server.clock.now = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SH)
    since = len(center_ami.events)
    call = await place(center_ami, "12328", hold=3, callerid="13912345678")
    await collect(center_ami, [call], settle=5, since=since)
    for e in center_ami.events[since:]:
        if e.get("Event") in ("Newexten","RTCPSent","RTCPReceived"): continue
        print(e.get("Event"), e.get("Channel"), e.get("Uniqueid"), e.get("Linkedid"), e.get("CallerIDNum"), e.get("Variable",""), e.get("Value",""), e.get("Queue",""), e.get("Cause",""))
    print(server.services.tracker.stats)
