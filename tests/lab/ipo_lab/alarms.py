"""The alarms a system sends about its subscription link, to the syslog server its alarm settings name.

What is Avaya's (docs/lab.md says the same): a system in error mode raises an
alarm every day, reconnecting clears it, telephony stops when the 30 days
end, and the IPO-MIB (enterprise 6889) numbers the reasons of its service
alarms: licence-server error (38), network disconnection (41), failed TLS
negotiation (42), too many missed heartbeats (46), failed DNS resolution (47),
time-server alarm (30), authentication failure (49).

What is the lab's choice, because Avaya publishes no syslog layout for these
alarms: RFC 5424 over UDP, facility local0, APP-NAME ``IPOffice``, MSGID
``subscription``, one structured-data element ``ipoAlarm@32473`` (32473 is
the enterprise number RFC 5612 reserves for documentation, so the layout
claims no vendor's namespace) with the parameters below, the text of the
message, which reason each link failure maps to, and an alarm for a
subscription within ``EXPIRY_WARNING_DAYS`` of its expiry date.

The sender watches every link agent: on a lost link and a reconnection at
once (the agent's events), and for the daily alarms, the day-31 shutdown and
expiring subscriptions whenever the lab clock moves and once a second. A day
the clock skips still gets its alarm, stamped with the time it was due, so a
receiver counts one alarm per day however the clock moved.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
import socket

from .clock import DAY, iso
from .world import is_loopback

LOG = logging.getLogger('ipo_lab.alarms')

SD_ID = 'ipoAlarm@32473'
APP_NAME = 'IPOffice'
MSGID = 'subscription'
FACILITY = 16   # local0
SEVERITY = {'error_mode': 4, 'expired': 2, 'cleared': 5, 'entitlement_expiring': 4}   # warning, critical, notice
EXPIRY_WARNING_DAYS = 30
CHECK_SECONDS = 1.0

# IPO-MIB reason numbers (Avaya) and the words the lab sends with them.
REASONS = {30: 'time-server alarm', 38: 'licence-server error', 41: 'network disconnection', 42: 'failed TLS negotiation',
           46: 'too many missed heartbeats', 47: 'failed DNS resolution', 49: 'authentication failure'}
# The link agent's failure codes (link.py) and the IPO-MIB reason the lab raises for each: the lab's mapping.
_REASON_OF = {
    'dns_unreachable': 47, 'dns_name_not_found': 47, 'dns_no_address': 47, 'dns_multiple_addresses': 47,
    'port_refused': 41, 'port_timeout': 41, 'port_unreachable': 41, 'server_unreachable': 41, 'link_dropped': 41,
    'configuration_changed': 41,
    'tls_untrusted_certificate': 42, 'tls_failed': 42, 'handshake_timeout': 42, 'websocket_failed': 42,
    'heartbeat_timeout': 46, 'time_unreachable': 30, 'com_silent': 38, 'protocol_error': 38,
}


def ipo_mib_reason(code, text=''):
    """The IPO-MIB reason number for one of the link agent's failure codes."""
    if code == 'com_rejected':
        # COM refuses a hello for an unknown customer or a clock too far off.
        return 30 if 'clock_skew' in (text or '') else 49
    return _REASON_OF.get(code, 38)


def parse_target(value, where='alarm_syslog'):
    """"ADDRESS:PORT" on loopback as (address, port), or None for no syslog server; ValueError otherwise."""
    if value in (None, '', False):
        return None
    text = str(value).strip()
    address, port = text.rpartition(':')[::2]
    if not address or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError('%s: %r is not ADDRESS:PORT (e.g. 127.0.51.4:514)' % (where, value))
    if not is_loopback(address):
        raise ValueError('%s: %s is not on loopback (127.0.0.0/8); the lab sends nowhere else' % (where, address))
    return address, int(port)


def _sd_value(value):
    """A structured-data parameter value with the escapes RFC 5424 requires (section 6.3.3)."""
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace(']', '\\]')


def _timestamp(stamp):
    """RFC 5424 TIMESTAMP with milliseconds (TIME-SECFRAC), so a receiver can measure how long an alarm took."""
    moment = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)


def syslog_message(system, kind, params, text, stamp):
    """One RFC 5424 message: header, one SD element, the text (UTF-8 with the BOM the RFC asks for)."""
    pri = FACILITY * 8 + SEVERITY[kind]
    elements = ' '.join('%s="%s"' % (key, _sd_value(value)) for key, value in params.items() if value is not None)
    header = '<%d>1 %s %s %s - %s [%s %s] ' % (pri, _timestamp(stamp), system, APP_NAME, MSGID, SD_ID, elements)
    return header.encode('utf-8') + b'\xef\xbb\xbf' + text.encode('utf-8')


class _Track:
    """What one system has raised so far: the error-mode episode, its days, expiring subscriptions."""

    def __init__(self):
        self.episode = 0.0      # grace_since of the episode alarms were raised for; 0 when none
        self.days = 0           # highest day raised in it
        self.expired = False
        self.reason = None      # IPO-MIB reason of the episode's last alarm
        self.warned = set()     # (key, expiry) of subscriptions already announced


