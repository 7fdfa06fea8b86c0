# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lab's systems send their error-mode alarms as RFC 5424 syslog over UDP, from their LAN1
address, to the syslog server the topology (or the control API) names: the first alarm when the
link is lost, one a day, the clear on reconnect, the day-31 shutdown, and a subscription about
to expire. Read here with a plain socket and a parser of the test's own."""

from __future__ import annotations

import datetime
import re

from alarmlab import TOPOLOGY_SYSLOG, SyslogReceiver, wait_for
from linklab import CUSTOMER, advance_days, com_port, configure, wait_link, wait_state

RECEIVER = ('127.0.51.9', 5514)
HEADER = re.compile(r'^<(\d+)>1 (\S+) (\S+) IPOffice - subscription \[ipoAlarm@32473((?: \w+="[^"]*")+)\] \ufeff(.*)$')


def _parse(data):
    match = HEADER.match(data.decode('utf-8'))
    assert match, data
    params = dict(re.findall(r'(\w+)="([^"]*)"', match.group(4)))
    return dict(params, pri=int(match.group(1)), stamp=match.group(2), host=match.group(3), text=match.group(5))


def test_the_topology_names_each_systems_syslog_server_and_the_control_api_changes_it(fresh_lab):
    assert fresh_lab.control('GET', '/lab/systems/doc-1/alarms')['syslog'] == '%s:%d' % TOPOLOGY_SYSLOG
    changed = fresh_lab.control('POST', '/lab/systems/ip500-single/alarms', {'syslog': '%s:%d' % RECEIVER})
    assert changed['syslog'] == '127.0.51.9:5514'
    # Only loopback: the lab sends nowhere else.
    for bad in ('192.0.2.1:514', '127.0.0.1', '127.0.0.1:0'):
        try:
            fresh_lab.control('POST', '/lab/systems/ip500-single/alarms', {'syslog': bad})
        except Exception as exc:  # urllib raises HTTPError for the 400
            assert getattr(exc, 'code', None) == 400
        else:
            raise AssertionError('%s was accepted' % bad)
    fresh_lab.reset()
    assert fresh_lab.control('GET', '/lab/systems/ip500-single/alarms')['syslog'] == '%s:%d' % TOPOLOGY_SYSLOG


