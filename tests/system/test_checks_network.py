# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""port_check, tls_check and link_quality_check through ansible-playbook against the lab's COM simulator
(127.0.44.1) and the shaping proxy in front of it (127.0.45.1). Loopback only."""

from __future__ import annotations

from alarmlab import wait_for
from linklab import COM, SERVER, com_port, system_identity, unregistered_identity

SHAPER = '127.0.45.1'
ROGUE_ISSUER = 'Rogue CA (not the lab)'


def _identity(lab):
    """The checks present a registered system's own identity (ip500-single's, LAB-0001's), as the validate role does."""
    return system_identity(lab, 'ip500-single')


def _run(run_playbook, module, args, check=False):
    """One task, errors ignored so a failing check's result is kept; returns the registered result."""
    task = {'name': module, 'ipoffice.subscription.%s' % module: args, 'register': 'result', 'ignore_errors': True}
    run = run_playbook([task], capture=['result'], extra_args=['--check'] if check else [])
    result = run.results.get('result')
    assert result is not None, run.output[-3000:]
    return result


def _run_many(run_playbook, steps):
    """Several (module, args) tasks in one playbook, errors ignored; returns their registered results in order."""
    tasks = [{'name': module, 'ipoffice.subscription.%s' % module: args, 'register': 'step%d' % index, 'ignore_errors': True}
             for index, (module, args) in enumerate(steps)]
    run = run_playbook(tasks, capture=['step%d' % index for index in range(len(steps))])
    results = [run.results.get('step%d' % index) for index in range(len(steps))]
    assert all(result is not None for result in results), run.output[-3000:]
    return results


def _checks(result):
    return dict((item['check'], item) for item in result['checks'])


def _last_connection(lab):
    return lab.control('GET', '/lab/com')['last_id']


def test_ports_open_in_check_mode(fresh_lab, run_playbook):
    result = _run(run_playbook, 'port_check', {'address': COM, 'server_name': SERVER}, check=True)
    assert result['changed'] is False and result['passed'] is True and result['failed_checks'] == []
    assert result['open_ports'] == [443, 8443] and result['first_open_port'] == 443
    assert [item['check'] for item in result['checks']] == ['ports.443', 'ports.8443', 'ports.any_open']
    assert all(item['attempts'][0]['tls_answer'] == 'server_hello' for item in result['port_results'])


def test_443_refused_passes_through_8443_with_a_note(fresh_lab, run_playbook):
    com_port(fresh_lab, 443, mode='refuse')
    result = _run(run_playbook, 'port_check', {'address': COM})
    found = _checks(result)
    assert result['passed'] is True and result['open_ports'] == [8443] and result['first_open_port'] == 8443
    assert found['ports.443']['status'] == 'pass' and found['ports.443']['measured'] == 'refused'
    assert 'uses 8443 after 443 fails' in found['ports.443']['summary']
    assert found['ports.443']['details']['required'] is False
    assert 'uses 8443 after 443 fails' in found['ports.any_open']['summary']


def test_both_ports_refused_fail(fresh_lab, run_playbook):
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    result = _run(run_playbook, 'port_check', {'address': COM})
    assert result['passed'] is False and result['open_ports'] == [] and result['first_open_port'] is None
    # Ansible keeps only true of a non-empty `failed`; the names stay in failed_checks.
    assert result['failed'] is True and result['failed_checks'] == ['ports.443', 'ports.8443', 'ports.any_open']
    found = _checks(result)
    assert found['ports.443']['measured'] == 'refused' and 'allow outbound TCP 443' in found['ports.443']['hint']
    assert 'TCP 443 and 8443' in found['ports.any_open']['hint']
    assert 'ports.any_open' in result['msg']


def _probe_connections(lab, since, port):
    """COM's records of the connections the checks (on the controller, 127.0.0.1) opened to `port` after `since`,
    once every one of them is closed: closes are asynchronous, so wait for them, with a bound and a message."""
    def closed():
        found = [record for record in lab.control('GET', '/lab/com/connections?since=%d' % since)
                 if record['port'] == port and record['peer'] == '127.0.0.1']
        return found if found and all(record['state'] == 'closed' for record in found) else None
    return wait_for('every probe connection to COM port %d closed' % port, closed, 20)


