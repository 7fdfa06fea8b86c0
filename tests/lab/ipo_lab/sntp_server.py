"""The lab's SNTP server (RFC 4330) over UDP: it tells the lab clock's time, plus a skew a test can set.

Systems whose time source is SNTP ask it; a skew makes their clocks wrong in
a controlled way (COM refuses a link from a system whose clock is too far
off), and silent mode stands for an unreachable time server. Only client
requests (mode 3, at least 48 bytes) are answered; anything else is ignored.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import struct

from . import world

LOG = logging.getLogger('ipo_lab.sntp')

LOG_SIZE = 10000
NTP_EPOCH_OFFSET = 2208988800   # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
PACKET = struct.Struct('!BBbb4s4s4s8s8s8s8s')
MODE_CLIENT = 3
MODE_SERVER = 4
STRATUM = 2
PRECISION = -20                 # about a microsecond, as log2 seconds
REFERENCE_ID = b'LAB\0'
MAX_SKEW = 10 * 365 * 86400.0   # keeps timestamps inside the NTP era and catches unit mistakes


def ntp_timestamp(seconds):
    """Unix seconds -> the 8-byte NTP timestamp (32-bit seconds since 1900, wrapping per era, 32-bit fraction)."""
    whole = math.floor(seconds)
    fraction = int((seconds - whole) * 4294967296.0) & 0xFFFFFFFF
    return struct.pack('!II', (int(whole) + NTP_EPOCH_OFFSET) & 0xFFFFFFFF, fraction)


def check_skew(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError('skew_seconds: %r is not a number of seconds' % (value,))
    if abs(value) > MAX_SKEW:
        raise ValueError('skew_seconds: %r is more than ten years (%d s) either way' % (value, MAX_SKEW))
    return float(value)


def check_mode(value):
    if value not in world.SNTP_MODES:
        raise ValueError('mode: %r is not one of %s' % (value, ', '.join(world.SNTP_MODES)))
    return value


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, service):
        self.service = service
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        reply = self.service.handle(data, addr[0])
        if reply is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc):
        LOG.debug('UDP error %s', exc)


class LabSNTP:
    def __init__(self, spec, clock):
        self.spec = spec
        self.clock = clock
        self.log = collections.deque(maxlen=LOG_SIZE)
        self.seq = 0
        self.count = 0
        self.transport = None
        self.skew_seconds = 0.0
        self.mode = spec.mode
        self.reset()

    async def start(self):
        loop = asyncio.get_running_loop()
        self.transport, _protocol = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(self.spec.address, self.spec.port))

    async def stop(self):
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def reset(self):
        """Skew and mode back to the topology, query log and count cleared (seq keeps counting)."""
        self.skew_seconds = float(self.spec.skew_seconds)
        self.mode = self.spec.mode
        self.log.clear()
        self.count = 0

    def describe(self):
        return {'address': self.spec.address, 'port': self.spec.port, 'skew_seconds': self.skew_seconds, 'mode': self.mode,
                'queries': self.count, 'last_seq': self.seq}

    def configure(self, skew_seconds=None, mode=None):
        """Change the skew and/or the mode; both are checked before either is set."""
        skew = self.skew_seconds if skew_seconds is None else check_skew(skew_seconds)
        mode = self.mode if mode is None else check_mode(mode)
        self.skew_seconds = skew
        self.mode = mode
        return self.describe()

    def queries(self, since=0):
        return [entry for entry in self.log if entry['seq'] > since]

    def handle(self, data, client):
        """One datagram -> the 48-byte answer, or None."""
        received = self.clock.now() + self.skew_seconds
        if len(data) < PACKET.size:
            return None
        first = data[0]
        version = (first >> 3) & 0x7
        if first & 0x7 != MODE_CLIENT:
            return None
        self.seq += 1
        self.count += 1
        answered = self.mode == 'serve'
        self.log.append({'seq': self.seq, 'time': self.clock.now(), 'client': client, 'version': version, 'answered': answered})
        if not answered:
            return None
        poll = data[2]
        poll = poll - 256 if poll > 127 else poll
        originate = data[40:48]
        return PACKET.pack((version << 3) | MODE_SERVER, STRATUM, poll, PRECISION,   # leap indicator 0: no warning
                           b'\0\0\0\0',                      # root delay
                           struct.pack('!I', 1 << 10),       # root dispersion: 1/64 s
                           REFERENCE_ID,
                           ntp_timestamp(received - 16),     # reference: "last set" a little before
                           originate,
                           ntp_timestamp(received),
                           ntp_timestamp(self.clock.now() + self.skew_seconds))


def control_routes(service):
    """(method, path, handler) for the control API: /lab/sntp..."""
    # Imported here so control.py can import this module without an import cycle.
    from .control import BadRequest, answer, body, since_param

    async def describe(request):
        return answer(service.describe())

    async def configure(request):
        data = await body(request)
        unknown = set(data) - {'skew_seconds', 'mode'}
        if unknown:
            raise BadRequest('unknown keys: %s (use skew_seconds and/or mode)' % ', '.join(sorted(unknown)))
        if data.get('skew_seconds', 0) is None or data.get('mode', '') is None:
            raise BadRequest('skew_seconds and mode must not be null')
        try:
            result = service.configure(skew_seconds=data.get('skew_seconds'), mode=data.get('mode'))
        except ValueError as exc:
            raise BadRequest(str(exc))
        return answer(dict(result, ok=True))

    async def queries(request):
        return answer(service.queries(since_param(request)))

    return [
        ('GET', '/lab/sntp', describe),
        ('POST', '/lab/sntp', configure),
        ('GET', '/lab/sntp/queries', queries),
    ]
