"""The base config files every embedded instance runs with.

Kept minimal and explicit: with an empty config dir many modules silently do
not load (app_queue needs queues.conf, cdr_manager needs cdr_manager.conf),
and modules that bind fixed ports (IAX2, DUNDi, Skinny …) are not loaded so
several instances can run side by side.
"""
from __future__ import annotations

from typing import Protocol

from ivr.dialplan import variables as V


class InstanceFacts(Protocol):
    """What the base files need to know of an instance (ivr.asterisk.instance.Instance has it)."""

    name: str
    sip_port: int
    ami_port: int
    ami_user: str
    ami_secret: str
    agi_host: str
    agi_port: int

    @property
    def inner(self) -> str: ...  # the instance folder as Asterisk sees it


NOLOAD = [
    # fixed ports that would clash between instances, or need hardware
    "chan_iax2.so", "pbx_dundi.so", "chan_skinny.so", "chan_mgcp.so", "chan_unistim.so",
    "chan_ooh323.so", "chan_dahdi.so", "chan_mobile.so", "chan_console.so", "chan_alsa.so",
    # back ends we do not configure (they only log errors)
    "res_config_ldap.so", "res_config_pgsql.so", "res_config_sqlite3.so", "res_config_odbc.so",
    "res_odbc.so", "cdr_pgsql.so", "cdr_odbc.so", "cdr_tds.so", "cel_pgsql.so", "cel_odbc.so",
    "cel_tds.so", "cdr_radius.so", "cel_radius.so", "cdr_sqlite3_custom.so", "cel_sqlite3_custom.so",
    "res_statsd.so", "res_hep.so", "res_hep_pjsip.so", "res_hep_rtcp.so", "res_xmpp.so",
    "res_calendar.so", "res_phoneprov.so", "res_pjsip_phoneprov_provider.so", "res_corosync.so",
    "res_prometheus.so", "res_snmp.so", "res_smdi.so", "res_pjsip_config_wizard.so",
    "res_geolocation.so", "res_resolver_unbound.so", "cdr_beanstalkd.so", "cel_beanstalkd.so",
    "chan_motif.so", "res_pjsip_geolocation.so", "res_stun_monitor.so", "res_parking.so",
    "app_agent_pool.so", "cdr_csv.so", "cdr_custom.so", "cel_custom.so", "app_alarmreceiver.so",
    "app_festival.so", "pbx_lua.so", "pbx_ael.so", "app_amd.so", "app_followme.so",
    "res_calendar_caldav.so", "res_calendar_exchange.so", "res_calendar_icalendar.so",
    "res_calendar_ews.so", "func_odbc.so", "res_odbc_transaction.so", "res_pjsip_stir_shaken.so",
    "app_voicemail_odbc.so", "cdr_adaptive_odbc.so", "chan_websocket.so", "res_http_media_cache.so",
    "res_adsi.so", "res_pjsip_notify.so", "app_adsiprog.so", "app_getcpeid.so",
    "app_voicemail.so", "app_minivm.so", "res_stir_shaken.so", "res_aeap.so", "res_speech_aeap.so",
]


# The AMI classes the server and `hotline dialplan apply` use, no more (no
# `config`: UpdateConfig could rewrite any config file; no `user`, `dtmf`,
# `message`, `aoc`, `cc`, `test`, `security` write rights). Asterisk lets an
# action through when the user has any one of its classes.
#   write: system   Filter (event filters at login), MuteAudio (transfers), CoreShowChannels,
#                   CoreSettings, Hangup
#          call     Redirect, Setvar, Getvar, Hangup, Atxfer
#          originate Originate (transfer legs, `hotline call`)
#          agent    QueueAdd, QueueRemove, QueuePause (QueueStatus, Ping need none)
#          command  Command: `dialplan apply` reloads and reads `dialplan/queue/pjsip show`
#   read:  call (Newchannel, Hangup, Bridge*, *Transfer, OriginateResponse),
#          dialplan (VarSet), agent (QueueCaller*, Agent*), user (UserEvent),
#          dtmf (DTMFEnd), system (FullyBooted)
AMI_WRITE = "system,call,originate,agent,command"
AMI_READ = "system,call,dialplan,agent,user,dtmf"


