# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""syslog_alarms.py: an ansible-rulebook event source for IP Office subscription alarms.

It listens for RFC 5424 syslog messages over UDP and TCP (RFC 6587: octet
counting or one message per line), turns each subscription alarm into an
event and drops, counts and logs everything else without stopping. The
documentation (options, event keys, examples) is in syslog_alarms.yml next to
this file, and docs/monitor.md explains the alarms.

Arguments:
    host:        address to listen on (default 0.0.0.0)
    port:        UDP and TCP port (default 1514)
    tcp_port:    TCP port when it differs from port
    protocols:   [udp, tcp] (default both)
    hosts:       {system name or address: inventory host}, for event.meta.hosts
    max_message_bytes: a larger message is dropped as oversized (default 8192)
    stats_file:  a JSON file kept up to date with the counters (optional)

Event:
    payload: system, address, reason, reason_text, kind, grace_day, days_left,
             grace_days, error_mode_since, key, expires, raised, severity,
             text, raw, peer, transport
    meta:    hosts (the inventory host to limit a playbook run to)

ansible-rulebook loads this file on its own (runpy), so it imports nothing
from the collection.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import json
import logging
import os
import re
import tempfile

LOGGER = logging.getLogger('ipoffice.subscription.syslog_alarms')

# The lab's layout of the alarms (docs/lab.md): one SD element whose id is ipoAlarm@<enterprise number>.
SD_NAME = 'ipoAlarm'
KINDS = ('error_mode', 'expired', 'cleared', 'entitlement_expiring')
SEVERITIES = ('emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug')
DEFAULT_PORT = 1514
DEFAULT_MAX_BYTES = 8192
# Datagrams and frames waiting to be parsed; past this, new ones are dropped (counted as overflow).
BACKLOG = 10000
RECENT = 20

DROP_REASONS = ('not_syslog', 'truncated', 'oversized', 'not_utf8', 'not_an_alarm', 'overflow')

_HEADER = re.compile(r'^<(\d{1,3})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ')
_PARAM = re.compile(r'([^= \]"]{1,32})="((?:[^"\\]|\\.)*)"')
_BOM = '\ufeff'


class Dropped(ValueError):
    """A message that is no subscription alarm; reason is one of DROP_REASONS."""

    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _unescape(value):
    return re.sub(r'\\(["\\\]])', r'\1', value)


def _structured_data(text):
    """(elements {sd-id: {name: value}}, rest of the message) of RFC 5424 STRUCTURED-DATA at the start of text."""
    if text.startswith('-'):
        return {}, text[1:]
    if not text.startswith('['):
        raise Dropped('not_syslog', 'no structured data (neither "-" nor "[")')
    elements = {}
    position = 0
    while position < len(text) and text[position] == '[':
        end = position + 1
        match = re.match(r'[^ \]"=]{1,32}', text[end:])
        if not match:
            raise Dropped('not_syslog', 'an SD element without an SD-ID')
        sd_id = match.group(0)
        end += len(sd_id)
        params = {}
        while True:
            if end >= len(text):
                raise Dropped('truncated', 'the structured data ends before its closing "]"')
            if text[end] == ']':
                end += 1
                break
            if text[end] != ' ':
                raise Dropped('not_syslog', 'unexpected %r in SD element %s' % (text[end], sd_id))
            param = _PARAM.match(text, end + 1)
            if not param:
                if '"' in text[end:] and text[end:].count('"') % 2:
                    raise Dropped('truncated', 'a parameter of %s ends before its closing quote' % sd_id)
                if ']' not in text[end:]:
                    raise Dropped('truncated', 'the structured data ends before its closing "]"')
                raise Dropped('not_syslog', 'a malformed parameter in SD element %s' % sd_id)
            params[param.group(1)] = _unescape(param.group(2))
            end = param.end()
        elements[sd_id] = params
        position = end
    return elements, text[position:]


