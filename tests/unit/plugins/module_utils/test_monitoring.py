# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy
import datetime
import re

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, link_status, monitoring, readiness

DAY = datetime.date(2026, 11, 24)


def entitlement(key='Subscription Power User', expiry='2027-11-24', status='valid', grace=False):
    return {'key': key, 'display_name': key.replace('Subscription ', ''), 'quantity': 10, 'expiry_date': expiry,
            'status': status, 'is_grace': grace}


# A connected node as subscription_status returns it; the last heartbeat says the device's today is 2026-11-24.
CONNECTED = {
    'node_address': '192.0.2.1',
    'link': {'state': 'connected', 'port': 443, 'reason': None, 'connected_since': '2026-11-01T08:00:00Z',
             'last_heartbeat': '2026-11-24T23:59:58Z', 'last_attempt': '2026-11-01T08:00:00Z', 'missing_prerequisites': []},
    'grace': {'in_error_mode': False, 'expired': False, 'error_mode_since': None, 'period_days': 30, 'days_left': 30},
    'alarms': [],
    'entitlements': [entitlement(), entitlement('Subscription SIP Trunk Channels', '2027-01-31')],
    'licence_status': {'state': 'valid', 'grace': False},
}


def error_mode(day=3):
    node = copy.deepcopy(CONNECTED)
    node['link'].update(state='error_mode', port=None, reason='port_refused', reason_text='TCP 192.0.2.9:443 and 8443 refused',
                        last_attempt='2026-11-26T10:00:01Z')
    node['grace'].update(in_error_mode=True, error_mode_since='2026-11-24T10:00:00Z', days_left=30 - day + 1)
    node['alarms'] = [{'day': n, 'raised': '2026-11-%dT10:00:00Z' % (23 + n),
                       'text': 'Subscription server unreachable: error mode day %d of 30, %d days left' % (n, 31 - n)}
                      for n in range(1, day + 1)]
    for item in node['entitlements']:
        item['is_grace'] = True
    return node


def by_name(results):
    return dict((item['check'], item) for item in results)


def test_the_devices_today_is_its_newest_timestamp_not_the_controllers():
    assert monitoring.device_today(CONNECTED) == (DAY, 'last heartbeat 2026-11-24T23:59:58Z')
    # In error mode the heartbeat is old; the connection attempts go on.
    assert monitoring.device_today(error_mode()) == (datetime.date(2026, 11, 26), 'last connection attempt 2026-11-26T10:00:01Z')
    assert monitoring.device_today({'link': {'state': 'not_configured'}}) == (None, None)
    date, text = monitoring.reference_date({'link': {}}, fallback_today=datetime.date(2025, 1, 2))
    assert date == datetime.date(2025, 1, 2) and "controller's date" in text


def test_a_healthy_connected_node_passes_every_check():
    results = monitoring.node_checks(CONNECTED, 30, fallback_today=datetime.date(2000, 1, 1))
    assert [item['check'] for item in results] == [
        'link.state', 'link.licences', 'grace.days_left', 'alarms.active', 'entitlement.Subscription Power User',
        'entitlement.Subscription SIP Trunk Channels']
    assert checks.add_up(results)['passed'] is True
    power = by_name(results)['entitlement.Subscription Power User']
    # Counted from the device's date (2026-11-24), not the fallback's (2000).
    assert power['measured'] == 365 and power['unit'] == 'days' and power['limit'] == 'more than 30'
    assert power['details']['reference_date'] == '2026-11-24'


def test_error_mode_day_three_fails_with_days_left_and_alarms():
    results = by_name(monitoring.node_checks(error_mode(3), 30))
    link = results['link.state']
    assert link['status'] == checks.FAIL and link['details']['days_left'] == 28 and link['details']['grace_ends'] == '2026-12-24'
    assert link['summary'] == 'error mode, day 3: 28 of 30 days left in the grace period (until 2026-12-24), 3 daily alarms'
    assert 'TCP 192.0.2.9:443 and 8443 refused' in link['hint'] and '28 days left' in link['hint']
    grace = results['grace.days_left']
    assert grace['status'] == checks.FAIL and grace['measured'] == 28 and grace['limit'] == 30
    alarms = results['alarms.active']
    assert alarms['status'] == checks.FAIL and alarms['measured'] == 3 and alarms['summary'].startswith('days 1..3: ')
    assert '28 days left' in alarms['summary']
    # The licences still run (on grace): they are judged like any other.
    assert results['entitlement.Subscription Power User']['status'] == checks.PASS


