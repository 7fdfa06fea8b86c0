# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy
import json

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, profiles, readiness

NODE = {
    'name': 'site-1', 'node_address': '192.0.2.1', 'system_type': 'IP500 V2', 'role': 'node', 'holds_subscription_link': True,
    'lans': [{'name': 'LAN1', 'ip_address': '192.0.2.1', 'ip_mask': '255.255.255.0'}],
    'ip_routes': [{'ip_address': '0.0.0.0', 'ip_mask': '0.0.0.0', 'gateway': '192.0.2.254', 'destination': 'LAN1', 'metric': 0}],
    'dns': {'server': '192.0.2.53'}, 'time': {'source': 'SNTP', 'server': 'time.example', 'time_zone': 'Europe/London'},
    'subscription': {'customer_id': 'C-1', 'server_address': 'admin.uk1.avaya-sub.com'},
    'service_users': [{'name': 'COMAdmin', 'account_status': 'Enabled'}],
}
CONNECTED = {'node_address': '192.0.2.1', 'link': {'state': 'connected', 'port': 443}, 'licence_status': {'state': 'valid'}}


def passing(name, node=None):
    node = node or NODE
    return {'item': node, 'checks': [checks.result('%s.ok' % name, checks.PASS, summary='fine')]}


def all_checks(node=None, **overrides):
    node = node or NODE
    groups = []
    for name in ('dns', 'ports', 'tls', 'quality', 'time'):
        groups.append({'check': name, 'results': [overrides.get(name, passing(name, node))]})
    return groups


def test_a_configured_connected_node_is_ready():
    report = readiness.system_report('h', NODE, CONNECTED, all_checks())
    assert report['verdict'] == readiness.READY and report['failed_checks'] == []
    assert [item['check'] for item in report['checks'] if item['check'].startswith('prerequisite.')] == [
        'prerequisite.default_route', 'prerequisite.dns_server', 'prerequisite.time_source', 'prerequisite.time_zone',
        'prerequisite.customer_id', 'prerequisite.server_address', 'prerequisite.comadmin']


def test_a_gateway_outside_the_lan_is_no_default_route():
    node = copy.deepcopy(NODE)
    node['ip_routes'][0]['gateway'] = '198.51.100.1'
    report = readiness.system_report('h', node, CONNECTED, all_checks(node))
    assert report['verdict'] == readiness.NOT_READY and report['failed_checks'] == ['prerequisite.default_route']
    assert report['checks'][0]['check'] == 'prerequisite.default_route' and 'ip_route' in report['checks'][0]['hint']


def test_a_skipped_or_broken_check_is_never_a_pass():
    skipped = {'item': NODE, 'skipped': True, 'false_condition': 'item.node_address in validate_resolved'}
    broken = {'item': NODE, 'msg': 'dnspython is missing'}
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(ports=skipped, tls=broken))
    statuses = dict((item['check'], item['status']) for item in report['checks'])
    assert statuses['ports.not_run'] == checks.NOT_MEASURED and statuses['tls.error'] == checks.FAIL
    assert report['verdict'] == readiness.NOT_READY
    assert 'not measured: ports.not_run' in report['notes']


def test_results_of_other_nodes_are_not_mixed_in():
    other = dict(NODE, node_address='192.0.2.2')
    failing_elsewhere = {'item': other, 'checks': [checks.result('dns.server_address', checks.FAIL, hint='fix DNS')]}
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(dns=failing_elsewhere))
    assert 'dns.server_address' not in [item['check'] for item in report['checks']]


def test_443_blocked_but_8443_open_is_ready_with_a_note():
    # port_check passes a closed port when another is open (the system moves on), measuring its state.
    ports = {'item': NODE, 'checks': [checks.result('ports.443', checks.PASS, measured='refused', limit='open'),
                                      checks.result('ports.8443', checks.PASS, measured='open', limit='open'),
                                      checks.result('ports.any_open', checks.PASS, measured=[8443])]}
    status = dict(CONNECTED, link={'state': 'connected', 'port': 8443})
    report = readiness.system_report('h', NODE, status, all_checks(ports=ports))
    assert report['verdict'] == readiness.READY
    assert report['notes'][0] == 'TCP 443 not open (refused): the system tries it first and then uses 8443'


