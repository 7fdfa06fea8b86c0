# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The syslog_alarms event source's parser: alarms in the lab's layout become events, anything else
is dropped with its reason; and its documentation matches its options."""

from __future__ import annotations

import asyncio
import importlib.util
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
PLUGIN = os.path.join(ROOT, 'extensions', 'eda', 'plugins', 'event_source', 'syslog_alarms.py')


def _load(path):
    # As ansible-rulebook loads it: a file on its own, not a module of the collection (runpy.run_path does not work
    # here, because ansible-test's collection loader claims every path under ansible_collections).
    spec = importlib.util.spec_from_file_location('ipoffice_syslog_alarms_under_test', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


SOURCE = _load(PLUGIN)
Dropped = SOURCE['Dropped']
alarm_event = SOURCE['alarm_event']

ALARM = ('<132>1 2026-12-09T09:10:47Z scn-2 IPOffice - subscription [ipoAlarm@32473 kind="error_mode" system="scn-2" '
         'address="192.0.2.32" reason="41" day="3" daysLeft="28" graceDays="30" since="2026-12-07T09:10:47Z" '
         'reasonText="network disconnection"] \ufeffSubscription server unreachable: error mode day 3 of 30').encode('utf-8')


def test_an_alarm_becomes_an_event_with_system_reason_day_and_the_host_to_limit_to():
    event = alarm_event(ALARM, '192.0.2.32', 'udp', {'scn-2': 'scn'})
    payload = event['payload']
    assert event['meta'] == {'hosts': 'scn'}
    assert (payload['system'], payload['address'], payload['kind'], payload['reason'], payload['reason_text']) == (
        'scn-2', '192.0.2.32', 'error_mode', 41, 'network disconnection')
    assert (payload['grace_day'], payload['days_left'], payload['grace_days'], payload['error_mode_since']) == (3, 28, 30, '2026-12-07T09:10:47Z')
    assert payload['raised'] == '2026-12-09T09:10:47Z' and payload['severity'] == 'warning'
    assert payload['text'] == 'Subscription server unreachable: error mode day 3 of 30'    # without the BOM
    assert payload['raw'] == ALARM.decode('utf-8') and payload['transport'] == 'udp'
    # Without a mapping the host is the system's name; the address maps too.
    assert alarm_event(ALARM, '192.0.2.32', 'tcp')['meta'] == {'hosts': 'scn-2'}
    assert alarm_event(ALARM, '192.0.2.32', 'tcp', {'192.0.2.32': 'appserver'})['meta'] == {'hosts': 'appserver'}


def test_escapes_in_parameter_values_and_a_nil_structured_data_element():
    escaped = ALARM.replace(b'reasonText="network disconnection"', b'reasonText="a \\"quoted\\" \\] word"')
    assert alarm_event(escaped, 'x', 'udp')['payload']['reason_text'] == 'a "quoted" ] word'
    entitlement = (b'<132>1 2026-12-09T09:10:47Z doc-1 IPOffice - subscription [ipoAlarm@32473 kind="entitlement_expiring" '
                   b'system="doc-1" address="192.0.2.41" key="Subscription Power User" expires="2026-12-19" daysLeft="10"] expiring')
    payload = alarm_event(entitlement, 'x', 'udp')['payload']
    assert (payload['kind'], payload['key'], payload['expires'], payload['days_left'], payload['reason']) == (
        'entitlement_expiring', 'Subscription Power User', '2026-12-19', 10, None)


@pytest.mark.parametrize('data, reason', [
    (b'', 'not_syslog'),
    (b'hello', 'not_syslog'),
    (b'<34>Oct 11 22:14:15 mymachine su: su root failed', 'not_syslog'),
    (ALARM.replace(b'<132>', b'<200>'), 'not_syslog'),
    (ALARM.replace(b'] \xef\xbb\xbf', b']\xef\xbb\xbf'), 'not_syslog'),
    (b'\xff\xfe\x00', 'not_utf8'),
    (b'<13>1 - - - - - - a message without structured data', 'not_an_alarm'),
    (b'<13>1 - host app - - [other@32473 kind="error_mode"] x', 'not_an_alarm'),
    (ALARM.replace(b'kind="error_mode"', b'kind="reboot"'), 'not_an_alarm'),
    (ALARM.replace(b'day="3"', b'day="three"'), 'not_an_alarm'),
    (ALARM[:30], 'truncated'),
    (ALARM[:ALARM.index(b'address=') + 4], 'truncated'),
    (ALARM[:ALARM.index(b'192.0.2.32') + 4], 'truncated'),
    (ALARM[:ALARM.index(b'] ')], 'truncated'),
])
def test_anything_else_is_dropped_with_its_reason(data, reason):
    with pytest.raises(Dropped) as caught:
        alarm_event(data, '192.0.2.9', 'udp')
    assert caught.value.reason == reason


def _frames(data, max_bytes=100):
    async def collect():
        reader = asyncio.StreamReader(limit=max_bytes + 2)
        reader.feed_data(data)
        reader.feed_eof()
        return [item async for item in SOURCE['_read_frames'](reader, max_bytes)]
    return asyncio.run(collect())


def test_tcp_frames_by_octet_count_or_line_and_the_ones_cut_or_too_long():
    assert _frames(b'5 hello3 abc') == [(b'hello', None), (b'abc', None)]
    assert _frames(b'line one\nline two\n\r\n') == [(b'line one\n', None), (b'line two\n', None)]
    assert _frames(b'last without newline') == [(b'last without newline', None)]
    assert _frames(b'50 short') == [(None, ('truncated', 'the connection closed after 5 of 50 bytes'))]
    assert _frames(b'500 ' + b'x' * 500)[0][1][0] == 'oversized'
    assert _frames(b'y' * 300 + b'\n')[0][1][0] == 'oversized'
    assert _frames(b'12x')[0][1][0] == 'not_syslog'


def test_bad_options_are_refused_before_listening():
    settings = SOURCE['_settings']
    assert settings({})['port'] == 1514 and settings({})['protocols'] == ['udp', 'tcp']
    for bad in ({'protocols': ['icmp']}, {'port': 'x'}, {'port': 70000}, {'hosts': ['a']}, {'max_message_bytes': 100}):
        with pytest.raises(ValueError):
            settings(bad)


def test_the_documentation_names_every_option_the_source_reads():
    with open(os.path.join(os.path.dirname(PLUGIN), 'syslog_alarms.yml')) as handle:
        doc = yaml.safe_load(handle)
    options = set(doc['DOCUMENTATION']['options'])
    with open(PLUGIN) as handle:
        text = handle.read()
    read = set(name for name in ('host', 'port', 'tcp_port', 'protocols', 'hosts', 'max_message_bytes', 'stats_file')
               if "args.get('%s'" % name in text)
    assert read == options
    assert yaml.safe_load(doc['EXAMPLES'])[0]['sources'][0]['ipoffice.subscription.syslog_alarms']['port'] == 1514
