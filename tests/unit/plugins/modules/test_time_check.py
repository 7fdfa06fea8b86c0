# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""time_check's SNTP packet code (RFC 4330), offset math and judgements; the query against a small SNTP server on
127.0.0.1 in this process."""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from ansible_collections.ipoffice.subscription.plugins.modules import time_check

RESULT_KEYS = {'check', 'status', 'passed', 'measured', 'limit', 'unit', 'summary', 'hint', 'details'}
ZONES = {'Europe/London', 'Europe/Berlin', 'UTC'}


def reply(transmit, receive_at, transmit_at, leap=0, version=4, mode=4, stratum=2, reference=b'\xc0\x00\x02\x01'):
    """A server answer echoing the request's transmit timestamp."""
    return struct.pack('!BBbb4s4s4s8s8s8s8s', (leap << 6) | (version << 3) | mode, stratum, 6, -20, b'\0' * 4,
                       b'\0' * 4, reference, time_check.to_ntp(transmit_at - 10), transmit,
                       time_check.to_ntp(receive_at), time_check.to_ntp(transmit_at))


# --- timestamps and packets -------------------------------------------------------------------------------------

@pytest.mark.parametrize('unix', [0.0, 1764000000.25, 1764000000.999, 2085978495.5, 2085978496.5, 2200000000.125])
def test_ntp_timestamps_round_trip_across_the_2036_era_rollover(unix):
    # 2085978496 is 2036-02-07T06:28:16Z, where NTP era 0 ends.
    assert abs(time_check.from_ntp(time_check.to_ntp(unix)) - unix) < 1e-6


def test_the_ntp_epoch_is_1900():
    assert time_check.to_ntp(0.0) == struct.pack('!II', 2208988800, 0)
    assert time_check.to_ntp(1.5) == struct.pack('!II', 2208988801, 1 << 31)


def test_a_request_is_48_bytes_version_4_client_mode_with_the_transmit_timestamp_only():
    packet, transmit = time_check.build_request(1764000000.5)
    assert len(packet) == 48 and packet[0] == 0x23   # LI 0, VN 4, mode 3
    assert packet[40:48] == transmit == time_check.to_ntp(1764000000.5)
    assert packet[1:40] == b'\0' * 39


def test_offset_and_delay_follow_rfc_4330():
    # The server is 100 s ahead; 20 ms each way; 5 ms inside the server.
    t1 = 1000.0
    t2 = t1 + 0.020 + 100.0
    t3 = t2 + 0.005
    t4 = t1 + 0.045
    offset, delay = time_check.offset_and_delay(t1, t2, t3, t4)
    assert offset == pytest.approx(100.0) and delay == pytest.approx(0.040)


def test_a_good_answer_parses():
    packet, transmit = time_check.build_request(1764000000.0)
    answer = time_check.parse_reply(reply(transmit, 1764000000.01, 1764000000.02), transmit)
    assert answer['stratum'] == 2 and answer['leap'] == 0 and answer['version'] == 4
    assert answer['reference_id'] == '192.0.2.1'
    assert answer['receive'] == pytest.approx(1764000000.01, abs=1e-6)
    assert answer['transmit'] == pytest.approx(1764000000.02, abs=1e-6)


def test_stratum_1_names_its_reference_clock():
    packet, transmit = time_check.build_request(1764000000.0)
    answer = time_check.parse_reply(reply(transmit, 1764000000.0, 1764000000.0, stratum=1, reference=b'GPS\0'), transmit)
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
    packet, transmit = time_check.build_request(1764000000.0)
    echo = change.pop('echo', transmit)
    data = reply(echo, 1764000000.0, 1764000000.0, **change)
    with pytest.raises(time_check.SntpError) as caught:
        time_check.parse_reply(data, transmit)
    assert caught.value.kind == kind and fragment in str(caught.value)


def test_a_short_answer_or_one_without_a_transmit_timestamp_is_refused():
    packet, transmit = time_check.build_request(1764000000.0)
    with pytest.raises(time_check.SntpError, match='short answer'):
        time_check.parse_reply(b'\x24' * 20, transmit)
    data = bytearray(reply(transmit, 1764000000.0, 1764000000.0))
    data[40:48] = b'\0' * 8
    with pytest.raises(time_check.SntpError, match='without a transmit timestamp'):
        time_check.parse_reply(bytes(data), transmit)


# --- judgements -------------------------------------------------------------------------------------------------

def test_offset_within_the_limit_passes_either_way():
    assert time_check.judge_offset(4.9, 5, 'ntp')['status'] == 'pass'
    result = time_check.judge_offset(-4.9996, 5, 'ntp')
    assert set(result) == RESULT_KEYS and result['status'] == 'pass' and result['measured'] == -5.0
    assert result['limit'] == 5 and result['unit'] == 's'