def parse_syslog(data):
    """An RFC 5424 message (bytes) as a dict: pri, facility, severity, timestamp, hostname, app, procid, msgid, sd, msg."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise Dropped('not_utf8', 'not UTF-8 (%s)' % exc.reason)
    text = text.rstrip('\r\n\x00')
    header = _HEADER.match(text)
    if not header:
        if re.match(r'^<\d{1,3}>[1-9]\d{0,2}( \S+){0,5} ?$', text):
            raise Dropped('truncated', 'the message ends inside its header')
        raise Dropped('not_syslog', 'not an RFC 5424 header ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID")')
    pri = int(header.group(1))
    if pri > 191:
        raise Dropped('not_syslog', 'priority %d is out of range' % pri)
    elements, rest = _structured_data(text[header.end():])
    if rest and not rest.startswith(' '):
        raise Dropped('not_syslog', 'no space between the structured data and the message')
    message = rest[1:] if rest else ''
    if message.startswith(_BOM):
        message = message[1:]
    fields = [None if value == '-' else value for value in header.groups()[2:]]
    return {
        'pri': pri, 'facility': pri // 8, 'severity': SEVERITIES[pri % 8], 'version': int(header.group(2)),
        'timestamp': fields[0], 'hostname': fields[1], 'app': fields[2], 'procid': fields[3], 'msgid': fields[4],
        'sd': elements, 'msg': message,
    }


def _number(params, name):
    value = params.get(name)
    if value is None or value == '':
        return None
    try:
        return int(value)
    except ValueError:
        raise Dropped('not_an_alarm', '%s=%r is not a whole number' % (name, value))


def alarm_event(data, peer, transport, hosts=None):
    """The event for one message (bytes) from peer (an address): {'payload': ..., 'meta': {'hosts': ...}}.

    Raises Dropped for anything that is not a subscription alarm."""
    message = parse_syslog(data)
    found = [(sd_id, params) for sd_id, params in message['sd'].items() if sd_id.split('@', 1)[0] == SD_NAME]
    if not found:
        raise Dropped('not_an_alarm', 'syslog without an %s structured-data element' % SD_NAME)
    params = found[0][1]
    kind = params.get('kind')
    if kind not in KINDS:
        raise Dropped('not_an_alarm', 'kind %r is not one of %s' % (kind, ', '.join(KINDS)))
    system = params.get('system') or message['hostname']
    if not system:
        raise Dropped('not_an_alarm', 'the alarm names no system')
    address = params.get('address') or peer
    payload = {
        'system': system,
        'address': address,
        'kind': kind,
        'reason': _number(params, 'reason'),
        'reason_text': params.get('reasonText'),
        'grace_day': _number(params, 'day'),
        'days_left': _number(params, 'daysLeft'),
        'grace_days': _number(params, 'graceDays'),
        'error_mode_since': params.get('since'),
        'key': params.get('key'),
        'expires': params.get('expires'),
        'raised': message['timestamp'],
        'severity': message['severity'],
        'text': message['msg'],
        'raw': data.decode('utf-8', 'replace'),
        'peer': peer,
        'transport': transport,
    }
    hosts = hosts or {}
    target = hosts.get(system) or hosts.get(address) or hosts.get(peer) or system
    return {'payload': payload, 'meta': {'hosts': target}}


class Counters:
    """What the source received, emitted and dropped; written to stats_file after each message."""

    def __init__(self, stats_file=None):
        self.stats_file = stats_file
        self.data = {'started': _now(), 'listening': {}, 'received': 0, 'events': 0, 'dropped': 0,
                     'dropped_by_reason': dict((reason, 0) for reason in DROP_REASONS), 'last_drop': None, 'recent_events': []}
        self.recent = collections.deque(maxlen=RECENT)

    def event(self, event):
        self.data['received'] += 1
        self.data['events'] += 1
        self.recent.append(dict(((key, value) for key, value in event['payload'].items() if key != 'raw'), received=_now()))
        self.save()

    def drop(self, reason, detail, peer, transport, received=True):
        self.data['received'] += 1 if received else 0
        self.data['dropped'] += 1
        self.data['dropped_by_reason'][reason] += 1
        self.data['last_drop'] = {'reason': reason, 'detail': detail, 'peer': peer, 'transport': transport, 'time': _now()}
        LOGGER.warning('dropped a message from %s over %s (%s: %s); %d dropped so far', peer, transport, reason, detail,
                       self.data['dropped'])
        self.save()

    def save(self):
        if not self.stats_file:
            return
        self.data['recent_events'] = list(self.recent)
        self.data['updated'] = _now()
        folder = os.path.dirname(os.path.abspath(self.stats_file))
        try:
            handle, temp = tempfile.mkstemp(dir=folder, prefix='.syslog_alarms-')
            with os.fdopen(handle, 'w') as out:
                json.dump(self.data, out, indent=1, sort_keys=True)
            os.replace(temp, self.stats_file)
        except OSError as exc:
            # Counting must never stop the source.
            LOGGER.warning('cannot write %s: %s', self.stats_file, exc)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, backlog, counters, max_bytes):
        self.backlog = backlog
        self.counters = counters
        self.max_bytes = max_bytes

    def datagram_received(self, data, addr):
        if len(data) > self.max_bytes:
            self.counters.drop('oversized', '%d bytes, more than %d' % (len(data), self.max_bytes), addr[0], 'udp')
            return
        _enqueue(self.backlog, self.counters, data, addr[0], 'udp')

    def error_received(self, exc):
        LOGGER.warning('UDP receive error: %s', exc)


def _enqueue(backlog, counters, data, peer, transport):
    try:
        backlog.put_nowait((data, peer, transport))
    except asyncio.QueueFull:
        counters.drop('overflow', 'more than %d messages waiting' % BACKLOG, peer, transport)


async def _read_frames(reader, max_bytes):
    """Yield (frame bytes or None, drop reason or None) from one TCP stream: RFC 6587 octet counting or one per line."""
    while True:
        first = await reader.read(1)
        if not first:
            return
        if first.isdigit():
            digits = first
            while True:
                char = await reader.read(1)
                if not char:
                    yield None, ('truncated', 'the connection closed inside a frame length')
                    return
                if char == b' ':
                    break
                if not char.isdigit() or len(digits) > 9:
                    yield None, ('not_syslog', 'a frame length that is not a number')
                    return
                digits += char
            length = int(digits)
            if length > max_bytes:
                yield None, ('oversized', 'a frame of %d bytes, more than %d' % (length, max_bytes))
                return  # the stream cannot be trusted past a frame this size: the connection is closed
            try:
                yield await reader.readexactly(length), None
            except asyncio.IncompleteReadError as exc:
                yield None, ('truncated', 'the connection closed after %d of %d bytes' % (len(exc.partial), length))
                return
        else:
            try:
                line = first + await reader.readuntil(b'\n')
            except asyncio.IncompleteReadError as exc:
                if exc.partial or first.strip():
                    yield first + exc.partial, None
                return
            except asyncio.LimitOverrunError:
                yield None, ('oversized', 'a line longer than %d bytes' % max_bytes)
                return
            if len(line) > max_bytes + 1:
                yield None, ('oversized', 'a line of %d bytes, more than %d' % (len(line), max_bytes))
            elif line.strip():
                yield line, None


async def _consume(backlog, queue, counters, hosts):
    """Parse in arrival order; only alarms reach the rule engine."""
    while True:
        data, peer, transport = await backlog.get()
        try:
            event = alarm_event(data, peer, transport, hosts)
        except Dropped as exc:
            counters.drop(exc.reason, exc.detail, peer, transport)
            continue
        except Exception as exc:  # pylint: disable=broad-except
            # A bug in the parser must cost one message, never the source.
            counters.drop('not_syslog', 'unexpected %s: %s' % (type(exc).__name__, exc), peer, transport)
            continue
        counters.event(event)
        await queue.put(event)


def _settings(args):
    protocols = args.get('protocols') or ['udp', 'tcp']
    if isinstance(protocols, str):
        protocols = [item.strip() for item in protocols.split(',')]
    unknown = sorted(set(protocols) - {'udp', 'tcp'})
    if unknown or not protocols:
        raise ValueError('protocols: %s is not a list of udp and tcp' % (protocols,))
    hosts = args.get('hosts') or {}
    if not isinstance(hosts, dict):
        raise ValueError('hosts: expected a mapping of system name or address to inventory host, got %r' % (hosts,))
    try:
        port = int(args.get('port', DEFAULT_PORT))
        tcp_port = int(args.get('tcp_port') or port)
        max_bytes = int(args.get('max_message_bytes', DEFAULT_MAX_BYTES))
    except (TypeError, ValueError):
        raise ValueError('port, tcp_port and max_message_bytes must be whole numbers')
    for name, value in (('port', port), ('tcp_port', tcp_port)):
        if not 0 <= value <= 65535:
            raise ValueError('%s: %d is not a port number' % (name, value))
    if max_bytes < 480:
        # RFC 5424 section 6.1: every receiver must take messages of at least 480 octets.
        raise ValueError('max_message_bytes: %d is less than the 480 bytes RFC 5424 requires' % max_bytes)
    return {'host': str(args.get('host') or '0.0.0.0'), 'port': port, 'tcp_port': tcp_port, 'protocols': protocols,
            'hosts': dict((str(key), str(value)) for key, value in hosts.items()), 'max_bytes': max_bytes,
            'stats_file': args.get('stats_file')}


async def main(queue, args):
    """Listen until cancelled; each subscription alarm becomes one event on queue."""
    settings = _settings(args)
    counters = Counters(settings['stats_file'])
    backlog = asyncio.Queue(maxsize=BACKLOG)
    loop = asyncio.get_running_loop()
    transport = server = None

    async def connection(reader, writer):
        peer = (writer.get_extra_info('peername') or ('?',))[0]
        try:
            async for frame, dropped in _read_frames(reader, settings['max_bytes']):
                if dropped:
                    counters.drop(dropped[0], dropped[1], peer, 'tcp')
                else:
                    _enqueue(backlog, counters, frame, peer, 'tcp')
        except (ConnectionError, OSError) as exc:
            LOGGER.warning('TCP connection from %s ended: %s', peer, exc)
        finally:
            writer.close()

    try:
        if 'udp' in settings['protocols']:
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _Datagrams(backlog, counters, settings['max_bytes']), local_addr=(settings['host'], settings['port']))
            counters.data['listening']['udp'] = '%s:%d' % transport.get_extra_info('sockname')[:2]
        if 'tcp' in settings['protocols']:
            # The stream limit lets a line one byte past the largest message be recognised as oversized.
            server = await asyncio.start_server(connection, settings['host'], settings['tcp_port'], limit=settings['max_bytes'] + 2)
            counters.data['listening']['tcp'] = '%s:%d' % server.sockets[0].getsockname()[:2]
        LOGGER.info('listening for IP Office subscription alarms on %s', counters.data['listening'])
        counters.save()
        await _consume(backlog, queue, counters, settings['hosts'])
    finally:
        if transport is not None:
            transport.close()
        if server is not None:
            server.close()


if __name__ == '__main__':
    # Run on its own, it prints each event (python syslog_alarms.py [PORT]).
    import sys

    class _PrintQueue(object):
        async def put(self, event):
            print(json.dumps(event, indent=1))

    asyncio.run(main(_PrintQueue(), {'host': '127.0.0.1', 'port': int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PORT}))
