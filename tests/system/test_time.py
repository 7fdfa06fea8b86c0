# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The time module through ansible-playbook against the lab, per state.

The time server names below are only strings stored by the emulator: nothing
resolves or contacts them (the tests run in a loopback-only namespace)."""

from __future__ import annotations

import json

import pytest

from conftest import SCN_APP_SERVER, SE_PRIMARY, SINGLE_APP_SERVER, connection, device_semantics, rerun_writes_nothing

EMPTY = {'source': 'None', 'server': '', 'time_zone': '', 'local_offset_minutes': 0}


def _time(lab, host=SINGLE_APP_SERVER, register='time', **options):
    return {'name': 'time', 'ipoffice.subscription.time': dict(connection(lab, host), **options),
            'register': register, 'ignore_errors': True}


def _writes(lab, start):
    return [r for r in lab.requests(start) if r['write']]


def _stored(lab, name='ip500-single'):
    return lab.system(name)['config']['System']['TimeSettings']


def _config_without_time(state):
    config = json.loads(json.dumps(state['config']))
    config['System'].pop('TimeSettings')
    return config


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_merged_sets_time_then_changes_nothing_and_loses_nothing(fresh_lab, run_playbook, semantics, monkeypatch, tmp_path):
    device_semantics(fresh_lab, monkeypatch, tmp_path, semantics)
    before = fresh_lab.system('ip500-single')
    start = fresh_lab.last_seq()
    run = run_playbook([_time(fresh_lab, source='SNTP', server='Time.Example.TEST', time_zone='Europe/London',
                              local_offset_minutes=60, register='first'),
                        _time(fresh_lab, source='SNTP', server='time.example.test', time_zone='Europe/London',
                              local_offset_minutes=60, register='second')],
                       capture=['first', 'second'], extra_args=['--diff'])
    first, second = run.results['first'], run.results['second']
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] and first['reboot_required'] is False
    assert first['before'] == EMPTY
    assert first['after'] == {'source': 'SNTP', 'server': 'Time.Example.TEST', 'time_zone': 'Europe/London',
                              'local_offset_minutes': 60}
    assert first['diff'] == {'before': first['before'], 'after': first['after']}
    assert not any('reboot' in w for w in first.get('warnings', []))
    # Host names compare without regard to case: the second run is a no-op.
    assert second['changed'] is False and second['diff']['before'] == second['diff']['after']
    assert len(_writes(fresh_lab, start)) == 1  # the second run wrote nothing
    after = fresh_lab.system('ip500-single')
    assert after['reboot_pending'] is False
    assert after['config']['System']['TimeSettings'] == {
        'TimeSettingConfigSource': 'SNTP', 'TimeServerAddress': 'Time.Example.TEST', 'TimeZone': 'Europe/London',
        'LocalTimeOffset': 60}
    # Nothing but TimeSettings changed, whether the device merges or replaces.
    assert _config_without_time(after) == _config_without_time(before)


def test_defaults_apply_only_when_the_node_has_none(fresh_lab, run_playbook):
    run = run_playbook([_time(fresh_lab, time_zone='Europe/Berlin', register='empty')], capture=['empty'])
    empty = run.results['empty']
    assert not empty.get('failed'), empty.get('msg')
    # The emulator's fresh node holds source 'None' and no server: both defaults apply.
    assert empty['before']['source'] == 'None' and empty['before']['server'] == ''
    assert empty['after'] == {'source': 'SNTP', 'server': 'time.google.com', 'time_zone': 'Europe/Berlin',
                              'local_offset_minutes': 0}
    rerun_writes_nothing(fresh_lab, run_playbook, [_time(fresh_lab, register='again')], ['again'])
    run = run_playbook([_time(fresh_lab, source='Voicemail', server='127.0.123.1', register='own')], capture=['own'])
    assert run.results['own']['changed'] is True
    kept = rerun_writes_nothing(fresh_lab, run_playbook, [_time(fresh_lab, register='kept')], ['kept'])['kept']
    assert kept['after']['source'] == 'Voicemail' and kept['after']['server'] == '127.0.123.1'
    assert _stored(fresh_lab)['TimeServerAddress'] == '127.0.123.1'


def test_check_mode_writes_nothing_and_predicts(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([_time(fresh_lab, time_zone='America/New_York')], capture=['time'],
                       extra_args=['--check', '--diff'])
    result = run.results['time']
    assert result['changed']
    assert result['after'] == {'source': 'SNTP', 'server': 'time.google.com', 'time_zone': 'America/New_York',
                               'local_offset_minutes': 0}
    assert result['diff']['before'] == EMPTY
    assert _writes(fresh_lab, start) == []
    assert _stored(fresh_lab) == {'TimeSettingConfigSource': 'None', 'TimeServerAddress': '', 'TimeZone': '',
                                  'LocalTimeOffset': 0}


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_replaced_sets_exactly_what_is_given(fresh_lab, run_playbook, semantics, monkeypatch, tmp_path):
    device_semantics(fresh_lab, monkeypatch, tmp_path, semantics)
    before = fresh_lab.system('ip500-single')
    run = run_playbook([_time(fresh_lab, source='Voicemail', server='127.0.123.1', time_zone='Asia/Tokyo',
                              local_offset_minutes=540, register='setup'),
                        _time(fresh_lab, time_zone='Europe/Paris', state='replaced', register='replaced')],
                       capture=['setup', 'replaced'])
    assert run.results['replaced']['after'] == {'source': 'SNTP', 'server': 'time.google.com',
                                                'time_zone': 'Europe/Paris', 'local_offset_minutes': 0}
    rerun_writes_nothing(fresh_lab, run_playbook, [_time(fresh_lab, time_zone='Europe/Paris', state='replaced', register='again')],
                         ['again'])
    assert _config_without_time(fresh_lab.system('ip500-single')) == _config_without_time(before)


def test_server_edition_acts_on_the_primary_or_the_named_node(fresh_lab, run_playbook):
    run = run_playbook([_time(fresh_lab, SE_PRIMARY, time_zone='Europe/London', register='primary'),
                        _time(fresh_lab, SE_PRIMARY, time_zone='Europe/Dublin', node_address='127.0.30.2',
                              register='secondary')],
                       capture=['primary', 'secondary'])
    assert run.results['primary']['node_address'] == SE_PRIMARY
    assert run.results['secondary']['node_address'] == '127.0.30.2'
    assert _stored(fresh_lab, 'se-primary')['TimeZone'] == 'Europe/London'
    assert _stored(fresh_lab, 'se-secondary')['TimeZone'] == 'Europe/Dublin'
    assert _stored(fresh_lab, 'se-expansion')['TimeZone'] == ''


def test_several_ip500_systems_need_node_address(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    result = run_playbook([_time(fresh_lab, SCN_APP_SERVER, time_zone='Europe/London')], capture=['time']).results['time']
    assert result['failed'] and 'give node_address' in result['msg'] and '127.0.21.2' in result['msg']
    assert _writes(fresh_lab, start) == []


def test_gathered_rendered_parsed(fresh_lab, run_playbook):
    saved = json.dumps({'response': {'@status': '1', 'data': {'ws_object': {'System': {
        'TimeSettings': {'TimeSettingConfigSource': 'SNTP', 'TimeServerAddress': 'time.google.com',
                         'TimeZone': 'Europe/London', 'LocalTimeOffset': '0'}}}}}})
    start = fresh_lab.last_seq()
    run = run_playbook([
        _time(fresh_lab, state='gathered', register='gathered'),
        {'name': 'render', 'ipoffice.subscription.time': {'time_zone': 'Europe/London', 'state': 'rendered'},
         'register': 'rendered'},
        {'name': 'render offset', 'ipoffice.subscription.time': {
            'source': 'Voicemail', 'server': '127.0.123.1', 'local_offset_minutes': -300, 'state': 'rendered'},
         'register': 'rendered_offset'},
        {'name': 'parse', 'ipoffice.subscription.time': {'state': 'parsed', 'running_config': saved},
         'register': 'parsed'},
    ], capture=['gathered', 'rendered', 'rendered_offset', 'parsed'])
    assert run.results['gathered']['gathered'] == EMPTY
    assert run.results['gathered']['node_address'] == '127.0.11.1'
    # Without a device to read, the defaults are part of the body (the node is taken to hold nothing).
    assert run.results['rendered']['rendered'] == {'data': {'ws_object': {'System': {'TimeSettings': {
        'TimeSettingConfigSource': 'SNTP', 'TimeServerAddress': 'time.google.com', 'TimeZone': 'Europe/London'}}}}}
    assert run.results['rendered_offset']['rendered'] == {'data': {'ws_object': {'System': {'TimeSettings': {
        'TimeSettingConfigSource': 'Voicemail', 'TimeServerAddress': '127.0.123.1', 'LocalTimeOffset': -300}}}}}
    assert run.results['parsed']['parsed'] == {'source': 'SNTP', 'server': 'time.google.com',
                                               'time_zone': 'Europe/London', 'local_offset_minutes': 0}
    assert _writes(fresh_lab, start) == []
    # rendered and parsed never connect: only the gathered task logged in.
    assert [r['method'] for r in fresh_lab.requests(start) if r['resource'] == 'authenticate'] == ['GET', 'DELETE']


@pytest.mark.parametrize('options, fragment', [
    ({'time_zone': 'Mars/Base'}, "time_zone must be an IANA time zone name such as Europe/London: got 'Mars/Base'"),
    ({'time_zone': 'europe/london'}, "time_zone must be an IANA time zone name such as Europe/London: got 'europe/london'"),
    ({'time_zone': 'GMT+1'}, "time_zone must be an IANA time zone name"),
    ({'server': 'https://time.google.com'}, "server must be a host name or an IPv4 address, not a URL or a path: "
                                            "got 'https://time.google.com'"),
    ({'server': 'time.google.com/ntp'}, "server must be a host name or an IPv4 address, not a URL or a path: "
                                        "got 'time.google.com/ntp'"),
    ({'server': 'time.google.com:123'}, "server must be a host name or an IPv4 address, without a port"),
    ({'server': '300.1.1.1'}, "server must be a host name or an IPv4 address: got '300.1.1.1'"),
    ({'local_offset_minutes': 841}, "local_offset_minutes must be -720 to 840 minutes from UTC: got 841"),
    ({'local_offset_minutes': -721}, "local_offset_minutes must be -720 to 840 minutes from UTC: got -721"),
    ({'source': 'NTP'}, "value of source must be one of"),
    ({'state': 'parsed'}, 'running_config'),
])
def test_bad_input_fails_before_any_request(fresh_lab, run_playbook, options, fragment):
    start = fresh_lab.last_seq()
    result = run_playbook([_time(fresh_lab, **options)], capture=['time']).results['time']
    assert result['failed'] and fragment in result['msg'], result['msg']
    assert fresh_lab.requests(start) == []