def test_grace_expired_fails_and_its_licences_are_invalid():
    node = error_mode(30)
    node['link']['state'] = 'expired'
    node['grace'].update(in_error_mode=False, expired=True, days_left=0)
    for item in node['entitlements']:
        item.update(status='invalid', is_grace=False)
    results = by_name(monitoring.node_checks(node, 30))
    assert results['link.state']['status'] == checks.FAIL and 'telephony' in results['link.state']['summary']
    assert results['grace.days_left']['measured'] == 0 and results['grace.days_left']['status'] == checks.FAIL
    assert 'invalid' in results['entitlement.Subscription Power User']['summary']


@pytest.mark.parametrize('state, field, words', [
    ('connecting', {'reason_text': 'DNS 192.0.2.53 did not answer'}, 'DNS 192.0.2.53 did not answer'),
    ('not_configured', {'missing_prerequisites': ['dns_server', 'comadmin']}, 'dns_server, comadmin'),
    ('unknown', {'device_state': 'Rebooting'}, 'does not know'),
])
def test_a_link_that_is_not_up_fails_with_its_reason(state, field, words):
    node = copy.deepcopy(CONNECTED)
    node['link'].update(state=state, **field)
    node['entitlements'] = []
    results = by_name(monitoring.node_checks(node, 30))
    assert results['link.state']['status'] == checks.FAIL
    assert words in results['link.state']['summary'] + results['link.state']['hint'] + str(results['link.state']['measured'])
    assert results['entitlements.received']['status'] == checks.NOT_MEASURED


@pytest.mark.parametrize('expiry, window, status, left', [
    ('2026-12-04', 30, checks.FAIL, 10),     # inside the window
    ('2026-12-04', 5, checks.PASS, 10),      # outside a narrower one
    ('2026-12-24', 30, checks.FAIL, 30),     # the last day of the window still warns
    ('2026-12-25', 30, checks.PASS, 31),
    ('2026-11-24', 0, checks.FAIL, 0),       # today: expired even before the device says so
])
def test_an_entitlement_inside_the_window_fails_with_key_date_and_days_left(expiry, window, status, left):
    node = copy.deepcopy(CONNECTED)
    node['entitlements'][0]['expiry_date'] = expiry
    result = by_name(monitoring.node_checks(node, window))['entitlement.Subscription Power User']
    assert result['status'] == status and result['measured'] == left
    assert result['details']['expiry_date'] == expiry and result['details']['key'] == 'Subscription Power User'
    if status == checks.FAIL and left > 0:
        assert result['hint'].startswith('renew Subscription Power User before %s (%d days left)' % (expiry, left))
        assert 'renewal order' in result['hint']


def test_an_expired_entitlement_fails_with_the_days_since():
    node = copy.deepcopy(CONNECTED)
    node['entitlements'][0].update(expiry_date='2026-11-21', status='expired')
    result = by_name(monitoring.node_checks(node, 30))['entitlement.Subscription Power User']
    assert result['status'] == checks.FAIL and result['measured'] == -3
    assert result['summary'] == 'Subscription Power User expired on 2026-11-21 (3 days ago): its features have stopped'


def test_a_negative_window_is_refused():
    with pytest.raises(ValueError):
        monitoring.node_checks(CONNECTED, -1)


# The report of kind monitoring: same format and rules as readiness, monitoring's checks.

NODE = {'name': 'site-1', 'node_address': '192.0.2.1', 'system_type': 'IP500 V2', 'role': 'node', 'holds_subscription_link': True}


def test_the_monitoring_report_skips_prerequisites_and_counts_from_the_device():
    report = readiness.system_report('h', NODE, CONNECTED, [], kind=readiness.MONITORING, expiry_warning_days=30)
    assert report['verdict'] == readiness.READY
    assert not [item for item in report['checks'] if item['check'].startswith(('prerequisite.', 'link.first_connection'))]
    assert report['notes'][-1] == "days counted from the device's date 2026-11-24 (from its last heartbeat 2026-11-24T23:59:58Z)"