@pytest.mark.parametrize('offset', [3600.2, -5.01])
def test_offset_beyond_the_limit_fails_with_the_measured_value(offset):
    result = time_check.judge_offset(offset, 5, 'ntp.example')
    assert result['status'] == 'fail' and result['measured'] == round(offset, 3)
    assert 'ntp.example' in result['hint'] and 'COM refuses' in result['hint']


def test_no_offset_is_not_measured():
    assert time_check.judge_offset(None, 5, 'ntp')['status'] == 'not_measured'


@pytest.mark.parametrize('value', ['', '  ', None])
def test_an_empty_time_zone_fails(value):
    result = time_check.judge_time_zone(value, names=ZONES)
    assert result['status'] == 'fail' and 'no time zone is set' in result['summary'] and 'time_zone' in result['hint']


@pytest.mark.parametrize('value', ['Mars/Olympus_Mons', 'europe/london', 'GMT+1'])
def test_a_time_zone_that_is_no_iana_name_fails(value):
    result = time_check.judge_time_zone(value, names=ZONES)
    assert result['status'] == 'fail' and result['measured'] == value
    assert "must be an IANA time zone name such as Europe/London: got %r" % value in result['hint']


def test_an_iana_time_zone_passes():
    result = time_check.judge_time_zone('Europe/Berlin', names=ZONES)
    assert result['status'] == 'pass' and result['measured'] == 'Europe/Berlin'


def test_the_real_time_zone_database_knows_europe_london():
    assert time_check.judge_time_zone('Europe/London')['status'] == 'pass'


def test_without_a_time_zone_database_the_zone_is_not_measured():
    assert time_check.judge_time_zone('Europe/London', names=set())['status'] == 'not_measured'


def test_unreachable_and_unusable_sources_fail_with_different_hints():
    silent = time_check.judge_reachable('ntp.example', '192.0.2.123',
                                        error=time_check.SntpError('unreachable', 'no answer'), port=123)
    assert silent['status'] == 'fail' and 'did not answer' in silent['hint'] and 'UDP port 123' in silent['hint']
    kod = time_check.judge_reachable('ntp.example', '192.0.2.123', error=time_check.SntpError('unusable', 'kiss'))
    assert kod['status'] == 'fail' and 'must not be used' in kod['hint']
    unresolved = time_check.judge_reachable('ntp.example', None, resolve_problem='NXDOMAIN')
    assert unresolved['status'] == 'fail' and 'does not resolve (NXDOMAIN)' in unresolved['hint']


# --- input ------------------------------------------------------------------------------------------------------

GOOD = dict(server='time.google.com', dns_server=None, port=123, timeout=3.0, max_offset_seconds=5.0,
            time_zone='Europe/London')


def test_good_input_has_no_problems():
    assert time_check.check_input(GOOD) == []
    assert time_check.check_input(dict(GOOD, server='192.0.2.123', dns_server='192.0.2.53', time_zone='')) == []


@pytest.mark.parametrize('change, fragment', [
    (dict(server='ntp://time.google.com'), "server must be a host name or an IPv4 address, not a URL or a path"),
    (dict(server='time.google.com:123'), 'without a port'),
    (dict(dns_server='dns.example'), "dns_server must be an IPv4 address in dotted-quad form: got 'dns.example'"),
    (dict(port=70000), 'port must be a TCP port from 1 to 65535: got 70000'),
    (dict(timeout=-1.0), 'timeout must be more than 0 and at most 60: got -1.0'),
    (dict(max_offset_seconds=0.0), 'max_offset_seconds must be more than 0: got 0.0'),
])
def test_bad_input_names_the_option_and_the_value(change, fragment):
    problems = time_check.check_input(dict(GOOD, **change))
    assert any(fragment in problem for problem in problems), problems


# --- resolution -------------------------------------------------------------------------------------------------

def test_an_address_is_used_as_it_is(mocker):
    local = mocker.patch.object(time_check.socket, 'getaddrinfo')
    assert time_check.resolve(dict(GOOD, server='192.0.2.123')) == ('192.0.2.123', 'address', ['192.0.2.123'], None)
    local.assert_not_called()


def test_a_name_goes_to_the_dns_server_when_given_never_to_the_local_resolver(mocker):
    local = mocker.patch.object(time_check.socket, 'getaddrinfo')
    through = mocker.patch.object(time_check, 'resolve_through', return_value=(['192.0.2.7', '192.0.2.8'], None))
    assert time_check.resolve(dict(GOOD, dns_server='192.0.2.53')) == (
        '192.0.2.7', 'dns_server', ['192.0.2.7', '192.0.2.8'], None)
    through.assert_called_once_with('192.0.2.53', 'time.google.com', 3.0)
    local.assert_not_called()


