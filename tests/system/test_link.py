# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The subscription link as the seeds describe it, against the running lab:
the emulated IP Office's link agent, the lab DNS and SNTP servers, the COM
simulator and the shaping proxy, all over real sockets on loopback."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import time

import pytest

from linklab import (COM, LAB_DNS_WITHOUT_AVAYA, NODES, SHAPED_SERVER, advance_days, client, com_port, configure, link, set_system,
                     wait_link, wait_state)

# Tests of the lab's link agent, COM, DNS, SNTP and shaper (the seeds' behaviour the lab stands in for), not of the
# collection: counted as lab tests (conftest.py).
pytestmark = pytest.mark.lab


def _connections(lab, name):
    return [c for c in lab.control('GET', '/lab/com/connections') if c.get('identity') == name]


def test_link_comes_up_on_443_through_the_systems_own_dns_and_identity(fresh_lab):
    configure(fresh_lab, 'ip500-single')
    up = wait_state(fresh_lab, 'ip500-single', 'Connected')
    assert up['Port'] == 443 and up['ResolvedAddress'] == COM
    assert up['TimeSynchronised'] is True
    assert up['SubscriptionFeatures'] == 'Active' and up['Telephony'] == 'Active'
    assert sorted(item['key'] for item in up['entitlements']) == [
        'Subscription Power User', 'Subscription SIP Trunk Channels', 'Subscription Server Edition']
    # The lookup went to the system's DNS server, from the system's own LAN1 address.
    queries = fresh_lab.control('GET', '/lab/dns/queries')
    assert [q for q in queries if q['client'] == '127.0.11.1' and q['server'] == '127.0.53.53' and q['name'].startswith('admin.lab1')]
    # COM saw the system's identity certificate (mutual authentication) from its LAN1 address.
    records = _connections(fresh_lab, 'ip500-single')
    assert records and records[-1]['peer'] == '127.0.11.1' and records[-1]['port'] == 443
    # Heartbeats keep flowing.
    first = up['LastHeartbeat']
    wait_link(fresh_lab, 'ip500-single', lambda current: current['LastHeartbeat'] > first, 15, 'a later heartbeat')


def test_443_refused_so_8443_carries_the_link(fresh_lab):
    com_port(fresh_lab, 443, mode='refuse')
    configure(fresh_lab, 'ip500-single')
    up = wait_state(fresh_lab, 'ip500-single', 'Connected')
    assert up['Port'] == 8443
    assert up['attempt_log'][0]['port'] == 443 and up['attempt_log'][0]['result'] == 'port_refused'


def test_both_ports_refused_the_system_keeps_alternating(fresh_lab):
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    configure(fresh_lab, 'ip500-single')
    down = wait_link(fresh_lab, 'ip500-single', lambda current: len(current['attempt_log']) >= 4, 20, 'four attempts')
    assert down['LinkState'] == 'Connecting' and down['Reason'] == 'port_refused'
    ports = [attempt['port'] for attempt in down['attempt_log'][:4]]
    assert ports == [443, 8443, 443, 8443]
    assert all(attempt['result'] == 'port_refused' for attempt in down['attempt_log'])
    # Opening one port again lets the next attempt through.
    com_port(fresh_lab, 8443, mode='accept')
    assert wait_state(fresh_lab, 'ip500-single', 'Connected')['Port'] == 8443


def _handshake(context, port=443):
    raw = socket.create_connection((COM, port), timeout=5)
    try:
        with context.wrap_socket(raw, server_hostname='admin.lab1.avaya-sub.com') as tls:
            # TLS 1.2 reports a missing client certificate only when the server's alert arrives.
            tls.settimeout(5)
            tls.sendall(b'GET /link/v1 HTTP/1.1\r\nHost: admin.lab1.avaya-sub.com\r\n\r\n')
            return tls.recv(100)
    finally:
        raw.close()


def test_com_refuses_a_client_without_certificate_or_speaking_only_tls13(fresh_lab):
    without_cert = ssl.create_default_context(cafile=fresh_lab.ca_path)
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        reply = _handshake(without_cert)
        if not reply:
            raise ConnectionResetError('closed without an answer')
    tls13 = ssl.create_default_context(cafile=fresh_lab.ca_path)
    tls13.minimum_version = tls13.maximum_version = ssl.TLSVersion.TLSv1_3
    # A registered system's identity: a client certificate the lab CA signed for scn-1.
    identity = os.path.join(fresh_lab.state, 'identities', 'scn-1')
    tls13.load_cert_chain(identity + '.pem', identity + '.key')
    with pytest.raises(ssl.SSLError):
        _handshake(tls13)
    # The same identity over TLS 1.2 is accepted: the refusals above are about the certificate and the version
    # (a GET without the upgrade headers is answered 400, after TLS).
    tls12 = ssl.create_default_context(cafile=fresh_lab.ca_path)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    tls12.load_cert_chain(identity + '.pem', identity + '.key')
    assert _handshake(tls12).startswith(b'HTTP/1.1 400')


