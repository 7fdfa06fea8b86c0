# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A synthetic readiness report of a large fleet, built by readiness.py from module results of the shapes the
check modules return: what the browser test opens to see the page as an operator of hundreds of systems does.

Every system gets the real prerequisite judgement (readiness.prerequisite_checks over its facts) and the
collected network checks; a few fail the way real sites fail (no avaya-sub.com in the customer's DNS, a
firewall that blocks both ports, a pending reboot, a link that is not up)."""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, readiness

SERVER = 'admin.uk1.avaya-sub.com'


def _node(index):
    address = '10.%d.%d.1' % (index // 250, index % 250)
    return {
        'name': 'site-%03d' % index, 'node_address': address, 'system_type': 'IP500 V2', 'role': 'node', 'holds_subscription_link': True,
        'lans': [{'name': 'LAN1', 'ip_address': address, 'ip_mask': '255.255.255.0'}],
        'ip_routes': [{'ip_address': '0.0.0.0', 'ip_mask': '0.0.0.0', 'gateway': address[:-1] + '254', 'destination': 'LAN1'}],
        'dns': {'server': '192.0.2.53'}, 'time': {'source': 'SNTP', 'server': 'time.google.com', 'time_zone': 'Europe/London'},
        'subscription': {'customer_id': 'C-%d' % index, 'server_address': SERVER},
        'service_users': [{'name': 'COMAdmin', 'account_status': 'Enabled'}],
    }


def _results(node, dns_ok=True, ports_ok=True):
    item = {'node_address': node['node_address']}
    dns = [checks.result('dns.server_reachable', checks.PASS, summary='the DNS server answered 2 of 2 queries'),
           checks.passed_if('dns.server_address', dns_ok, measured=1 if dns_ok else 0, limit=1, unit='addresses',
                            summary='%s resolves' % SERVER if dns_ok else '%s does not exist (NXDOMAIN)' % SERVER,
                            hint="the customer's DNS server must resolve *.avaya-sub.com"),
           checks.result('dns.storage.googleapis.com', checks.PASS, measured=1, limit=1, unit='addresses', summary='resolves'),
           checks.result('dns.lookup_time', checks.PASS, measured=12.345, limit=2000, unit='ms', summary='fast')]
    groups = [{'check': 'dns', 'results': [{'item': item, 'checks': dns}]}]
    if not dns_ok:
        for name in ('ports', 'tls', 'quality'):
            groups.append({'check': name, 'results': [{'item': item, 'skipped': True}],
                           'skipped_because': 'DNS gave no single address for the subscription server'})
    else:
        ports = [checks.passed_if('ports.%d' % port, ports_ok, measured='open' if ports_ok else 'refused', limit='open',
                                  summary='TCP %d' % port, hint='allow outbound TCP %d' % port) for port in (443, 8443)]
        ports.append(checks.passed_if('ports.any_open', ports_ok, measured=[443, 8443] if ports_ok else [], limit='at least one of 443, 8443',
                                      summary='ports', hint='allow outbound TCP 443 and 8443'))
        groups.append({'check': 'ports', 'results': [{'item': item, 'checks': ports}]})
        if ports_ok:
            groups.append({'check': 'tls', 'results': [{'item': item, 'checks': [
                checks.result('tls.version', checks.PASS, measured='TLSv1.2', limit='TLSv1.2', summary='TLS 1.2'),
                checks.result('tls.client_certificate_requested', checks.PASS, measured=True, limit=True, summary='asked')]}]})
            groups.append({'check': 'quality', 'results': [{'item': item, 'checks': [
                checks.result('quality.round_trip', checks.PASS, measured=23.4, limit=200, unit='ms', summary='round trip'),
                checks.result('quality.throughput', checks.PASS, measured=443445.9, limit=128, unit='kbit/s', summary='throughput')]}]})
        else:
            for name in ('tls', 'quality'):
                groups.append({'check': name, 'results': [{'item': item, 'skipped': True}], 'skipped_because': 'no port was open'})
    groups.append({'check': 'time', 'results': [{'item': item, 'checks': [
        checks.result('time.source_reachable', checks.PASS, measured=8.1, unit='ms', summary='answered'),
        checks.result('time.offset', checks.PASS, measured=-0.0, limit=5, unit='s', summary='in step')]}]})
    return groups


def fleet_document(count=200, failing=(17, 103, 188), reboot=(50,), link_down=(150,)):
    """The report document of count systems; the systems at the indexes in failing, reboot and link_down are not ready."""
    reports = []
    for index in range(1, count + 1):
        node = _node(index)
        status = {'node_address': node['node_address'], 'link': {'state': 'connected', 'port': 443}, 'licence_status': {'state': 'valid'}}
        if index in link_down:
            status = {'node_address': node['node_address'], 'link': {'state': 'connecting', 'reason': 'port_refused',
                                                                     'reason_text': 'TCP 443 and 8443 refused'}}
        steps = []
        if index in reboot:
            steps = [{'node': node['node_address'], 'setting': 'reboot', 'label': 'Reboot', 'where': 'System Status > Reboot',
                      'value': 'when free', 'reboot': True}]
        results = _results(node, dns_ok=index != failing[0], ports_ok=index not in failing[1:] and index not in link_down)
        reports.append(readiness.system_report('host-%03d' % index, node, status, results, manual_steps=steps))
    return readiness.document(reports, '2026-12-07T12:00:00Z')