class AlarmSender:
    def __init__(self, systems, clock, link_spec):
        self.systems = systems
        self.clock = clock
        self.link_spec = link_spec
        self.targets = {}
        self.tracks = {}
        self.log = collections.deque(maxlen=1000)
        self.seq = 0
        self.task = None
        self.reset()
        clock.on_change(self.check_all)

    def reset(self):
        """Targets back to the topology, nothing raised yet (the lab reset)."""
        self.targets = dict((name, state.spec.alarm_syslog) for name, state in self.systems.items())
        self.tracks = dict((name, _Track()) for name in self.systems)
        self.log.clear()

    async def start(self):
        self.task = asyncio.get_running_loop().create_task(self.run(), name='alarms')

    async def stop(self):
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None

    async def run(self):
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                self.check_all()
            except Exception:  # the lab keeps running whatever one alarm does
                LOG.exception('alarm check failed')

    def link_event(self, agent, event):
        """A link agent's event (lost, connected): raise or clear at once."""
        self.check(agent.state)

    def check_all(self):
        for state in self.systems.values():
            self.check(state)

    def check(self, state):
        agent = state.link
        if agent is None or not agent.applicable:
            return
        track = self.tracks[state.name]
        since = agent.grace_since
        if since and since != track.episode:
            track.episode, track.days, track.expired = since, 0, False
        if since:
            for alarm in agent.alarms():
                if alarm['Day'] <= track.days:
                    continue
                track.days = alarm['Day']
                track.reason = ipo_mib_reason(agent.reason, agent.reason_text)
                expired = alarm['Day'] > self.link_spec.grace_days
                track.expired = track.expired or expired
                # Stamped when it was due: the start of its day of the error mode.
                due = since + (alarm['Day'] - 1) * DAY
                self.raise_alarm(state, 'expired' if expired else 'error_mode', due, alarm['Text'], {
                    'reason': track.reason, 'day': alarm['Day'],
                    'daysLeft': max(0, self.link_spec.grace_days - alarm['Day'] + 1), 'graceDays': self.link_spec.grace_days,
                    'since': iso(since)}, agent.reason_text)
        elif track.episode:
            # Reconnected: the alarm and the error mode are cleared.
            self.raise_alarm(state, 'cleared', self.clock.now(), 'Subscription server reachable again: error mode and alarms cleared', {
                'reason': track.reason, 'day': track.days, 'since': iso(track.episode)}, None)
            track.episode, track.days, track.expired, track.reason = 0.0, 0, False, None
        today = self.clock.today()
        for item in agent.entitlements:
            try:
                expires = datetime.date.fromisoformat(str(item['expires']))
            except (KeyError, ValueError):
                continue
            left = (expires - today).days
            mark = (item.get('key'), expires)
            if 0 <= left <= EXPIRY_WARNING_DAYS and mark not in track.warned:
                track.warned.add(mark)
                self.raise_alarm(state, 'entitlement_expiring', self.clock.now(),
                                 'Subscription %s expires on %s: %d days left' % (item.get('key'), expires.isoformat(), left),
                                 {'key': item.get('key'), 'expires': expires.isoformat(), 'daysLeft': left}, None)

    def raise_alarm(self, state, kind, stamp, text, details, why):
        params = {'kind': kind, 'system': state.name, 'address': state.address}
        params.update(details)
        reason = details.get('reason')
        if reason is not None:
            params = dict(params, reasonText=REASONS.get(reason))
            text = '%s (%s%s)' % (text, REASONS.get(reason), ': %s' % why if why else '')
        message = syslog_message(state.name, kind, params, text, stamp)
        target = self.targets.get(state.name)
        self.seq += 1
        entry = {'seq': self.seq, 'time': iso(self.clock.now()), 'raised': iso(stamp), 'system': state.name, 'kind': kind,
                 'day': details.get('day'), 'reason': reason, 'text': text, 'bytes': len(message),
                 'target': '%s:%d' % target if target else None, 'sent': False, 'error': None}
        if target is not None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                # From the system's LAN1 address, as the system itself sends it.
                sock.bind((state.address, 0))
                sock.sendto(message, target)
                entry['sent'] = True
            except OSError as exc:
                entry['error'] = exc.strerror or str(exc)
            finally:
                sock.close()
        self.log.append(entry)
        LOG.info('%s: %s alarm%s %s', state.name, kind, ' day %s' % entry['day'] if entry['day'] else '',
                 'sent to %s' % entry['target'] if entry['sent'] else 'not sent (%s)' % (entry['error'] or 'no syslog server set'))

    def since(self, seq):
        return [entry for entry in self.log if entry['seq'] > seq]

    def describe(self, name):
        target = self.targets.get(name)
        return {'system': name, 'syslog': '%s:%d' % target if target else None,
                'raised': sum(1 for entry in self.log if entry['system'] == name)}


def control_routes(sender):
    """(method, path, handler) for the control API: /lab/alarms and /lab/systems/<name>/alarms."""
    # Imported here so control.py can import this module without an import cycle.
    from .control import BadRequest, NotFound, answer, body, since_param

    def known(name):
        if name not in sender.systems:
            raise NotFound(name)
        return name

    async def alarms(request):
        return answer(sender.since(since_param(request)))

    async def target(request):
        return answer(sender.describe(known(request.match_info['name'])))

    async def set_target(request):
        name = known(request.match_info['name'])
        data = await body(request)
        if set(data) != {'syslog'}:
            raise BadRequest('expected {"syslog": "ADDRESS:PORT"} or {"syslog": null}')
        try:
            sender.targets[name] = parse_target(data['syslog'], 'syslog')
        except ValueError as exc:
            raise BadRequest(str(exc))
        return answer(dict(sender.describe(name), ok=True))

    return [
        ('GET', '/lab/alarms', alarms),
        ('GET', '/lab/systems/{name}/alarms', target),
        ('POST', '/lab/systems/{name}/alarms', set_target),
    ]
