# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alarms through Event-Driven Ansible: ansible-rulebook runs the collection's rulebook
(extensions/eda/rulebooks/monitor_alarms.yml) with its event source (syslog_alarms) against the
lab. A system's alarm reaches the source as it happens and the rule runs playbooks/monitor.yml
for that system; garbage is counted and fires nothing. Timing is proven by order and counts:
the monitor runs are sequential, one per alarm the rules let through."""

from __future__ import annotations

import datetime
import socket

import figures
from alarmlab import Rulebook, doc_link_up, wait_for
from linklab import advance_days, com_port, configure, wait_state

SOURCE = ('127.0.51.6', 1514)
# An alarm in the lab's layout (docs/lab.md), for cutting into pieces.
SAMPLE = ('<132>1 2026-12-09T09:10:47Z doc-1 IPOffice - subscription [ipoAlarm@32473 kind="error_mode" system="doc-1" '
          'address="127.0.41.1" reason="41" day="3" daysLeft="28" graceDays="30" since="2026-12-07T09:10:47Z" '
          'reasonText="network disconnection"] \ufeffSubscription server unreachable: error mode day 3 of 30').encode('utf-8')


def _events(rulebook, **match):
    return [event for event in rulebook.stats().get('recent_events', []) if all(event.get(key) == value for key, value in match.items())]


def _stamp(text):
    return datetime.datetime.strptime(text.rstrip('Z')[:26], '%Y-%m-%dT%H:%M:%S.%f' if '.' in text else '%Y-%m-%dT%H:%M:%S')


def test_a_documented_systems_alarms_drive_monitor_runs_error_mode_healthy_then_shutdown(fresh_lab, tmp_path):
    doc_link_up(fresh_lab)
    # The source listens where the topology sends every system's alarms; doc-1 is the inventory host "doc".
    rulebook = Rulebook(fresh_lab, tmp_path, ['doc'], host_map={'doc-1': 'doc'})
    try:
        com_port(fresh_lab, 443, mode='refuse')
        com_port(fresh_lab, 8443, mode='refuse')
        # Within seconds the source delivers the first alarm, with the system and the IPO-MIB reason.
        first = wait_for('the first alarm at the event source', lambda: _events(rulebook, kind='error_mode', system='doc-1'), 20)[0]
        assert (first['address'], first['reason'], first['reason_text'], first['grace_day'], first['days_left'], first['transport']) == (
            '127.0.41.1', 41, 'network disconnection', 1, 30, 'udp')
        latency = (_stamp(first['received']) - _stamp(first['raised'])).total_seconds()
        # The rule runs the monitor for doc only; it reports error mode, the days measured by the alarm.
        line = rulebook.wait_history(1)[0]
        assert (line['inventory_host'], line['system'], line['state'], line['days_left']) == ('doc', 'doc-1', 'error_mode', 30)
        assert line['alarm']['kind'] == 'error_mode' and 'day-1 alarm' in line['days_measured_by']
        assert line['error_mode_since'] == first['error_mode_since']

        # Reconnect: the clear arrives, and the run it starts reports doc-1 healthy (its network checks pass too).
        com_port(fresh_lab, 443, mode='accept')
        com_port(fresh_lab, 8443, mode='accept')
        wait_for('the clear at the event source', lambda: _events(rulebook, kind='cleared', system='doc-1'), 30)
        line = rulebook.wait_history(2)[1]
        assert (line['state'], line['verdict'], line['alarm']['kind']) == ('connected', 'ready', 'cleared')

        # Down again, then past day 30: one alarm a day reaches the source, the shutdown last.
        com_port(fresh_lab, 443, mode='refuse')
        com_port(fresh_lab, 8443, mode='refuse')
        again = wait_for('the new error mode', lambda: [event for event in _events(rulebook, kind='error_mode') if event['error_mode_since']
                                                        != first['error_mode_since']], 30)[0]
        advance_days(fresh_lab, 31)
        shutdown = wait_for('the shutdown alarm', lambda: _events(rulebook, kind='expired', system='doc-1'), 20)[0]
        assert (shutdown['grace_day'], shutdown['days_left'], shutdown['error_mode_since']) == (31, 0, again['error_mode_since'])
        lines = wait_for('the run for the shutdown', lambda: [line for line in rulebook.history()
                                                              if (line.get('alarm') or {}).get('kind') == 'expired'] and rulebook.history(), 300)
        stats = rulebook.stats()
        # 33 alarms delivered (day 1, the clear, days 1 to 30 of the second error mode, the shutdown), and 4 runs:
        # the rule lets one alarm per error mode, kind and day through, so days 2 to 30 of one clock jump start nothing.
        assert (stats['events'], stats['dropped']) == (33, 0)
        assert [(line['alarm'] or {}).get('kind') for line in lines] == ['error_mode', 'cleared', 'error_mode', 'expired']
        assert lines[-1]['state'] == 'expired' and lines[-1]['days_left'] == 0
        figures.record('alarms', test='documented system', alarm_to_event_seconds=round(latency, 3), events=stats['events'],
                       monitor_runs=len(lines))
    finally:
        rulebook.stop()


def _send_udp(payloads):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for payload in payloads:
            sock.sendto(payload, SOURCE)
    finally:
        sock.close()


def _send_tcp(data):
    with socket.create_connection(SOURCE, timeout=5) as sock:
        sock.sendall(data)


def test_garbage_oversized_and_truncated_messages_are_counted_and_never_fire_the_rule(fresh_lab, tmp_path):
    # A syslog server set through the lab's control API; ip500-single's inventory host has its name, so no mapping.
    fresh_lab.control('POST', '/lab/systems/ip500-single/alarms', {'syslog': '%s:%d' % SOURCE})
    rulebook = Rulebook(fresh_lab, tmp_path, ['ip500-single'], listen=SOURCE)
    try:
        garbage = {
            'not_utf8': [bytes(range(256))],
            'not_syslog': [b'', b'hello world', b'<34>Oct 11 22:14:15 mymachine su: su root failed for lonvick on /dev/pts/8',
                           SAMPLE.replace(b'<132>1 ', b'<999>1 ')],
            'not_an_alarm': [b'<165>1 2026-12-01T00:00:00Z host app - ID47 [exampleSDID@32473 iut="3"] an application event',
                             SAMPLE.replace(b'kind="error_mode"', b'kind="reboot"')],
            'oversized': [SAMPLE + b' ' + b'x' * 9000, b'<132>1 ' + b'y' * 60000],
            # Cut inside the header, inside the structured data, inside a quoted value.
            'truncated': [SAMPLE[:40], SAMPLE[:100], SAMPLE[:SAMPLE.index(b'daysLeft="2') + 11]],
        }
        _send_udp([payload for payloads in garbage.values() for payload in payloads])
        _send_tcp(b'500 ' + SAMPLE[:20])                 # an octet-counted frame the sender never finishes
        _send_tcp(b'99999 ' + SAMPLE)                    # a frame longer than any alarm
        _send_tcp(b'GET / HTTP/1.0\r\n\r\n')             # not syslog at all
        expected = dict((reason, len(payloads)) for reason, payloads in garbage.items())
        expected['truncated'] += 1
        expected['oversized'] += 1
        expected['not_syslog'] += 1    # the request line (the empty line after it is no message)
        total = sum(expected.values())
        stats = wait_for('%d messages dropped' % total, lambda: rulebook.stats().get('dropped') == total and rulebook.stats(), 20)
        assert dict((reason, count) for reason, count in stats['dropped_by_reason'].items() if count) == expected
        assert stats['events'] == 0 and rulebook.running()

        # The source still works: the next real alarm is delivered, over TCP too, and starts exactly one run.
        stranger = SAMPLE.replace(b'doc-1', b'not-in-the-inventory').replace(b'127.0.41.1', b'127.0.99.9')
        _send_tcp(b'%d %s' % (len(stranger), stranger))
        wait_for('the TCP alarm', lambda: _events(rulebook, system='not-in-the-inventory', transport='tcp'), 20)
        configure(fresh_lab, 'ip500-single')
        wait_state(fresh_lab, 'ip500-single', 'Connected')
        com_port(fresh_lab, 443, mode='refuse')
        com_port(fresh_lab, 8443, mode='refuse')
        wait_for('the alarm of ip500-single', lambda: _events(rulebook, kind='error_mode', system='ip500-single'), 20)
        # Runs are sequential: had the alarm from a system no inventory host is named after run the monitor anywhere,
        # its line would come first. It matched no host, so the first line is ip500-single's.
        line = rulebook.wait_history(1)[0]
        assert (line['inventory_host'], line['state'], line['alarm']['kind']) == ('ip500-single', 'error_mode', 'error_mode')
        final = rulebook.stats()
        assert final['dropped'] == total and final['events'] == 2 and len(rulebook.history()) == 1 and rulebook.running()
        figures.record('alarms', test='garbage', dropped=final['dropped'], events=final['events'], monitor_runs=len(rulebook.history()))
    finally:
        rulebook.stop()