def test_a_dns_server_without_the_avaya_sub_record_means_no_link(fresh_lab):
    configure(fresh_lab, 'scn-2', dns=LAB_DNS_WITHOUT_AVAYA)
    down = wait_link(fresh_lab, 'scn-2', lambda current: current['Reason'] == 'dns_name_not_found', 15, 'dns_name_not_found')
    assert down['LinkState'] == 'Connecting' and 'NXDOMAIN' in down['ReasonText']
    assert not _connections(fresh_lab, 'scn-2')


def test_a_dns_server_that_does_not_answer_means_no_link(fresh_lab):
    configure(fresh_lab, 'scn-2', dns='127.0.53.99')
    down = wait_link(fresh_lab, 'scn-2', lambda current: current['Reason'] == 'dns_unreachable', 15, 'dns_unreachable')
    assert '127.0.53.99' in down['ReasonText']
    assert not _connections(fresh_lab, 'scn-2')


def test_a_public_dns_server_is_never_contacted(fresh_lab):
    configure(fresh_lab, 'scn-3', dns='8.8.8.8')
    down = wait_link(fresh_lab, 'scn-3', lambda current: current['Reason'] == 'dns_unreachable', 15, 'dns_unreachable')
    assert 'outside the lab' in down['ReasonText'] and 'nothing was sent' in down['ReasonText']


def test_a_name_with_two_addresses_is_not_linked_and_the_status_says_why(fresh_lab):
    configure(fresh_lab, 'scn-1', server='admin.twoaddr.avaya-sub.com')
    down = wait_link(fresh_lab, 'scn-1', lambda current: current['Reason'] == 'dns_multiple_addresses', 15, 'dns_multiple_addresses')
    assert '2 addresses' in down['ReasonText'] and 'one static address' in down['ReasonText']
    assert not _connections(fresh_lab, 'scn-1')


def test_a_name_without_address_is_not_linked(fresh_lab):
    configure(fresh_lab, 'scn-1', server='admin.noaddr.avaya-sub.com')
    wait_link(fresh_lab, 'scn-1', lambda current: current['Reason'] == 'dns_no_address', 15, 'dns_no_address')


def test_a_tls_intercepting_proxy_certificate_is_refused_by_the_system(fresh_lab):
    com_port(fresh_lab, 443, cert='rogue')
    com_port(fresh_lab, 8443, cert='rogue')
    configure(fresh_lab, 'ip500-single')
    down = wait_link(fresh_lab, 'ip500-single', lambda current: current['Reason'] == 'tls_untrusted_certificate', 15, 'tls_untrusted_certificate')
    assert 'TLS-intercepting proxy' in down['ReasonText']


def test_link_dropped_error_mode_alarms_daily_and_reconnect_clears(fresh_lab):
    configure(fresh_lab, 'scn-1')
    wait_state(fresh_lab, 'scn-1', 'Connected')
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    day1 = wait_state(fresh_lab, 'scn-1', 'ErrorMode')
    assert [alarm['Day'] for alarm in day1['Alarms']] == [1]
    assert day1['GraceDaysLeft'] == 30 and day1['ErrorModeSince']
    # Features keep working during the grace period; the licences say so.
    assert day1['Telephony'] == 'Active' and day1['SubscriptionFeatures'] == 'Active'
    assert set(_licences(fresh_lab, 'scn-1').values()) == {(1, True)}
    advance_days(fresh_lab, 1)
    day2 = link(fresh_lab, 'scn-1')
    assert day2['LinkState'] == 'ErrorMode'
    assert [alarm['Day'] for alarm in day2['Alarms']] == [1, 2] and day2['GraceDaysLeft'] == 29
    com_port(fresh_lab, 443, mode='accept')
    back = wait_state(fresh_lab, 'scn-1', 'Connected')
    assert back['Alarms'] == [] and back['ErrorModeSince'] == '' and back['GraceDaysLeft'] == 30