def test_a_silent_port_fails_within_the_timeout(fresh_lab, run_playbook):
    # TCP is accepted and nothing follows: a plain connect would call it open; the TLS probe does not.
    com_port(fresh_lab, 443, mode='silent')
    com_port(fresh_lab, 8443, mode='refuse')
    since = _last_connection(fresh_lab)
    ports, tls = _run_many(run_playbook, [
        ('port_check', {'address': COM, 'timeout': 1, 'attempts': 2}),
        ('tls_check', dict(_identity(fresh_lab), address=COM, port=443, server_name=SERVER, ca_path=fresh_lab.ca_path,
                           timeout=1))])
    assert ports['passed'] is False
    silent = ports['port_results'][0]
    assert silent['state'] == 'silent' and len(silent['attempts']) == 2
    assert 'without inspection' in _checks(ports)['ports.443']['hint']
    found = _checks(tls)
    assert found['tls.version']['status'] == 'fail' and 'no answer within 1 s' in found['tls.version']['summary']
    assert found['tls.websocket']['status'] == 'not_measured'
    # Within the timeout, by count and order: COM saw exactly three connections on 443 (two port_check attempts,
    # one tls_check), got no byte it answered, and the client closed each one, having given up.
    records = _probe_connections(fresh_lab, since, 443)
    assert len(records) == 3 and [record['close_reason'] for record in records] == ['client closed'] * 3, records
    assert all(record['stage'] == 'tcp' and record['messages_out'] == 0 for record in records), records


def test_tls_healthy_with_a_systems_own_identity(fresh_lab, run_playbook):
    since = _last_connection(fresh_lab)
    result = _run(run_playbook, 'tls_check', dict(_identity(fresh_lab), address=COM, port=8443, server_name=SERVER,
                                                  ca_path=fresh_lab.ca_path), check=True)
    assert result['changed'] is False and result['passed'] is True and result['not_measured'] == []
    found = _checks(result)
    assert [item['check'] for item in result['checks']] == [
        'tls.version', 'tls.client_certificate_requested', 'tls.server_certificate', 'tls.websocket']
    assert result['tls_version'] == 'TLSv1.2' and found['tls.version']['measured'] == 'TLSv1.2'
    assert result['client_certificate_requested'] is True and 'certificate_request' in result['server_handshake_messages']
    assert result['peer_certificate']['verified'] is True and 'IP Office Lab CA' in result['peer_certificate']['issuer']
    assert 'DNS:%s' % SERVER in result['peer_certificate']['alt_names']
    assert result['websocket']['state'] == 'upgraded' and found['tls.websocket']['measured'] == 101
    # COM saw the system's identity reach the WebSocket stage over TLS 1.2, on the port asked for.
    records = fresh_lab.control('GET', '/lab/com/connections?since=%d' % since)
    upgraded = [item for item in records if item['stage'] == 'websocket']
    assert len(upgraded) == 1 and upgraded[0]['identity'] == 'ip500-single' and upgraded[0]['port'] == 8443
    assert upgraded[0]['tls_version'] == 'TLSv1.2'


def test_an_identity_com_does_not_know_fails_the_websocket_upgrade_with_a_hint(fresh_lab, run_playbook, tmp_path):
    # Signed by the lab CA for a system no customer registered: TLS completes, the upgrade is refused.
    since = _last_connection(fresh_lab)
    unknown = unregistered_identity(fresh_lab, tmp_path)
    tls, quality = _run_many(run_playbook, [
        ('tls_check', dict(unknown, address=COM, server_name=SERVER, ca_path=fresh_lab.ca_path)),
        ('link_quality_check', dict(unknown, address=COM, server_name=SERVER, ca_path=fresh_lab.ca_path, customer_id='LAB-0001',
                                    samples=3, lab_throughput_protocol=True))])
    assert tls['passed'] is False and tls['failed_checks'] == ['tls.websocket']
    websocket = _checks(tls)['tls.websocket']
    assert websocket['measured'] is None and websocket['details']['error_kind'] == 'forbidden'
    assert 'refused the upgrade with HTTP 403' in websocket['summary']
    assert 'does not accept this client identity' in websocket['hint'] and 'registered with the customer' in websocket['hint']
    assert tls['websocket']['state'] == 'failed'
    # Everything before the upgrade passed: the refusal is about the identity, not TLS.
    assert [item['status'] for item in tls['checks'][:3]] == ['pass'] * 3
    # link_quality_check gets no WebSocket either: throughput is not measured, and says why.
    throughput = _checks(quality)['quality.throughput']
    assert throughput['status'] == 'not_measured' and 'refused the upgrade with HTTP 403' in throughput['summary']
    assert quality['round_trip_method'] == 'tcp_connect'
    # COM recorded the two upgrades (one per module) as refused, with the reason; no connection of that identity
    # got past TLS (tls_check's first handshake presents it too, and closes after TLS).
    records = [record for record in _probe_connections(fresh_lab, since, 443) if record['identity'] == 'not-registered']
    assert all(record['stage'] == 'tls' for record in records), records
    refused = [record['close_reason'] for record in records if record['close_reason'].startswith('refused')]
    assert refused == ["refused: certificate 'not-registered' names no system registered to a customer"] * 2, records


