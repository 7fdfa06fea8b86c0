# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An SNTP client (RFC 4330): one request, the answer checked as section 5 asks, the offset and the round trip.

Standard library only: the check modules run on probe hosts that have Python 3 and nothing else.

Why no library: the project adds a well-kept library before writing by hand what it does. ntplib (PyPI) would be
the one, but it is not well kept: its last release is 0.4.0 of May 2021, its author wrote in July 2023 that he
no longer actively uses it (cf-natali/ntplib issue 31), and a fix merged that month was never released. Its
client also takes any packet that comes from the server's address: it does not check that the answer echoes the
request's timestamp, nor the mode, leap indicator, kiss-o'-death or stratum that RFC 4330 section 5 says a client
must check, so the collection would carry that code anyway. It resolves names with the local resolver only, where
time_check needs the IP Office's DNS servers, and its code refuses times after the NTP era rolls over in 2036.
What is left is one 48-byte packet and four timestamps: the functions below, unit-tested against a server on a
loopback UDP socket.
"""

from __future__ import annotations

import errno
import math
import socket
import struct
import time

NTP_EPOCH_OFFSET = 2208988800   # seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix)
NTP_ERA_SECONDS = 1 << 32
PACKET_SIZE = 48
NTP_VERSION = 4
MODE_CLIENT = 3
MODE_SERVER = 4
LEAP_ALARM = 3                  # leap indicator 3: the server's clock is not synchronised
MAX_STRATUM = 15


class SntpError(Exception):
    """No usable answer. kind: 'unreachable' (nothing came back) or 'unusable' (an answer that must not be used)."""

    def __init__(self, kind, text):
        super(SntpError, self).__init__(text)
        self.kind = kind


# --- the SNTP packet (RFC 4330) ------------------------------------------------------------------------------------

def to_ntp(unix_seconds):
    """Unix seconds -> 8-byte NTP timestamp (32-bit seconds since 1900, wrapping per era, 32-bit fraction)."""
    whole = math.floor(unix_seconds)
    fraction = int((unix_seconds - whole) * NTP_ERA_SECONDS) & 0xFFFFFFFF
    return struct.pack('!II', (int(whole) + NTP_EPOCH_OFFSET) % NTP_ERA_SECONDS, fraction)


def from_ntp(data):
    """8-byte NTP timestamp -> Unix seconds. RFC 4330 section 3: with the top bit set the time is in 1968-2036
    (era 0), without it in 2036-2104 (era 1), so the same code works across the 2036 rollover."""
    seconds, fraction = struct.unpack('!II', data)
    if not seconds & 0x80000000:
        seconds += NTP_ERA_SECONDS
    return seconds - NTP_EPOCH_OFFSET + fraction / float(NTP_ERA_SECONDS)


def build_request(unix_seconds):
    """A client request whose transmit timestamp is unix_seconds -> (packet, the transmit timestamp's bytes)."""
    transmit = to_ntp(unix_seconds)
    packet = bytearray(PACKET_SIZE)
    packet[0] = (NTP_VERSION << 3) | MODE_CLIENT    # leap indicator 0
    packet[40:48] = transmit
    return bytes(packet), transmit


def parse_reply(reply, transmit):
    """Check a server's answer to the request whose transmit timestamp was `transmit` (RFC 4330 section 5).

    Returns {'leap', 'version', 'stratum', 'reference_id', 'receive', 'transmit'} (times as Unix seconds), or raises
    SntpError('unusable', why) for an answer that must not be used, and SntpError('mismatch', why) for one that does
    not answer this request (the caller keeps waiting)."""
    if len(reply) < PACKET_SIZE:
        raise SntpError('unusable', 'a short answer (%d bytes, at least %d expected)' % (len(reply), PACKET_SIZE))
    leap, version, mode = reply[0] >> 6, (reply[0] >> 3) & 0x7, reply[0] & 0x7
    stratum = reply[1]
    if mode != MODE_SERVER:
        raise SntpError('mismatch', 'not a server answer (mode %d)' % mode)
    if reply[24:32] != transmit:
        raise SntpError('mismatch', 'an answer to another request (its originate timestamp is not ours)')
    reference_id = reply[12:16]
    if stratum == 0:
        code = reference_id.decode('ascii', 'replace').strip('\0 ')
        raise SntpError('unusable', "a kiss-o'-death answer (%s): the server tells this client to stop asking%s"
                        % (code or 'no code', ' (rate limit)' if code == 'RATE' else
                           ' (access denied)' if code in ('DENY', 'RSTR') else ''))
    if leap == LEAP_ALARM or stratum > MAX_STRATUM:
        raise SntpError('unusable', 'the server says its own clock is not synchronised (leap indicator %d, stratum %d)'
                        % (leap, stratum))
    if reply[40:48] == b'\0' * 8:
        raise SntpError('unusable', 'an answer without a transmit timestamp')
    if stratum == 1:
        reference = reference_id.decode('ascii', 'replace').strip('\0 ')
    else:
        reference = socket.inet_ntoa(reference_id)
    return {'leap': leap, 'version': version, 'stratum': stratum, 'reference_id': reference,
            'receive': from_ntp(reply[32:40]), 'transmit': from_ntp(reply[40:48])}


def offset_and_delay(t1, t2, t3, t4):
    """RFC 4330 section 5: t1 request sent (client clock), t2 received (server clock), t3 answer sent (server clock),
    t4 received (client clock) -> (offset of the server's clock from the client's, round-trip delay), in seconds."""
    return ((t2 - t1) + (t3 - t4)) / 2.0, (t4 - t1) - (t3 - t2)


# --- the network ---------------------------------------------------------------------------------------------------

def sntp_query(address, port, timeout, clock=time.time):
    """One SNTP request to address:port, no retry -> parse_reply's dict plus 'offset' and 'delay' (seconds).
    Raises SntpError. Stray or stale packets are skipped until the timeout runs out."""
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # Connected, so only the server's address and port can answer (and an ICMP refusal is reported at once).
        sock.connect((address, port))
        sent = clock()
        packet, transmit = build_request(sent)
        sock.send(packet)
        skipped = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SntpError('unreachable', 'no answer from %s:%d within %g s%s' % (
                    address, port, timeout, (' (ignored: %s)' % '; '.join(skipped)) if skipped else ''))
            sock.settimeout(remaining)
            try:
                reply = sock.recv(512)
            except socket.timeout:
                continue
            received = clock()
            try:
                answer = parse_reply(reply, transmit)
            except SntpError as exc:
                if exc.kind == 'mismatch':
                    skipped.append(str(exc))
                    continue
                raise
            answer['offset'], answer['delay'] = offset_and_delay(sent, answer['receive'], answer['transmit'], received)
            return answer
    except OSError as exc:
        text = exc.strerror or str(exc)
        if exc.errno == errno.ECONNREFUSED:
            text = 'nothing listens on UDP port %d (the host answered port unreachable)' % port
        raise SntpError('unreachable', '%s:%d: %s' % (address, port, text))
    finally:
        sock.close()
