# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How port_check, tls_check and link_quality_check judge what they measured (no sockets here)."""

from __future__ import annotations

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, netprobe
from ansible_collections.ipoffice.subscription.plugins.modules import link_quality_check, port_check, tls_check

ADDRESS = '192.0.2.44'
SERVER = 'admin.uk1.avaya-sub.com'


def port(number, *states):
    tried = [{'state': state, 'ms': 1.0, 'error': None if state == 'open' else state, 'tls_answer': 'server_hello' if state == 'open' else None,
              'attempt': index + 1} for index, state in enumerate(states)]
    return {'port': number, 'state': states[-1], 'open': states[-1] == 'open', 'attempts': tried}


def by_name(results):
    return dict((item['check'], item) for item in results)


def test_both_ports_open_pass():
    found = by_name(port_check.judge(ADDRESS, [port(443, 'open'), port(8443, 'open')], 3))
    assert [found[name]['status'] for name in ('ports.443', 'ports.8443', 'ports.any_open')] == ['pass'] * 3
    assert found['ports.any_open']['measured'] == [443, 8443]


@pytest.mark.parametrize('state', ['refused', 'timeout', 'silent'])
def test_a_closed_443_passes_with_a_note_while_8443_is_open(state):
    found = by_name(port_check.judge(ADDRESS, [port(443, state), port(8443, 'open')], 3))
    assert found['ports.443']['status'] == 'pass' and found['ports.443']['measured'] == state
    assert 'the IP Office uses 8443 after 443 fails' in found['ports.443']['summary']
    assert found['ports.443']['details']['required'] is False
    assert found['ports.any_open']['status'] == 'pass'
    assert 'uses 8443 after 443 fails' in found['ports.any_open']['summary']
    waits = 'waits for 443 to time out' in found['ports.any_open']['summary']
    assert waits is (state != 'refused')
    assert checks.add_up(list(found.values()))['passed'] is True


def test_a_closed_8443_behind_an_open_443_is_only_noted():
    found = by_name(port_check.judge(ADDRESS, [port(443, 'open'), port(8443, 'refused')], 3))
    assert found['ports.8443']['status'] == 'pass'
    assert found['ports.any_open']['summary'].endswith('8443 not (not needed while 443 is open)')


@pytest.mark.parametrize('state, fragment', [
    ('refused', 'must allow outbound TCP 443'), ('timeout', 'no answer within 3 s'), ('unreachable', 'no route'),
    ('silent', 'without inspection'), ('reset', 'without inspection'), ('not_tls', 'without inspection'),
])
def test_no_open_port_fails_every_check_with_a_hint(state, fragment):
    results = port_check.judge(ADDRESS, [port(443, state, state), port(8443, 'refused')], 3)
    summary = checks.add_up(results)
    assert summary['failed'] == ['ports.443', 'ports.8443', 'ports.any_open']
    assert fragment in by_name(results)['ports.443']['hint']
    assert 'TCP 443 and 8443' in by_name(results)['ports.any_open']['hint']


def test_an_open_port_after_failed_attempts_says_so():
    found = by_name(port_check.judge(ADDRESS, [port(443, 'timeout', 'open')], 3))
    assert found['ports.443']['status'] == 'pass' and 'after 1 failed attempt' in found['ports.443']['summary']


def port_params(**change):
    params = dict(address=ADDRESS, ports=[443, 8443], attempts=1, timeout=3.0, tls_probe=True, server_name=None)
    params.update(change)
    return params


@pytest.mark.parametrize('change, fragment', [
    (dict(address='admin.uk1.avaya-sub.com'), "address must be an IPv4 address in dotted-quad form: got 'admin.uk1"),
    (dict(ports=[]), 'ports must be a non-empty list'), (dict(attempts=11), 'attempts must be 1 to 10: got 11'),
    (dict(timeout=0.0), 'timeout must be more than 0 and at most 60: got 0.0'),
    (dict(server_name='192.0.2.44'), 'server_name must be a host name'),
])
def test_port_check_input(change, fragment):
    assert port_check.check_input(port_params()) == []
    assert any(fragment in problem for problem in port_check.check_input(port_params(**change)))


# -- tls_check -----------------------------------------------------------------------------------------------------