def test_the_monitoring_report_needs_attention_and_says_so_in_its_own_words():
    failing = readiness.system_report('h', dict(NODE, name='beta'), error_mode(3), [], kind=readiness.MONITORING)
    healthy = readiness.system_report('h', dict(NODE, name='alpha', node_address='192.0.2.2'), CONNECTED, [], kind=readiness.MONITORING)
    secondary = readiness.system_report('h', dict(NODE, name='gamma', node_address='192.0.2.3', role='secondary',
                                                  system_type='Server Edition Secondary', holds_subscription_link=False),
                                        {'link': {'state': 'not_applicable'}}, [], kind=readiness.MONITORING)
    assert secondary['verdict'] == readiness.NO_LINK_EXPECTED and secondary['checks'] == []
    doc = readiness.document([healthy, secondary, failing], '2026-11-26T10:00:00Z', readiness.MONITORING)
    assert doc['kind'] == 'monitoring' and doc['title'] == 'IP Office subscription monitoring'
    assert [item['system'] for item in doc['systems']] == ['beta', 'alpha', 'gamma']
    assert failing['checks'][0]['check'] == 'link.state'
    assert {'check': 'grace.days_left', 'systems': ['beta']} in doc['fleet']['blockers']
    lines = readiness.text_lines(doc)
    assert lines[0].startswith('beta (192.0.2.1): NEEDS ATTENTION - link.state: the link to COM is down')
    assert lines[2] == ('gamma (192.0.2.3): not applicable: no link of its own - '
                        'a Server Edition secondary has no subscription link of its own: the Primary carries it')
    assert lines[-1] == 'fleet: 1 of 2 systems healthy, 1 need attention, 1 not applicable, 0 unverified'
    page = readiness.to_html(doc)
    assert '<title>IP Office subscription monitoring</title>' in page and 'What needs attention' in page
    # The first row of an area carries the anchor the summary table links to.
    assert re.search(r'<tr class="fail" id="system-1-link"><td>link.state</td>', page) and '28 days' in page


def test_the_readiness_report_keeps_its_words():
    doc = readiness.document([], 'now')
    assert doc['kind'] == 'readiness'
    assert readiness.text_lines(doc) == ['fleet: 0 of 0 systems ready, 0 not ready, 0 without a link of their own, 0 unverified']
    assert '<h1>IP Office subscription readiness</h1>' in readiness.to_html(doc)


# --- a release without the link status resource: judged from its documented licences ---------------------------

def licence_node(grace=True, status=1):
    """A node as subscription_status returns it for a release that serves only the documented licences."""
    licences = [{'key': 'Subscription Power User', 'display_name': 'Power User', 'quantity': 10, 'expiry_date': '2027/11/24',
                 'status': status, 'is_grace': grace, 'source': 3}]
    node = link_status.node_status_from_licences(licences)
    node.update(node_address='192.0.2.7', name='doc-1')
    return node


INFO = {'node_address': '192.0.2.7', 'licence_server': {'grace_period': 30}}
ALARM = {'system': 'doc-1', 'address': '192.0.2.7', 'kind': 'error_mode', 'reason': 41, 'reason_text': 'network disconnection',
         'grace_day': 3, 'days_left': 28, 'grace_days': 30, 'error_mode_since': '2026-11-24T10:00:00Z',
         'raised': '2026-11-26T10:00:00Z', 'text': 'Subscription server unreachable: error mode day 3 of 30, 28 days left'}
NOW = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.timezone.utc)


def test_licences_in_grace_are_error_mode_with_the_days_left_unknown_and_why():
    node = monitoring.with_evidence(licence_node(), INFO, now=NOW)
    results = by_name(monitoring.node_checks(node, 30, DAY))
    link = results['link.state']
    assert link['status'] == checks.FAIL and link['measured'] == 'error mode (licences on the grace period)'
    assert 'judged from the documented licences' in link['details']['evidence'] and 'None' not in link['summary'] + link['hint']
    assert 'days left unknown' in link['hint']
    grace = results['grace.days_left']
    assert grace['status'] == checks.NOT_MEASURED and grace['measured'] is None and grace['limit'] == 30
    assert 'not since when' in grace['summary'] and 'docs/monitor.md' in grace['summary']
    # This release shows no alarms: not "no alarms", but not measured.
    assert results['alarms.active']['status'] == checks.NOT_MEASURED
    assert results['entitlement.Subscription Power User']['status'] == checks.PASS
    assert results['entitlement.Subscription Power User']['details']['evidence'].startswith('read from the documented licences')


def test_an_alarm_from_the_node_measures_the_days_left_and_the_date_telephony_stops():
    node = monitoring.with_evidence(licence_node(), INFO, alarm=ALARM, now=NOW)
    assert node['grace']['error_mode_since'] == '2026-11-24T10:00:00Z' and node['grace']['days_left'] == 28
    results = by_name(monitoring.node_checks(node, 30, DAY))
    grace = results['grace.days_left']
    assert grace['status'] == checks.FAIL and grace['measured'] == 28 and grace['details']['grace_ends'] == '2026-12-24'
    assert 'the day-3 alarm it raised at 2026-11-26T10:00:00Z' in grace['details']['evidence']
    link = results['link.state']
    assert link['summary'] == 'error mode, day 3: 28 of 30 days left in the grace period (until 2026-12-24), 1 alarm received'
    assert results['alarms.active']['measured'] == 1 and 'day 3' in results['alarms.active']['summary']
    # An alarm from another node is no evidence here; one without "since" dates the start from its day.
    assert monitoring.with_evidence(licence_node(), INFO, alarm=dict(ALARM, address='192.0.2.8', system='doc-2'))['grace']['days_left'] is None
    undated = monitoring.with_evidence(licence_node(), INFO, alarm=dict(ALARM, error_mode_since=None), now=NOW)
    assert undated['grace']['error_mode_since'] == '2026-11-24T10:00:00Z'