def test_the_lab_throughput_hello_must_name_the_identitys_own_customer(fresh_lab, run_playbook):
    # ip500-single is LAB-0001's: a hello for LAB-0002 with its identity is refused, so throughput is not measured.
    result = _run(run_playbook, 'link_quality_check', dict(
        _identity(fresh_lab), address=COM, server_name=SERVER, ca_path=fresh_lab.ca_path, customer_id='LAB-0002', samples=3,
        lab_throughput_protocol=True))
    throughput = _checks(result)['quality.throughput']
    assert throughput['status'] == 'not_measured' and result['throughput_kbps'] is None
    assert 'system ip500-single is registered to customer LAB-0001, not LAB-0002' in throughput['summary']
    # The WebSocket itself was accepted: the round trip is measured by ping and pong.
    assert result['round_trip_method'] == 'websocket_ping' and _checks(result)['quality.round_trip']['status'] == 'pass'


def test_a_rogue_certificate_is_reported_as_an_intercepting_proxy(fresh_lab, run_playbook):
    com_port(fresh_lab, 443, cert='rogue')
    result = _run(run_playbook, 'tls_check', dict(_identity(fresh_lab), address=COM, server_name=SERVER,
                                                  ca_path=fresh_lab.ca_path))
    assert result['passed'] is False and result['failed_checks'] == ['tls.server_certificate']
    certificate = _checks(result)['tls.server_certificate']
    assert ROGUE_ISSUER in certificate['hint'] and 'TLS-intercepting proxy' in certificate['hint']
    assert ROGUE_ISSUER in result['peer_certificate']['issuer'] and result['peer_certificate']['verified'] is False
    assert _checks(result)['tls.websocket']['status'] == 'not_measured'


def test_without_a_client_identity_nothing_unmeasured_passes(fresh_lab, run_playbook):
    tls, quality = _run_many(run_playbook, [
        ('tls_check', {'address': COM, 'server_name': SERVER, 'ca_path': fresh_lab.ca_path}),
        ('link_quality_check', {'address': COM, 'server_name': SERVER, 'lab_throughput_protocol': True})])
    assert tls['passed'] is True and tls['not_measured'] == ['tls.websocket']
    assert _checks(tls)['tls.websocket']['passed'] is None
    # The server's CertificateRequest is read from the handshake even though the probe has no certificate to give.
    assert tls['client_certificate_requested'] is True and tls['handshake_error']
    found = _checks(quality)
    assert found['quality.throughput']['status'] == 'not_measured' and found['quality.throughput']['passed'] is None
    assert 'the path offers nothing to measure against' in found['quality.throughput']['summary']
    assert quality['throughput_kbps'] is None and quality['round_trip_method'] == 'tcp_connect'
    assert 'TCP connect time only' in found['quality.round_trip']['summary']


def test_250_ms_through_the_shaper_fails_the_round_trip(fresh_lab, run_playbook):
    fresh_lab.control('POST', '/lab/shaper', {'latency_ms': 250})
    result = _run(run_playbook, 'link_quality_check', dict(
        _identity(fresh_lab), address=SHAPER, server_name=SERVER, ca_path=fresh_lab.ca_path, customer_id='LAB-0001',
        samples=3, lab_throughput_protocol=True))
    found = _checks(result)
    assert found['quality.round_trip']['status'] == 'fail' and found['quality.round_trip']['measured'] >= 250
    assert result['round_trip_method'] == 'websocket_ping' and result['round_trip_ms']['worst'] >= 250
    assert 'more than the 200 ms' in found['quality.round_trip']['hint']
    # The proxy answers TCP itself: connect times do not show the delay, which is why they are not judged.
    assert result['tcp_connect_ms']['median'] < 250
    assert found['quality.throughput']['status'] == 'pass'


def test_64_kbps_through_the_shaper_fails_the_throughput(fresh_lab, run_playbook):
    fresh_lab.control('POST', '/lab/shaper', {'rate_kbps': 64})
    result = _run(run_playbook, 'link_quality_check', dict(
        _identity(fresh_lab), address=SHAPER, port=8443, server_name=SERVER, ca_path=fresh_lab.ca_path,
        customer_id='LAB-0001', samples=3, lab_throughput_protocol=True))
    found = _checks(result)
    assert result['failed_checks'] == ['quality.throughput']
    assert found['quality.throughput']['measured'] < 128 and result['throughput_kbps'] < 128
    assert result['throughput']['received'] is True and result['throughput']['bytes'] == 32000
    assert 'less than the 128 kbit/s' in found['quality.throughput']['hint']
    assert found['quality.round_trip']['status'] == 'pass'