TLS_PARAMS = dict(address=ADDRESS, port=443, server_name=SERVER, ca_path='/etc/ipoffice/com-ca.pem', client_cert=None,
                  client_key=None, path='/link/v1', timeout=3.0)


def shake(**attributes):
    result = netprobe.Handshake()
    result.tcp_state = 'open'
    for key, value in attributes.items():
        setattr(result, key, value)
    return result


def test_version_other_than_1_2_fails():
    judged = tls_check.judge_version(shake(version='TLSv1.1'), TLS_PARAMS)
    assert judged['status'] == 'fail' and judged['measured'] == 'TLSv1.1' and 'TLS 1.2' in judged['hint']
    assert tls_check.judge_version(shake(version='TLSv1.2'), TLS_PARAMS)['status'] == 'pass'


def test_no_version_says_why():
    refused = shake(tcp_state='refused', tcp_error='Connection refused')
    assert 'not open (refused)' in tls_check.judge_version(refused, TLS_PARAMS)['hint']
    silent = shake(error_kind='timeout', error='no TLS answer within 3 s')
    assert 'says nothing' in tls_check.judge_version(silent, TLS_PARAMS)['hint']


def test_a_flight_without_certificate_request_fails_mutual_authentication():
    handshake = shake()
    handshake.server.handshake_types = [2, 11, 12, 14]
    judged = tls_check.judge_certificate_request(handshake, TLS_PARAMS)
    assert judged['status'] == 'fail' and judged['measured'] is False and 'TLS-intercepting proxy' in judged['hint']
    assert tls_check.judge_certificate_request(shake(), TLS_PARAMS)['status'] == 'not_measured'


@pytest.mark.parametrize('message, fragment', [
    ('unable to get local issuer certificate', 'issued by "O=Proxy CA", not by the expected CA (/etc/ipoffice/com-ca.pem)'),
    ("Hostname mismatch, certificate is not valid for 'admin.uk1.avaya-sub.com'.", 'does not name admin.uk1.avaya-sub.com'),
    ('certificate has expired', 'outside its validity'),
])
def test_certificate_hints(message, fragment):
    leaf = {'subject': 'CN=x', 'issuer': 'O=Proxy CA', 'alt_names': ['DNS:x'], 'not_before': None, 'not_after': None}
    judged = tls_check.judge_certificate(shake(error_kind='verify', verify_message=message), [leaf], TLS_PARAMS)
    assert judged['status'] == 'fail' and fragment in judged['hint']


def test_websocket_without_identity_is_not_measured():
    handshake = shake()
    handshake.server.records = 3
    judged, facts = tls_check.try_websocket(handshake, TLS_PARAMS, None)
    assert judged['status'] == 'not_measured' and facts['state'] == 'not_tried' and 'client_cert' in facts['error']


# -- link_quality_check --------------------------------------------------------------------------------------------

QUALITY_PARAMS = dict(address=ADDRESS, port=443, max_round_trip_ms=200.0, min_throughput_kbps=128.0, lab_throughput_protocol=False)


def test_the_application_round_trip_is_preferred_over_tcp_connects():
    judged, method, stats = link_quality_check.judge_round_trip(QUALITY_PARAMS, [1.0, 1.0, 2.0], [], [251.0, 260.0, 255.0], None)
    assert method == 'websocket_ping' and judged['status'] == 'fail' and judged['measured'] == 255.0
    assert judged['details']['worst'] == 260.0 and 'more than the 200 ms' in judged['hint']
    assert judged['details']['tcp_connect_ms']['median'] == 1.0


def test_tcp_connect_round_trip_says_what_it_cannot_see():
    judged, method, _stats = link_quality_check.judge_round_trip(QUALITY_PARAMS, [10.0, 12.0], [], [], 'no identity')
    assert method == 'tcp_connect' and judged['status'] == 'pass'
    assert 'TCP connect time only' in judged['summary'] and judged['details']['limitation']


def test_no_round_trip_at_all_is_not_measured():
    outcomes = [{'state': 'refused', 'ms': 0.1, 'error': 'Connection refused'}]
    judged, method, stats = link_quality_check.judge_round_trip(QUALITY_PARAMS, [], outcomes, [], None)
    assert judged['status'] == 'not_measured' and method is None and stats is None


