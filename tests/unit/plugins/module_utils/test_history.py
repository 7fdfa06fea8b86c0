# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

from ansible_collections.ipoffice.subscription.plugins.module_utils import history


def check(name, status='fail', measured=None, limit=None, **details):
    return {'check': name, 'status': status, 'measured': measured, 'limit': limit, 'details': details}


def report(system, state, since=None, ends=None, left=None, host='h1'):
    grace = check('grace.days_left', 'fail' if left is not None else 'not_measured', left, 30, grace_ends=ends)
    return {'system': system, 'inventory_host': host, 'node_address': '192.0.2.1', 'holds_subscription_link': True,
            'verdict': 'ready' if state == 'connected' else 'not_ready', 'link': {'state': state}, 'failed_checks': [],
            'checks': [check('link.state', evidence='licences', error_mode_since=since, grace_ends=ends), grace]}


def line(system, state, time, since=None, host='h1'):
    return {'time': time, 'inventory_host': host, 'system': system, 'state': state, 'error_mode_since': since}


def test_lines_that_are_not_entries_are_skipped_and_counted():
    good = json.dumps(line('a', 'connected', '2026-11-01T00:00:00Z'))
    entries, bad = history.parse_lines('\n'.join([good, '{"half": ', '[1, 2]', '', json.dumps({'time': 'x'}), good]))
    assert len(entries) == 2 and bad == 3


def test_an_entry_per_system_that_holds_a_link():
    doc = {'systems': [report('a', 'error_mode', '2026-11-24T10:00:00Z', '2026-12-24', 28),
                       {'system': 'se-secondary', 'holds_subscription_link': False}],
           'alarm': {'system': 'a', 'kind': 'error_mode', 'grace_day': 3, 'reason': 41, 'raised': '2026-11-26T10:00:00Z', 'text': 'x'}}
    (entry,) = history.entries(doc, '2026-11-26T12:00:00Z')
    assert entry['alarm'] == {'kind': 'error_mode', 'reason': 41, 'grace_day': 3, 'raised': '2026-11-26T10:00:00Z'}
    assert history.entries(dict(doc, alarm={'system': 'b', 'kind': 'cleared'}), 'x')[0]['alarm'] is None
    assert (entry['system'], entry['state'], entry['error_mode_since'], entry['grace_ends'], entry['days_left']) == (
        'a', 'error_mode', '2026-11-24T10:00:00Z', '2026-12-24', 28)
    assert entry['evidence'] == 'licences' and entry['time'] == '2026-11-26T12:00:00Z'


def test_an_episode_runs_back_to_the_last_healthy_run_and_keeps_the_newest_measured_start():
    lines = [line('a', 'connected', '2026-11-20T06:00:00Z'), line('a', 'error_mode', '2026-11-21T06:00:00Z'),
             line('a', 'connected', '2026-11-22T06:00:00Z'),
             line('a', 'error_mode', '2026-11-23T06:00:00Z'), line('a', 'error_mode', '2026-11-24T06:00:00Z', '2026-11-22T20:00:00Z'),
             line('a', 'error_mode', '2026-11-25T06:00:00Z'), line('a', 'connected', '2026-11-25T06:00:00Z', host='other')]
    expected = {'first_seen': '2026-11-23T06:00:00Z', 'last_healthy': '2026-11-22T06:00:00Z',
                'error_mode_since': '2026-11-22T20:00:00Z', 'measured_at': '2026-11-24T06:00:00Z'}
    assert history.episode(lines, 'h1', 'a') == expected
    assert history.episode(lines, 'other', 'a') is None and history.episode([], 'h1', 'a') is None


def test_the_timeline_lists_systems_in_error_mode_soonest_stop_first_measured_or_bounded():
    doc = {'systems': [report('late', 'error_mode', '2026-11-24T10:00:00Z', '2026-12-24', 28),
                       report('bounded', 'error_mode'), report('unknown', 'error_mode', host='h2'),
                       report('fine', 'connected')]}
    lines = [line('bounded', 'connected', '2026-11-01T06:00:00Z'), line('bounded', 'error_mode', '2026-11-02T06:00:00Z')]
    rows = history.timeline(doc, lines)
    assert [row['system'] for row in rows] == ['bounded', 'late', 'unknown']
    bounded, late, unknown = rows
    assert (bounded['began'], bounded['telephony_stops'], bounded['telephony_stops_by']) == (
        'between 2026-11-01 and 2026-11-02', None, '2026-12-02')
    assert (late['began'], late['telephony_stops'], late['days_left'], late['measured']) == ('2026-11-24', '2026-12-24', 28, True)
    assert unknown['began'] == 'unknown' and unknown['telephony_stops_by'] is None
    text = history.timeline_lines(rows)
    assert text[0].startswith('bounded: error mode since between 2026-11-01 and 2026-11-02; telephony stops on 2026-12-02 at the latest')
    assert text[1].startswith('late: error mode since 2026-11-24; telephony stops on 2026-12-24 (measured')