def test_server_edition_secondary_expects_no_link():
    node = dict(NODE, role='secondary', system_type='Server Edition Secondary', holds_subscription_link=False,
                subscription={'customer_id': '', 'server_address': ''})
    report = readiness.system_report('h', node, {'node_address': '192.0.2.1', 'link': {'state': 'not_applicable'}}, [])
    assert report['verdict'] == readiness.NO_LINK_EXPECTED
    assert not [item for item in report['checks'] if item['check'] in ('prerequisite.customer_id', 'link.first_connection')]
    assert 'Primary carries it' in report['notes'][0]


def test_a_link_not_up_fails_with_its_reason():
    status = {'node_address': '192.0.2.1', 'link': {'state': 'connecting', 'reason': 'port_refused', 'reason_text': 'TCP x:443 refused'}}
    report = readiness.system_report('h', NODE, status, all_checks())
    first = report['checks'][0]
    assert first['check'] == 'link.first_connection' and first['hint'] == 'the link is not up: TCP x:443 refused'


def test_fleet_summary_and_order_put_failing_systems_first():
    ready = readiness.system_report('a', dict(NODE, name='alpha'), CONNECTED, all_checks())
    bad_node = dict(NODE, name='beta', dns={'server': ''})
    bad = readiness.system_report('b', bad_node, CONNECTED, all_checks(bad_node))
    unreadable = readiness.host_reports('c', [], [], [], error='HTTP 401')[0]
    doc = readiness.document([ready, bad, unreadable], '2026-11-24T10:00:00Z')
    assert [report['system'] for report in doc['systems']] == ['beta', 'c', 'alpha']
    assert doc['fleet']['ready'] == 1 and doc['fleet']['not_ready'] == 2 and doc['fleet']['all_ready'] is False
    assert {'check': 'prerequisite.dns_server', 'systems': ['beta']} in doc['fleet']['blockers']
    lines = readiness.text_lines(doc)
    assert lines[0].startswith('beta (192.0.2.1): NOT READY - prerequisite.dns_server: set the DNS server')
    assert lines[-1] == 'fleet: 1 of 3 systems ready, 2 not ready, 0 without a link of their own, 0 unverified'
    assert json.loads(readiness.to_json(doc))['fleet'] == doc['fleet']


def test_html_is_self_contained_escaped_and_ordered():
    node = dict(NODE, name='<script>x</script>', dns={'server': ''})
    bad = readiness.system_report('h', node, CONNECTED, all_checks(node))
    good = readiness.system_report('h', dict(NODE, name='good'), CONNECTED, all_checks())
    page = readiness.to_html(readiness.document([good, bad], 'now'))
    assert '<script>' not in page and '&lt;script&gt;' in page
    assert 'http://' not in page and 'https://' not in page and '<link' not in page
    assert page.index('&lt;script&gt;x') < page.index('>good <')
    assert '<tr class="fail" id="system-1-dns"><td>prerequisite.dns_server</td>' in page


def test_a_check_modules_outcome_names_each_failure_and_keeps_failed_a_bool():
    results = [checks.result('a.one', checks.PASS), checks.result('a.two', checks.FAIL, hint='fix two'),
               checks.result('a.three', checks.NOT_MEASURED)]
    outcome = checks.module_outcome(results, 'A')
    assert outcome['failed'] is True and outcome['failed_checks'] == ['a.two'] and outcome['msg'] == 'failed: a.two (fix two)'
    fine = checks.module_outcome([results[0], results[2]], 'A')
    assert fine['failed'] is False and fine['msg'] == 'no A check failed (2 checks); not measured: a.three'


def test_a_host_whose_api_could_not_be_read_is_named_without_a_node_address():
    doc = readiness.document(readiness.host_reports('scn', [], [], [], error='HTTP 401'), '2026-11-24T10:00:00Z')
    line = readiness.text_lines(doc)[0]
    assert line.startswith('scn: NOT READY - api.readable: ') and '(None)' not in line
    assert doc['systems'][0]['reboot_pending'] is None