def test_error_mode_raises_one_alarm_a_day_clears_on_reconnect_and_stops_telephony_after_day_30(fresh_lab):
    receiver = SyslogReceiver(*RECEIVER)
    try:
        fresh_lab.control('POST', '/lab/systems/ip500-single/alarms', {'syslog': '%s:%d' % RECEIVER})
        configure(fresh_lab, 'ip500-single')
        wait_state(fresh_lab, 'ip500-single', 'Connected')
        assert receiver.drain() == []    # a connected system raises nothing
        com_port(fresh_lab, 443, mode='refuse')
        com_port(fresh_lab, 8443, mode='refuse')
        first = _parse(receiver.wait(1)[0][0])
        assert receiver.received[0][1] == '127.0.11.1'    # sent from the system's LAN1 address
        assert first['pri'] == 16 * 8 + 4 and first['host'] == 'ip500-single'
        assert (first['kind'], first['system'], first['address'], first['day'], first['daysLeft']) == (
            'error_mode', 'ip500-single', '127.0.11.1', '1', '30')
        # IPO-MIB: a closed link is a network disconnection (41).
        assert (first['reason'], first['reasonText']) == ('41', 'network disconnection')
        # Day 1 is raised at the loss: its time (with milliseconds) is the error mode's start.
        assert first['stamp'][:19] == first['since'][:19] and 'error mode day 1 of 30' in first['text']

        # Two days on: one alarm for each day begun, stamped a day apart, whatever the clock did.
        advance_days(fresh_lab, 2)
        days = [_parse(data) for data, _peer in receiver.wait(3)]
        assert [(item['day'], item['daysLeft']) for item in days] == [('1', '30'), ('2', '29'), ('3', '28')]
        stamps = [datetime.datetime.fromisoformat(item['stamp'].replace('Z', '+00:00')) for item in days]
        assert [later - earlier for earlier, later in zip(stamps, stamps[1:])] == [datetime.timedelta(days=1)] * 2
        assert {item['since'] for item in days} == {first['since']}

        com_port(fresh_lab, 443, mode='accept')
        cleared = _parse(receiver.wait(4)[3][0])
        assert (cleared['kind'], cleared['pri'], cleared['since'], cleared['day']) == ('cleared', 16 * 8 + 5, first['since'], '3')
        wait_state(fresh_lab, 'ip500-single', 'Connected')

        # A new error mode, run to its end: days 1 to 30, then the shutdown, each once, in order.
        com_port(fresh_lab, 443, mode='refuse')
        again = _parse(receiver.wait(5)[4][0])
        assert (again['kind'], again['day']) == ('error_mode', '1') and again['since'] != first['since']
        advance_days(fresh_lab, 31)
        episode = [_parse(data) for data, _peer in receiver.wait(5 + 30)[4:]]
        assert [item['day'] for item in episode] == [str(day) for day in range(1, 32)]
        shutdown = episode[-1]
        assert (shutdown['kind'], shutdown['pri'], shutdown['daysLeft']) == ('expired', 16 * 8 + 2, '0')
        assert 'telephony deactivated' in shutdown['text']
        wait_state(fresh_lab, 'ip500-single', 'Expired')
        # Nothing more until something changes; the lab's log lists what it raised, in the same order.
        assert len(receiver.drain()) == 35
        raised = [entry for entry in fresh_lab.control('GET', '/lab/alarms?since=0') if entry['system'] == 'ip500-single']
        assert [entry['kind'] for entry in raised] == ['error_mode'] * 3 + ['cleared'] + ['error_mode'] * 30 + ['expired']
        assert all(entry['sent'] and entry['target'] == '127.0.51.9:5514' for entry in raised)
    finally:
        receiver.close()


def test_a_subscription_near_its_expiry_raises_one_alarm_and_a_system_without_a_syslog_server_sends_nothing(fresh_lab):
    receiver = SyslogReceiver(*RECEIVER)
    try:
        fresh_lab.control('POST', '/lab/systems/ip500-single/alarms', {'syslog': '%s:%d' % RECEIVER})
        configure(fresh_lab, 'ip500-single')
        wait_state(fresh_lab, 'ip500-single', 'Connected')
        today = datetime.date.fromisoformat(fresh_lab.control('GET', '/lab/clock')['now'][:10])
        expiry = (today + datetime.timedelta(days=10)).isoformat()
        fresh_lab.control('POST', '/lab/com/customers/%s/subscriptions' % CUSTOMER, {'key': 'Subscription Power User', 'expires_in_days': 10})
        wait_link(fresh_lab, 'ip500-single', lambda current: any(item['expires'] == expiry for item in current['entitlements']), 10,
                  'the pushed expiry')
        alarm = _parse(receiver.wait(1)[0][0])
        assert (alarm['kind'], alarm['key'], alarm['expires'], alarm['daysLeft']) == (
            'entitlement_expiring', 'Subscription Power User', expiry, '10')
        assert 'reason' not in alarm    # the IPO-MIB has no reason for an expiring subscription
        # Once per subscription and expiry date: a day later (the clock's move checks every system at once), nothing new.
        advance_days(fresh_lab, 1)
        assert len(receiver.drain()) == 1

        fresh_lab.control('POST', '/lab/systems/ip500-single/alarms', {'syslog': None})
        com_port(fresh_lab, 443, mode='refuse')
        com_port(fresh_lab, 8443, mode='refuse')
        wait_state(fresh_lab, 'ip500-single', 'ErrorMode')
        raised = wait_for('the lab to raise the alarm',
                          lambda: [item for item in fresh_lab.control('GET', '/lab/alarms?since=0') if item['kind'] == 'error_mode'], 10)
        entry = raised[0]
        assert entry['sent'] is False and entry['target'] is None
        assert len(receiver.drain()) == 1
    finally:
        receiver.close()