def test_a_name_without_a_dns_server_goes_to_the_local_resolver(mocker):
    mocker.patch.object(time_check.socket, 'getaddrinfo', return_value=[
        (socket.AF_INET, socket.SOCK_DGRAM, 17, '', ('192.0.2.9', 123)),
        (socket.AF_INET, socket.SOCK_DGRAM, 17, '', ('192.0.2.9', 123))])
    assert time_check.resolve(GOOD) == ('192.0.2.9', 'local_resolver', ['192.0.2.9'], None)


def test_a_name_the_local_resolver_does_not_know_is_a_problem(mocker):
    mocker.patch.object(time_check.socket, 'getaddrinfo', side_effect=socket.gaierror(-2, 'Name or service not known'))
    address, how, addresses, problem = time_check.resolve(GOOD)
    assert address is None and how == 'local_resolver' and 'Name or service not known' in problem


# --- the query over a real socket -------------------------------------------------------------------------------

class TinySntp(object):
    """A one-thread SNTP server on 127.0.0.1: answers with its clock plus skew, or stays silent, or first sends a
    stray packet that answers another request."""

    def __init__(self, skew=0.0, silent=False, stray_first=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.skew, self.silent, self.stray_first = skew, silent, stray_first
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            data, peer = self.sock.recvfrom(512)
        except OSError:
            return
        if self.silent:
            return
        now = time.time() + self.skew
        if self.stray_first:
            self.sock.sendto(reply(b'\x01' * 8, now, now), peer)
        self.sock.sendto(reply(data[40:48], now, now), peer)

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.mark.parametrize('skew', [0.0, 3600.0, -42.5])
def test_the_query_measures_the_servers_offset(skew):
    server = TinySntp(skew=skew)
    try:
        answer = time_check.sntp_query('127.0.0.1', server.port, 2)
    finally:
        server.close()
    assert answer['offset'] == pytest.approx(skew, abs=0.2)
    assert -0.01 <= answer['delay'] < 0.5 and answer['stratum'] == 2


def test_a_stray_answer_to_another_request_is_skipped():
    server = TinySntp(stray_first=True)
    try:
        answer = time_check.sntp_query('127.0.0.1', server.port, 2)
    finally:
        server.close()
    assert answer['offset'] == pytest.approx(0.0, abs=0.2)


def test_a_silent_server_fails_after_the_timeout_not_later():
    server = TinySntp(silent=True)
    started = time.monotonic()
    try:
        with pytest.raises(time_check.SntpError) as caught:
            time_check.sntp_query('127.0.0.1', server.port, 0.5)
    finally:
        server.close()
    elapsed = time.monotonic() - started
    assert caught.value.kind == 'unreachable' and 'no answer from 127.0.0.1:%d within 0.5 s' % server.port in str(caught.value)
    assert 0.45 <= elapsed < 2.0


def test_a_closed_port_fails_at_once():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()   # nothing listens there now
    started = time.monotonic()
    with pytest.raises(time_check.SntpError) as caught:
        time_check.sntp_query('127.0.0.1', port, 3)
    assert caught.value.kind == 'unreachable' and 'nothing listens' in str(caught.value)
    assert time.monotonic() - started < 1.5


def test_run_checks_adds_up_the_three_checks():
    server = TinySntp(skew=3600.0)
    try:
        outcome = time_check.run_checks(dict(GOOD, server='127.0.0.1', port=server.port, time_zone=''))
    finally:
        server.close()
    assert [item['check'] for item in outcome['checks']] == ['time.source_reachable', 'time.offset', 'time.time_zone']
    assert outcome['failed_checks'] == ['time.offset', 'time.time_zone'] and outcome['passed'] is False
    assert outcome['failed'] is True and outcome['msg'].startswith('failed: time.offset (the time source 127.0.0.1')
    assert outcome['offset_seconds'] == pytest.approx(3600.0, abs=0.2) and outcome['address'] == '127.0.0.1'
    assert outcome['resolved_through'] == 'address' and outcome['source_time'].endswith('Z')
    assert outcome['changed'] is False


def test_an_unreachable_time_source_names_udp_123_through_the_default_route():
    silent = time_check.judge_reachable('ntp.example', '192.0.2.123', error=time_check.SntpError('unreachable', 'no answer'), port=123)
    assert 'SNTP (UDP port 123) out through the default route' in silent['hint'] and "customer's firewall administrator" in silent['hint']