def test_a_link_that_drops_right_after_welcome_is_error_mode_not_a_reconnection(fresh_lab):
    configure(fresh_lab, 'scn-2')
    wait_state(fresh_lab, 'scn-2', 'Connected')
    com_port(fresh_lab, 443, mode='drop')
    com_port(fresh_lab, 8443, mode='drop')
    wait_state(fresh_lab, 'scn-2', 'ErrorMode')
    advance_days(fresh_lab, 2)
    # Several accept-then-drop attempts after that, waited for and counted, never one that reconnects.
    attempts = link(fresh_lab, 'scn-2')['Attempts']
    still = wait_link(fresh_lab, 'scn-2', lambda current: current['Attempts'] >= attempts + 3, 30, 'three more attempts')
    assert still['LinkState'] == 'ErrorMode' and len(still['Alarms']) == 3


def test_a_silent_com_is_noticed_by_the_missing_heartbeat_answers(fresh_lab):
    configure(fresh_lab, 'scn-3')
    wait_state(fresh_lab, 'scn-3', 'Connected')
    com_port(fresh_lab, 443, mode='silent')
    com_port(fresh_lab, 8443, mode='silent')
    down = wait_state(fresh_lab, 'scn-3', 'ErrorMode', timeout=20)
    assert down['Reason'] in ('heartbeat_timeout', 'handshake_timeout')


def test_day_31_turns_off_subscription_features_and_telephony(fresh_lab):
    configure(fresh_lab, 'se-primary')
    wait_state(fresh_lab, 'se-primary', 'Connected')
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    wait_state(fresh_lab, 'se-primary', 'ErrorMode')
    advance_days(fresh_lab, 29)
    day30 = link(fresh_lab, 'se-primary')
    assert day30['LinkState'] == 'ErrorMode' and day30['GraceDaysLeft'] == 1 and day30['Telephony'] == 'Active'
    advance_days(fresh_lab, 1)
    day31 = link(fresh_lab, 'se-primary')
    assert day31['LinkState'] == 'Expired' and day31['GraceDaysLeft'] == 0
    assert day31['Telephony'] == 'Deactivated' and day31['SubscriptionFeatures'] == 'Deactivated'
    assert 'grace period expired' in day31['Alarms'][-1]['Text']
    assert set(_licences(fresh_lab, 'se-primary').values()) == {(0, False)}


def _licences(lab, name):
    """Licence key -> (Status, IsGrace) as the device's API serves them."""
    host, node = NODES[name]
    with client(lab, host) as api:
        return dict((obj['LicenseKey'], (obj['Status'], obj['IsGrace'])) for obj in api.get('License', node_address=node))


def test_an_entitlement_expiring_while_connected_stops_at_once(fresh_lab):
    configure(fresh_lab, 'scn-1')
    wait_state(fresh_lab, 'scn-1', 'Connected')
    assert set(_licences(fresh_lab, 'scn-1').values()) == {(1, False)}
    today = datetime.date.fromisoformat(fresh_lab.control('GET', '/lab/clock')['now'][:10])
    expiry = (today + datetime.timedelta(days=2)).isoformat()
    fresh_lab.control('POST', '/lab/com/customers/LAB-0001/subscriptions', {'key': 'Subscription SIP Trunk Channels', 'expires': expiry})
    # COM pushes the change over the link at once.
    wait_link(fresh_lab, 'scn-1', lambda current: any(item['expires'] == expiry for item in current['entitlements']), 10, 'the pushed licences')
    advance_days(fresh_lab, 2)
    # No heartbeat or licence check is needed: the date has passed, the feature stops.
    licences = _licences(fresh_lab, 'scn-1')
    assert licences['Subscription SIP Trunk Channels'] == (2, False)
    assert licences['Subscription Power User'] == (1, False)
    assert link(fresh_lab, 'scn-1')['LinkState'] == 'Connected'


def test_only_the_server_edition_primary_links_and_every_scn_node_does(fresh_lab):
    for name in ('se-primary', 'se-secondary', 'scn-1', 'scn-2', 'scn-3'):
        configure(fresh_lab, name)
    for name in ('se-primary', 'scn-1', 'scn-2', 'scn-3'):
        wait_state(fresh_lab, name, 'Connected')
    assert link(fresh_lab, 'se-secondary')['LinkState'] == 'NotApplicable'
    assert not _connections(fresh_lab, 'se-secondary')


def test_missing_prerequisites_are_named(fresh_lab):
    configure(fresh_lab, 'scn-1', customer='', route=False)
    current = wait_link(fresh_lab, 'scn-1', lambda current: current['LinkState'] == 'NotConfigured', 10, 'NotConfigured')
    assert current['MissingPrerequisites'].split('|') == ['default_route', 'customer_id']


def test_an_unknown_customer_is_rejected_by_com(fresh_lab):
    configure(fresh_lab, 'scn-1', customer='NOT-A-CUSTOMER')
    down = wait_link(fresh_lab, 'scn-1', lambda current: current['Reason'] == 'com_rejected', 15, 'com_rejected')
    assert 'unknown_customer' in down['ReasonText']