def base_files(inst: InstanceFacts) -> dict[str, str]:
    d = inst.inner
    # Globs, so `hotline dialplan apply` can add a file without touching these.
    includes = lambda prefix: f'#tryinclude "{prefix}*.conf"\n'  # noqa: E731
    return {
        "asterisk.conf": f"""[directories]
astetcdir => {d}/etc
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => {d}/lib
astdbdir => {d}/lib
astkeydir => {d}/lib
astdatadir => {d}/data
astagidir => /srv/hotline/agi-bin
astspooldir => {d}/spool
astrundir => {d}/run
astlogdir => {d}/log
astsbindir => /usr/sbin

[options]
; the caller's real number is masked in our own logs; Asterisk logs only what we allow below
verbose = 0
transmit_silence = yes
defaultlanguage = en
""",
        "modules.conf": "[modules]\nautoload = yes\n" + "".join(f"noload => {m}\n" for m in NOLOAD),
        # No queue_log (its ENTERQUEUE lines carry the caller's full number and
        # nothing reads it: statistics come from our database); no `full` log.
        "logger.conf": """[general]
queue_log = no

[logfiles]
console => notice,warning,error
messages.log => notice,warning,error
""",
        "manager.conf": f"""[general]
enabled = yes
port = {inst.ami_port}
bindaddr = 127.0.0.1
displayconnects = no
timestampevents = yes

[{inst.ami_user}]
secret = {inst.ami_secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = {AMI_READ}
write = {AMI_WRITE}
""",
        "cdr.conf": "[general]\nenable = yes\n",
        "cdr_manager.conf": "[general]\nenabled = yes\n",
        "cel.conf": "[general]\nenable = no\n",
        "ccss.conf": "[general]\n",
        "acl.conf": "",
        "udptl.conf": "[general]\n",
        "pjproject.conf": "",
        "indications.conf": "[general]\ncountry = cn\n\n[cn]\ndescription = China\nringcadence = 1000,4000\n"
        "dial = 450\nbusy = 450/350,0/350\nring = 450/1000,0/4000\ncongestion = 450/700,0/700\n"
        "callwaiting = 450/400,0/4000\ndialrecall = 450\nrecord = 950/400,0/10000\ninfo = 450/100,0/100\n",
        "musiconhold.conf": "[default]\nmode = files\ndirectory = moh\n",
        "features.conf": """[general]
transferdigittimeout = 3
atxfernoanswertimeout = 20
atxferdropcall = no
atxferabort = *1
atxfercomplete = *2
atxferthreeway = *3

[featuremap]
blindxfer = #1
atxfer = *2
""",
        "confbridge.conf": "[general]\n\n[default_bridge]\ntype = bridge\n\n[default_user]\ntype = user\n",
        "cli_aliases.conf": "",
        "queuerules.conf": "",
        "res_fax.conf": "",
        "ari.conf": "[general]\nenabled = no\n",
        "rtp.conf": "[general]\nrtpstart = 20000\nrtpend = 30000\n",
        "queues.conf": "[general]\npersistentmembers = no\nshared_lastcall = yes\n\n" + includes("queues_"),
        "pjsip.conf": f"""[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:{inst.sip_port}

""" + includes("pjsip_"),
        "extensions.conf": f"""[general]
static = yes
writeprotect = yes

[globals]
{V.AGI} = agi://{inst.agi_host}:{inst.agi_port}
{V.INSTANCE} = {inst.name}
{V.SOUNDS} = {inst.inner}/sounds
{V.RECORDINGS} = {inst.inner}/recordings

""" + includes("extensions_"),
    }