def test_a_gateway_that_is_the_node_itself_or_its_subnets_edge_is_no_default_route():
    for gateway in ('192.0.2.1', '192.0.2.0', '192.0.2.255'):
        node = copy.deepcopy(NODE)
        node['ip_routes'][0]['gateway'] = gateway
        report = readiness.system_report('h', node, CONNECTED, all_checks(node))
        assert report['failed_checks'] == ['prerequisite.default_route'], gateway


def test_a_node_waiting_for_a_reboot_is_not_ready_and_the_reboot_is_its_headline():
    step = profiles.manual_step('reboot', '192.0.2.1', 'reboot the system: server takes effect then', 'an offline setting changed', 'site-1')
    waiting = readiness.system_report('h', NODE, CONNECTED, all_checks(), manual_steps=[step])
    other = readiness.system_report('h', dict(NODE, name='site-2', node_address='192.0.2.2'), None, [], manual_steps=[step])
    assert waiting['reboot_pending'] is True and other['reboot_pending'] is False
    assert waiting['verdict'] == readiness.NOT_READY and waiting['failed_checks'][0] == 'reboot.pending'
    lines = readiness.text_lines(readiness.document([waiting, other], '2026-11-24T10:00:00Z'))
    assert [line for line in lines if line.startswith('site-1 (192.0.2.1): NOT READY - reboot.pending: reboot site-1')]
    # The installer says the reboot happened: the step is entered, nothing waits.
    rebooted = readiness.system_report('h', NODE, CONNECTED, all_checks(), manual_steps=[step], entered=['reboot'])
    assert rebooted['reboot_pending'] is False and rebooted['verdict'] == readiness.READY
    # Another failure stays behind the reboot: until it happens, it may be only its consequence.
    failing = readiness.system_report('h', dict(NODE, dns={'server': ''}), CONNECTED, all_checks(), manual_steps=[step])
    assert failing['failed_checks'][0] == 'reboot.pending' and len(failing['failed_checks']) > 1


def test_a_check_the_plays_tags_left_out_is_named_for_every_node():
    found = readiness.collected_checks([{'check': 'tls', 'results': [], 'not_run': 'left out by the tags'}], '192.0.2.1')
    assert [(item['check'], item['status'], item['summary']) for item in found] == [
        ('tls.not_run', checks.NOT_MEASURED, 'not run: left out by the tags')]


def test_each_prerequisite_hint_says_what_to_do_and_who_does_it():
    empty = dict(NODE, ip_routes=[], dns={'server': ''}, time={'source': '', 'server': '', 'time_zone': ''},
                 subscription={'customer_id': '', 'server_address': ''}, service_users=[])
    failed = [item for item in readiness.prerequisite_checks(empty) if item['status'] == checks.FAIL]
    assert len(failed) == 7
    variables = {'prerequisite.default_route': 'ipoffice_default_gateway', 'prerequisite.dns_server': 'ipoffice_dns_server',
                 'prerequisite.time_source': 'ipoffice_time_server', 'prerequisite.time_zone': 'ipoffice_time_zone',
                 'prerequisite.customer_id': 'ipoffice_customer_id', 'prerequisite.server_address': 'ipoffice_subscription_server',
                 'prerequisite.comadmin': 'ipoffice_comadmin_password'}
    for item in failed:
        # Not the check's name again: the variable to set, the playbook that applies it, and who does it.
        assert variables[item['check']] in item['hint'] and 'playbooks/site.yml' in item['hint'] and 'the installer' in item['hint']
    hints = dict((item['check'], item['hint']) for item in failed)
    assert "on the route's LAN" in hints['prerequisite.default_route'] and "customer's network administrator" in hints['prerequisite.default_route']
    assert '*.avaya-sub.com and storage.googleapis.com' in hints['prerequisite.dns_server']
    assert 'SNTP (UDP 123)' in hints['prerequisite.time_source'] and 'default route' in hints['prerequisite.time_source']


def test_a_check_that_could_not_run_says_why_in_its_hint():
    broken = {'item': NODE, 'msg': 'dnspython is missing on the probe host'}
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(dns=broken))
    error = [item for item in report['checks'] if item['check'] == 'dns.error'][0]
    assert 'dnspython is missing on the probe host' in error['hint'] and 'see the message' not in error['hint']