def test_a_system_configured_with_another_customers_id_is_rejected_by_com(fresh_lab):
    # LAB-0002 is a customer COM knows; scn-1 is registered to LAB-0001 (tests/lab/topology.yml).
    configure(fresh_lab, 'scn-1', customer='LAB-0002')
    down = wait_link(fresh_lab, 'scn-1', lambda current: current['Reason'] == 'com_rejected', 15, 'com_rejected')
    assert down['LinkState'] == 'Connecting' and down['links_made'] == 0 and down['entitlements'] == []
    assert 'identity_mismatch (system scn-1 is registered to customer LAB-0001, not LAB-0002)' in down['ReasonText']
    rejected = [record for record in _connections(fresh_lab, 'scn-1') if record['close_reason'] == 'rejected: identity_mismatch']
    assert rejected and rejected[0]['customer_id'] == 'LAB-0002' and rejected[0]['peer'] == '127.0.21.1'


def test_a_skewed_time_source_is_learnt_and_com_rejects_the_clock(fresh_lab):
    fresh_lab.control('POST', '/lab/sntp', {'skew_seconds': 3600})
    configure(fresh_lab, 'scn-2')
    down = wait_link(fresh_lab, 'scn-2', lambda current: current['Reason'] == 'com_rejected', 15, 'com_rejected')
    assert 'clock_skew' in down['ReasonText']
    assert down['TimeSynchronised'] is True and abs(down['TimeOffsetMs'] - 3600000) < 2000


def test_changing_the_server_address_moves_the_link(fresh_lab):
    configure(fresh_lab, 'scn-3')
    wait_state(fresh_lab, 'scn-3', 'Connected')
    set_system(fresh_lab, 'scn-3', Subscription={'CustomerID': 'LAB-0001', 'ServerAddress': 'admin.twoaddr.avaya-sub.com'})
    wait_link(fresh_lab, 'scn-3', lambda current: current['Reason'] == 'dns_multiple_addresses', 15, 'dns_multiple_addresses')


def test_the_shaping_proxy_adds_round_trip_time_to_the_link(fresh_lab):
    fresh_lab.control('POST', '/lab/shaper', {'latency_ms': 250})
    configure(fresh_lab, 'scn-1', server=SHAPED_SERVER)
    up = wait_state(fresh_lab, 'scn-1', 'Connected', timeout=30)
    assert up['ResolvedAddress'] == '127.0.45.1'
    measured = wait_link(fresh_lab, 'scn-1', lambda current: len(current['round_trips_ms']) >= 2, 20, 'two heartbeats')
    assert min(measured['round_trips_ms']) >= 250


def _speedtest_seconds(lab, address, size):
    """Seconds to fetch `size` bytes from COM's speedtest over a link through `address`, with scn-2's identity (a
    registered system whose own link is not configured here)."""
    from websockets.sync.client import connect
    identity = os.path.join(lab.state, 'identities', 'scn-2')
    context = ssl.create_default_context(cafile=lab.ca_path)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(identity + '.pem', identity + '.key')
    sock = socket.create_connection((address, 443), timeout=10)
    with connect('wss://admin.lab1.avaya-sub.com/link/v1', sock=sock, ssl=context, server_hostname='admin.lab1.avaya-sub.com',
                 open_timeout=10, max_size=None) as websocket:
        websocket.send('{"type": "hello", "customer_id": "LAB-0001", "system": {"name": "scn-2"}, "time": %f}' % time.time())
        assert '"welcome"' in websocket.recv(timeout=10)
        started = time.monotonic()
        websocket.send('{"type": "speedtest", "bytes": %d}' % size)
        data = websocket.recv(timeout=60)
        elapsed = time.monotonic() - started
    assert len(data) == size
    return elapsed


def test_the_shaping_proxy_limits_throughput_to_com(fresh_lab):
    size = 16000
    direct = _speedtest_seconds(fresh_lab, '127.0.45.1', size)  # the proxy with no limits set
    fresh_lab.control('POST', '/lab/shaper', {'rate_kbps': 64})
    shaped = _speedtest_seconds(fresh_lab, '127.0.45.1', size)
    # 16000 bytes at 64 kbit/s is 2 s; the token bucket may send its first 4 KB at once.
    assert shaped >= (size - 4096) * 8 / 64000.0
    print('speedtest %d bytes: unshaped %.3f s, 64 kbit/s %.3f s (x%.0f)' % (size, direct, shaped, shaped / max(direct, 1e-6)))
