# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""subscription_status through ansible-playbook, one lab scenario per link state."""

from __future__ import annotations

import datetime

from conftest import SCN_APP_SERVER, SE_PRIMARY, SINGLE_APP_SERVER, connection, lab_writes
from linklab import advance_days, com_port, configure, wait_link, wait_state


def _status(lab, run_playbook, host, check=False, **extra):
    task = {'name': 'read the link', 'ipoffice.subscription.subscription_status': connection(lab, host, **extra), 'register': 'status'}
    start = lab.last_seq()
    run = run_playbook([task], capture=['status'], extra_args=['--check'] if check else [])
    result = run.results.get('status')
    assert result is not None and not result.get('failed'), run.output[-3000:]
    # Reads only: counted from the lab's request log, not taken from changed: false alone.
    assert result['changed'] is False and lab_writes(lab, start) == []
    return result


def _by_name(result):
    return dict((system['name'], system) for system in result['systems'])


def test_each_scn_node_reports_its_own_state_in_one_call(fresh_lab, run_playbook):
    com_port(fresh_lab, 443, mode='refuse')
    configure(fresh_lab, 'scn-1')
    configure(fresh_lab, 'scn-3', server='admin.twoaddr.avaya-sub.com')
    configure(fresh_lab, 'scn-2', customer='', route=False)
    wait_state(fresh_lab, 'scn-1', 'Connected')
    wait_link(fresh_lab, 'scn-3', lambda current: current['Reason'] == 'dns_multiple_addresses', 15, 'dns_multiple_addresses')
    start = fresh_lab.last_seq()
    result = _status(fresh_lab, run_playbook, SCN_APP_SERVER, check=True)
    nodes = _by_name(result)
    assert sorted(nodes) == ['scn-1', 'scn-2', 'scn-3']
    up = nodes['scn-1']
    assert up['link']['state'] == 'connected' and up['link']['port'] == 8443 and up['link']['reason'] is None
    assert up['ready'] is True and up['licence_status']['state'] == 'valid' and up['licence_status']['grace'] is False
    assert up['holds_subscription_link'] is True and up['role'] == 'node'
    assert {item['key'] for item in up['entitlements']} >= {'Subscription Power User'}
    assert all(item['status'] == 'valid' and len(item['expiry_date']) == 10 for item in up['entitlements'])
    unconfigured = nodes['scn-2']
    assert unconfigured['link']['state'] == 'not_configured'
    assert unconfigured['link']['missing_prerequisites'] == ['default_route', 'customer_id']
    assert unconfigured['licence_status']['state'] == 'none' and unconfigured['subscription_features'] == 'none'
    two = nodes['scn-3']
    assert two['link']['state'] == 'connecting' and two['link']['reason'] == 'dns_multiple_addresses'
    assert 'one static address' in two['link']['reason_text']
    assert result['connected'] is False and result['all_ready'] is False
    # Three nodes, three reads: System, SubscriptionStatus, License (plus the login).
    reads = [entry['resource'] for entry in fresh_lab.requests(start) if entry['method'] == 'GET']
    assert reads == ['authenticate', 'systems', 'subscriptionstatus', 'licenses']


def test_error_mode_day_two_reports_alarms_days_left_and_grace_licences(fresh_lab, run_playbook):
    configure(fresh_lab, 'ip500-single')
    wait_state(fresh_lab, 'ip500-single', 'Connected')
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    wait_state(fresh_lab, 'ip500-single', 'ErrorMode')
    advance_days(fresh_lab, 1)
    node = _status(fresh_lab, run_playbook, SINGLE_APP_SERVER)['systems'][0]
    assert node['link']['state'] == 'error_mode'
    assert node['grace']['in_error_mode'] is True and node['grace']['days_left'] == 29 and node['grace']['period_days'] == 30
    assert [alarm['day'] for alarm in node['alarms']] == [1, 2]
    assert node['licence_status']['state'] == 'valid' and node['licence_status']['grace'] is True
    assert node['telephony'] == 'active' and node['ready'] is False


def test_grace_expired_and_server_edition_roles(fresh_lab, run_playbook):
    configure(fresh_lab, 'se-primary')
    wait_state(fresh_lab, 'se-primary', 'Connected')
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    wait_state(fresh_lab, 'se-primary', 'ErrorMode')
    advance_days(fresh_lab, 30)
    result = _status(fresh_lab, run_playbook, SE_PRIMARY)
    nodes = _by_name(result)
    primary = nodes['se-primary']
    assert primary['link']['state'] == 'expired' and primary['grace']['expired'] is True and primary['grace']['days_left'] == 0
    assert primary['telephony'] == 'deactivated' and primary['subscription_features'] == 'deactivated'
    assert primary['licence_status']['state'] == 'invalid'
    for name in ('se-secondary', 'se-expansion'):
        assert nodes[name]['link']['state'] == 'not_applicable' and nodes[name]['ready'] is None
        assert nodes[name]['holds_subscription_link'] is False
    assert result['connected'] is False


def test_an_expired_entitlement_while_connected(fresh_lab, run_playbook):
    configure(fresh_lab, 'scn-2')
    wait_state(fresh_lab, 'scn-2', 'Connected')
    today = datetime.date.fromisoformat(fresh_lab.control('GET', '/lab/clock')['now'][:10])
    expiry = (today + datetime.timedelta(days=1)).isoformat()
    fresh_lab.control('POST', '/lab/com/customers/LAB-0001/subscriptions', {'key': 'Subscription Power User', 'expires': expiry})
    wait_link(fresh_lab, 'scn-2', lambda current: any(item['expires'] == expiry for item in current['entitlements']), 10, 'the pushed licences')
    advance_days(fresh_lab, 1)
    node = _status(fresh_lab, run_playbook, SCN_APP_SERVER, node_address='127.0.21.2')['systems'][0]
    assert node['name'] == 'scn-2' and node['link']['state'] == 'connected'
    statuses = dict((item['key'], item['status']) for item in node['entitlements'])
    assert statuses['Subscription Power User'] == 'expired' and statuses['Subscription SIP Trunk Channels'] == 'valid'
    assert node['licence_status']['state'] == 'partly_expired' and node['ready'] is False