# -- three verdicts: ready, not ready, unverified (nothing failed, a requirement not measured) -----------------------

NOT_MEASURED_THROUGHPUT = {'item': NODE, 'checks': [
    checks.result('quality.round_trip', checks.PASS, measured=12.0, limit=200, unit='ms'),
    checks.result('quality.throughput', checks.NOT_MEASURED, limit=128, unit='kbit/s',
                  summary='not measured: a real COM offers no throughput test; measured only against the lab')]}


def test_a_requirement_not_measured_is_unverified_never_ready():
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(quality=NOT_MEASURED_THROUGHPUT))
    assert report['verdict'] == readiness.UNVERIFIED and report['failed_checks'] == []
    assert report['unmeasured_requirements'] == ['quality.throughput']
    doc = readiness.document([report], '2026-11-24T10:00:00Z')
    assert doc['fleet']['unverified'] == 1 and doc['fleet']['ready'] == 0 and doc['fleet']['all_ready'] is False
    assert doc['fleet']['unverified_systems'] == ['site-1']
    lines = readiness.text_lines(doc)
    assert lines[0] == ('site-1 (192.0.2.1): UNVERIFIED - not measured: quality.throughput (a real COM offers no throughput test; '
                        'measured only against the lab)')
    assert lines[-1] == 'fleet: 0 of 1 systems ready, 0 not ready, 0 without a link of their own, 1 unverified'
    page = readiness.to_html(doc)
    assert '<section class="system v-unverified"' in page and '<span class="verdict v-unverified">UNVERIFIED</span>' in page
    assert '<div class="tile v-unverified"><b>1</b>unverified (not everything measured)</div>' in page
    assert 'Unverified: nothing failed, but not everything was measured: not measured: quality.throughput' in page


def test_a_failure_outranks_what_was_not_measured():
    failing = {'item': NODE, 'checks': NOT_MEASURED_THROUGHPUT['checks'] + [
        checks.result('quality.round_trip_extra', checks.FAIL, hint='a faster path')]}
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(quality=failing))
    assert report['verdict'] == readiness.NOT_READY and report['unmeasured_requirements'] == ['quality.throughput']


def test_a_node_without_any_link_status_is_never_ready():
    report = readiness.system_report('h', NODE, None, all_checks())
    assert report['verdict'] == readiness.UNVERIFIED and report['unmeasured_requirements'] == ['link.first_connection']


def test_a_check_the_tags_left_out_leaves_the_node_unverified():
    report = readiness.system_report('h', NODE, CONNECTED, all_checks()[:-1] + [
        {'check': 'time', 'results': [], 'not_run': 'left out by the tags'}])
    assert report['verdict'] == readiness.UNVERIFIED and report['unmeasured_requirements'] == ['time.not_run']


def test_a_prerequisite_nobody_can_read_does_not_make_a_node_unverified():
    # The settings are proven by the link and the checks; a time zone only the installer entered stays informational.
    node = dict(NODE, carriers=dict((setting, profiles.MANUAL) for setting in profiles.SETTINGS))
    status = dict(CONNECTED, ready=True)
    report = readiness.system_report('h', node, status, all_checks())
    assert report['verdict'] == readiness.READY and 'prerequisite.time_zone' in report['not_measured']


def test_the_order_and_the_fleet_count_unverified_apart():
    ready = readiness.system_report('a', dict(NODE, name='alpha'), CONNECTED, all_checks())
    unverified = readiness.system_report('b', dict(NODE, name='beta'), CONNECTED, all_checks(quality=NOT_MEASURED_THROUGHPUT))
    bad_node = dict(NODE, name='gamma', dns={'server': ''})
    bad = readiness.system_report('c', bad_node, CONNECTED, all_checks(bad_node))
    doc = readiness.document([ready, unverified, bad], 'now')
    assert [item['verdict'] for item in doc['systems']] == [readiness.NOT_READY, readiness.UNVERIFIED, readiness.READY]
    assert (doc['fleet']['ready'], doc['fleet']['unverified'], doc['fleet']['not_ready']) == (1, 1, 1)
    assert doc['fleet']['blockers'] == [{'check': 'prerequisite.dns_server', 'systems': ['gamma']}]