def test_throughput_is_never_passed_unmeasured():
    judged = link_quality_check.judge_throughput(QUALITY_PARAMS, None, 'no customer_id given')
    assert judged['status'] == 'not_measured' and judged['passed'] is None
    assert 'the path offers nothing to measure against (no customer_id given)' in judged['summary']


def test_throughput_below_the_limit_and_an_unfinished_transfer_fail():
    facts = {'bytes': 32000, 'received': True, 'elapsed_seconds': 3.9, 'round_trip_subtracted_ms': 1.0, 'raw_kbps': 65.6,
             'kbps': 65.7, 'upper_bound': False}
    assert link_quality_check.judge_throughput(QUALITY_PARAMS, facts, None)['status'] == 'fail'
    unfinished = dict(facts, received=False, kbps=200.0, upper_bound=True)
    judged = link_quality_check.judge_throughput(QUALITY_PARAMS, unfinished, None)
    assert judged['status'] == 'fail' and 'did not arrive' in judged['summary']
    assert link_quality_check.judge_throughput(QUALITY_PARAMS, dict(facts, kbps=130.0), None)['status'] == 'pass'


def test_firewall_hints_name_who_and_why_client_certificates_need_no_inspection():
    results = by_name(port_check.judge(ADDRESS, [port(443, 'refused'), port(8443, 'refused')], 3))
    hint = results['ports.any_open']['hint']
    assert "customer's firewall administrator" in hint and 'TCP 443 and 8443' in hint
    assert 'exempt *.avaya-sub.com from TLS inspection' in hint and 'client certificates' in hint
    silent = by_name(port_check.judge(ADDRESS, [port(443, 'silent', 'silent'), port(8443, 'refused')], 3))['ports.443']['hint']
    assert '*.avaya-sub.com' in silent and 'client certificates' in silent
    leaf = {'subject': 'CN=x', 'issuer': 'O=Proxy CA', 'alt_names': ['DNS:x'], 'not_before': None, 'not_after': None}
    judged = tls_check.judge_certificate(shake(error_kind='verify', verify_message='unable to get local issuer certificate'), [leaf],
                                         TLS_PARAMS)
    assert "customer's firewall administrator exempts *.avaya-sub.com" in judged['hint']


def test_without_the_lab_protocol_throughput_is_not_measured_and_says_why():
    judged = link_quality_check.judge_throughput(QUALITY_PARAMS, None, netprobe.LAB_ONLY_THROUGHPUT)
    assert judged['status'] == 'not_measured' and judged['details']['lab_only'] is True
    assert judged['summary'] == 'not measured: a real COM offers no throughput test; measured only against the lab (lab_throughput_protocol)'


def test_a_throughput_measurement_that_broke_off_fails_with_a_hint():
    broken = netprobe.MeasurementBroken('the throughput measurement', 'the server closed the connection: code 1001', netprobe.CLOSED)
    judged = link_quality_check.judge_throughput(QUALITY_PARAMS, None, None, broken)
    assert judged['status'] == 'fail' and judged['summary'] == 'the measurement broke off: the server closed the connection: code 1001'
    assert 'dropped during the throughput measurement' in judged['hint'] and 'cuts the connection' in judged['hint']
    # The round trip, measured before, is judged as measured.
    round_trip, method, _stats = link_quality_check.judge_round_trip(QUALITY_PARAMS, [1.0], [], [5.0, 6.0], None, broken)
    assert round_trip['status'] == 'pass' and method == 'websocket_ping'


def test_a_round_trip_that_broke_off_fails_and_throughput_is_not_measured():
    broken = netprobe.MeasurementBroken('the round trip (WebSocket ping 2 of 5)', 'the server closed the connection', netprobe.CLOSED,
                                        partial=[5.0])
    round_trip, method, stats = link_quality_check.judge_round_trip(QUALITY_PARAMS, [1.0], [], [5.0], None, broken)
    assert round_trip['status'] == 'fail' and method == 'websocket_ping' and stats['count'] == 1
    assert 'dropped during the round trip (WebSocket ping 2 of 5)' in round_trip['hint']
    throughput = link_quality_check.judge_throughput(QUALITY_PARAMS, None, None, broken)
    assert throughput['status'] == 'not_measured'