def test_an_alarm_the_licences_contradict_measures_nothing():
    # The link came back after the alarm: the licences are current, the alarm is not.
    node = monitoring.with_evidence(licence_node(grace=False), INFO, alarm=ALARM, now=NOW)
    results = by_name(monitoring.node_checks(node, 30, DAY))
    assert results['link.state']['status'] == checks.PASS and results['grace.days_left']['status'] == checks.PASS
    cleared = monitoring.with_evidence(licence_node(grace=False), INFO, alarm=dict(ALARM, kind='cleared'), now=NOW)
    assert by_name(monitoring.node_checks(cleared, 30, DAY))['alarms.active']['status'] == checks.PASS


def test_the_history_keeps_an_alarms_start_for_later_runs_and_bounds_an_unmeasured_one():
    episode = {'first_seen': '2026-11-25T06:00:00Z', 'last_healthy': '2026-11-24T06:00:00Z',
               'error_mode_since': '2026-11-24T10:00:00Z', 'measured_at': '2026-11-24T10:00:05Z'}
    node = monitoring.with_evidence(licence_node(), INFO, episode=episode, now=NOW)
    # 2 days and 2 hours into the period: 28 days left, rounded up as the device counts.
    assert node['grace']['days_left'] == 28 and 'monitor history' in node['grace']['measured_by']
    unmeasured = dict(episode, error_mode_since=None)
    node = monitoring.with_evidence(licence_node(), INFO, episode=unmeasured, now=NOW)
    grace = by_name(monitoring.node_checks(node, 30, DAY))['grace.days_left']
    assert grace['status'] == checks.NOT_MEASURED and grace['details']['telephony_stops_by'] == '2026-12-25'


def test_invalid_licences_are_the_end_of_the_grace_period_and_no_licences_no_link():
    node = monitoring.with_evidence(licence_node(grace=False, status=0), INFO, now=NOW)
    results = by_name(monitoring.node_checks(node, 30, DAY))
    assert node['link']['state'] == 'expired' and results['link.state']['measured'] == 'grace period expired'
    assert results['grace.days_left']['status'] == checks.FAIL and results['grace.days_left']['measured'] == 0
    empty = link_status.node_status_from_licences([])
    link = monitoring.link_check(empty)
    assert link['status'] == checks.FAIL and link['measured'] == 'not connected' and 'no licences yet' in link['summary']


def test_the_period_comes_from_the_documented_pbxlicense_field_else_from_the_seeds():
    assert monitoring.with_evidence(licence_node(), {'licence_server': {'grace_period': 45}})['grace']['period_days'] == 45
    grace = monitoring.with_evidence(licence_node(), {})['grace']
    assert (grace['period_days'], grace['period_from']) == (30, "Avaya's documents (30 days)")
    # A node with the link status resource measures all of it itself: the alarm is only kept for the report.
    node = monitoring.with_evidence(error_mode(), {}, alarm=dict(ALARM, address='192.0.2.1'))
    assert node['grace']['days_left'] == 28 and node['alarm']['grace_day'] == 3 and len(node['alarms']) == 3


def test_a_network_check_not_measured_leaves_a_healthy_link_unverified_in_the_monitoring_report():
    """The monitor runs the validate role's network checks for a node judged from its licences: one of them not
    measured (throughput against a real COM) makes the system unverified, counted apart; not a need for attention."""
    throughput = checks.result('quality.throughput', checks.NOT_MEASURED, limit=128, unit='kbit/s',
                               summary='not measured: a real COM offers no throughput test; measured only against the lab')
    collected = [{'check': 'quality', 'results': [{'item': NODE, 'checks': [throughput]}]}]
    report = readiness.system_report('h', NODE, CONNECTED, collected, kind=readiness.MONITORING)
    assert report['verdict'] == readiness.UNVERIFIED and report['failed_checks'] == []
    doc = readiness.document([report], 'now', readiness.MONITORING)
    assert doc['fleet']['not_ready'] == 0 and doc['fleet']['unverified'] == 1 and doc['fleet']['all_ready'] is False
    assert readiness.text_lines(doc)[0].startswith('site-1 (192.0.2.1): UNVERIFIED - not measured: quality.throughput (a real COM')
    assert readiness.text_lines(doc)[-1] == 'fleet: 0 of 1 systems healthy, 0 need attention, 0 not applicable, 1 unverified'
