# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The SNTP client (RFC 4330): its packet code and offset math, and its query against a small SNTP server on a real
UDP socket on 127.0.0.1 in this process. No stopwatch: times come from the clocks the client and the server accept,
and "within the timeout" is read from the waits the client set on its socket (socket_spy.py)."""

from __future__ import annotations

import errno
import socket
import struct

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import sntp
from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.sntp_server import TinySntp, reply
from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.socket_spy import SocketSpy


# --- timestamps and packets -------------------------------------------------------------------------------------

@pytest.mark.parametrize('unix', [0.0, 1764000000.25, 1764000000.999, 2085978495.5, 2085978496.5, 2200000000.125])
def test_ntp_timestamps_round_trip_across_the_2036_era_rollover(unix):
    # 2085978496 is 2036-02-07T06:28:16Z, where NTP era 0 ends.
    assert abs(sntp.from_ntp(sntp.to_ntp(unix)) - unix) < 1e-6


def test_the_ntp_epoch_is_1900():
    assert sntp.to_ntp(0.0) == struct.pack('!II', 2208988800, 0)
    assert sntp.to_ntp(1.5) == struct.pack('!II', 2208988801, 1 << 31)


def test_a_request_is_48_bytes_version_4_client_mode_with_the_transmit_timestamp_only():
    packet, transmit = sntp.build_request(1764000000.5)
    assert len(packet) == 48 and packet[0] == 0x23   # LI 0, VN 4, mode 3
    assert packet[40:48] == transmit == sntp.to_ntp(1764000000.5)
    assert packet[1:40] == b'\0' * 39


def test_offset_and_delay_follow_rfc_4330():
    # The server is 100 s ahead; 20 ms each way; 5 ms inside the server.
    t1 = 1000.0
    t2 = t1 + 0.020 + 100.0
    t3 = t2 + 0.005
    t4 = t1 + 0.045
    offset, delay = sntp.offset_and_delay(t1, t2, t3, t4)
    assert offset == pytest.approx(100.0) and delay == pytest.approx(0.040)


def test_a_good_answer_parses():
    packet, transmit = sntp.build_request(1764000000.0)
    answer = sntp.parse_reply(reply(transmit, 1764000000.01, 1764000000.02), transmit)
    assert answer['stratum'] == 2 and answer['leap'] == 0 and answer['version'] == 4
    assert answer['reference_id'] == '192.0.2.1'
    assert answer['receive'] == pytest.approx(1764000000.01, abs=1e-6)
    assert answer['transmit'] == pytest.approx(1764000000.02, abs=1e-6)


def test_stratum_1_names_its_reference_clock():
    packet, transmit = sntp.build_request(1764000000.0)
    answer = sntp.parse_reply(reply(transmit, 1764000000.0, 1764000000.0, stratum=1, reference=b'GPS\0'), transmit)
    assert answer['reference_id'] == 'GPS'


@pytest.mark.parametrize('change, kind, fragment', [
    (dict(mode=3), 'mismatch', 'mode 3'),
    (dict(echo=b'\0' * 8), 'mismatch', 'another request'),
    (dict(stratum=0, reference=b'RATE'), 'unusable', "kiss-o'-death answer (RATE)"),
    (dict(stratum=0, reference=b'DENY'), 'unusable', 'access denied'),
    (dict(leap=3), 'unusable', 'not synchronised (leap indicator 3'),
    (dict(stratum=16), 'unusable', 'stratum 16'),
])
def test_answers_rfc_4330_says_not_to_use_are_refused(change, kind, fragment):
    packet, transmit = sntp.build_request(1764000000.0)
    echo = change.pop('echo', transmit)
    data = reply(echo, 1764000000.0, 1764000000.0, **change)
    with pytest.raises(sntp.SntpError) as caught:
        sntp.parse_reply(data, transmit)
    assert caught.value.kind == kind and fragment in str(caught.value)


def test_a_short_answer_or_one_without_a_transmit_timestamp_is_refused():
    packet, transmit = sntp.build_request(1764000000.0)
    with pytest.raises(sntp.SntpError, match='short answer'):
        sntp.parse_reply(b'\x24' * 20, transmit)
    data = bytearray(reply(transmit, 1764000000.0, 1764000000.0))
    data[40:48] = b'\0' * 8
    with pytest.raises(sntp.SntpError, match='without a transmit timestamp'):
        sntp.parse_reply(bytes(data), transmit)


# --- the query over a real socket -------------------------------------------------------------------------------

def scripted_clock(*times):
    """The clock sntp_query accepts: it answers these times in order (request sent, answer received)."""
    answers = list(times)
    return lambda: answers.pop(0)


@pytest.mark.parametrize('skew', [0.0, 3600.0, -42.5])
def test_the_query_measures_the_servers_offset(skew):
    # Client clock: sent at 1000.000, received at 1000.040; the server's clock is `skew` ahead and it holds the
    # request 4 ms: RFC 4330 gives exactly that offset and a 36 ms round trip, whatever the machine's load.
    server = TinySntp(clock=scripted_clock(1000.018 + skew, 1000.022 + skew))
    try:
        answer = sntp.sntp_query('127.0.0.1', server.port, 5, clock=scripted_clock(1000.0, 1000.040))
    finally:
        server.close()
    assert answer['offset'] == pytest.approx(skew, abs=1e-6)
    assert answer['delay'] == pytest.approx(0.036, abs=1e-6) and answer['stratum'] == 2
    assert server.requests == 1


def test_a_stray_answer_to_another_request_is_skipped(monkeypatch):
    server = TinySntp(stray_first=True, clock=scripted_clock(1000.01, 1000.01, 1000.01, 1000.01))
    spy = SocketSpy(monkeypatch)
    try:
        answer = sntp.sntp_query('127.0.0.1', server.port, 5, clock=scripted_clock(1000.0, 1000.02, 1000.02))
    finally:
        server.close()
    assert answer['offset'] == pytest.approx(0.0, abs=1e-6)
    # Two packets read, the stray one first; one request sent.
    assert spy.receives() == [48, 48] and server.requests == 1


def test_a_silent_server_fails_after_the_timeout_not_later(monkeypatch):
    server = TinySntp(silent=True)
    spy = SocketSpy(monkeypatch)
    try:
        with pytest.raises(sntp.SntpError) as caught:
            sntp.sntp_query('127.0.0.1', server.port, 0.5)
    finally:
        server.close()
    assert caught.value.kind == 'unreachable' and 'no answer from 127.0.0.1:%d within 0.5 s' % server.port in str(caught.value)
    # One request, no retry; the waits are what is left of the one budget, each shorter than the one before,
    # never more than the timeout in all; it stopped on a receive that timed out.
    assert server.requests == 1 and spy.ran_out_once(0.5), spy.calls


def test_a_closed_port_fails_at_once(monkeypatch):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()   # nothing listens there now
    spy = SocketSpy(monkeypatch)
    with pytest.raises(sntp.SntpError) as caught:
        sntp.sntp_query('127.0.0.1', port, 3)
    assert caught.value.kind == 'unreachable' and 'nothing listens' in str(caught.value)
    # At once: the first receive brought the refusal; no wait ran out.
    assert spy.receives() == [errno.ECONNREFUSED], spy.calls