def test_bad_input_fails_before_any_traffic(fresh_lab, run_playbook):
    since = _last_connection(fresh_lab)
    shaped = fresh_lab.control('GET', '/lab/shaper')['connections_opened']
    identity = _identity(fresh_lab)
    # One task per module with several bad options: every problem is named in one message, before any traffic.
    cases = [
        ('port_check', {'address': '127.0.44.300', 'ports': [443, 443], 'attempts': 0}, [
            "address must be an IPv4 address in dotted-quad form: got '127.0.44.300'",
            'ports must not name a port twice: got [443, 443]', 'attempts must be 1 to 10: got 0']),
        ('tls_check', {'address': COM, 'server_name': 'https://%s/' % SERVER, 'path': 'link/v1', 'ca_path': '/nonexistent/ca.pem'}, [
            "server_name must be a host name such as admin.uk1.avaya-sub.com, not a URL or a path: got 'https://%s/'" % SERVER,
            "path must be a URL path starting with / such as /link/v1 (no scheme, host, query or spaces): got 'link/v1'",
            "ca_path must name a readable file: '/nonexistent/ca.pem'"]),
        ('link_quality_check', dict(identity, address=SHAPER, server_name=SERVER, samples=0, throughput_bytes=10,
                                    customer_id='LAB 0001'), [
            'samples must be 1 to 50: got 0', 'throughput_bytes must be 1000 to 4194304 bytes: got 10',
            "customer_id must be 1 to 32 letters, digits and hyphens, starting with a letter or a digit: got 'LAB 0001'"]),
        ('link_quality_check', {'address': SHAPER, 'client_cert': identity['client_cert']}, ['client_cert, client_key']),
    ]
    tasks = [{'name': 'case %d' % index, 'ipoffice.subscription.%s' % module: args, 'register': 'case%d' % index,
              'ignore_errors': True} for index, (module, args, _message) in enumerate(cases)]
    run = run_playbook(tasks, capture=['case%d' % index for index in range(len(cases))])
    for index, (module, _args, messages) in enumerate(cases):
        result = run.results.get('case%d' % index)
        assert result is not None, run.output[-3000:]
        assert result.get('failed') is True and 'checks' not in result, (module, result)
        assert all(message in result['msg'] for message in messages), (module, result['msg'])
    assert 'BEGIN' not in run.output   # no key or certificate content anywhere
    assert fresh_lab.control('GET', '/lab/com/connections?since=%d' % since) == []
    assert fresh_lab.control('GET', '/lab/shaper')['connections_opened'] == shaped


def test_without_the_lab_protocol_throughput_is_not_measured_even_with_an_identity(fresh_lab, run_playbook):
    """What a real COM offers: a WebSocket (so the round trip is measured by ping and pong) and no throughput test."""
    result = _run(run_playbook, 'link_quality_check', dict(
        _identity(fresh_lab), address=COM, server_name=SERVER, ca_path=fresh_lab.ca_path, customer_id='LAB-0001', samples=3))
    found = _checks(result)
    assert result['passed'] is True and result['not_measured'] == ['quality.throughput']
    assert found['quality.throughput']['summary'] == ('not measured: a real COM offers no throughput test; measured only against the '
                                                      'lab (lab_throughput_protocol)')
    assert result['throughput_kbps'] is None and result['round_trip_method'] == 'websocket_ping'
    assert found['quality.round_trip']['status'] == 'pass'


def test_a_link_dropped_during_the_throughput_measurement_fails_with_a_hint(fresh_lab, run_playbook):
    # COM answers the hello, then closes the link: the measurement had begun, so this is a failure, not "not measured".
    com_port(fresh_lab, 443, mode='drop')
    result = _run(run_playbook, 'link_quality_check', dict(
        _identity(fresh_lab), address=COM, server_name=SERVER, ca_path=fresh_lab.ca_path, customer_id='LAB-0001', samples=3,
        lab_throughput_protocol=True))
    found = _checks(result)
    assert result['failed_checks'] == ['quality.throughput'] and result['not_measured'] == []
    throughput = found['quality.throughput']
    assert throughput['status'] == 'fail' and throughput['summary'].startswith('the measurement broke off: ')
    assert 'dropped during the throughput measurement' in throughput['hint'] and 'cuts the connection' in throughput['hint']
    assert found['quality.round_trip']['status'] == 'pass'
