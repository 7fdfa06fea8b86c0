# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The dns module through ansible-playbook against the lab, per state."""

from __future__ import annotations

import json

import pytest

from conftest import SE_PRIMARY, SINGLE_APP_SERVER, connection, device_semantics, rerun_writes_nothing


def _dns(lab, host=SINGLE_APP_SERVER, register='dns', **options):
    return {'name': 'dns', 'ipoffice.subscription.dns': dict(connection(lab, host), **options),
            'register': register, 'ignore_errors': True}


def _writes(lab, start):
    return [r for r in lab.requests(start) if r['write']]


def _config_without_dns(state):
    config = json.loads(json.dumps(state['config']))
    config['System'].pop('DNS')
    return config


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_merged_sets_server_then_changes_nothing_and_loses_nothing(fresh_lab, run_playbook, semantics, monkeypatch, tmp_path):
    device_semantics(fresh_lab, monkeypatch, tmp_path, semantics)
    before = fresh_lab.system('ip500-single')
    start = fresh_lab.last_seq()
    run = run_playbook([_dns(fresh_lab, server='127.0.53.53', domain='Example.COM', register='first'),
                        _dns(fresh_lab, server='127.0.53.53', domain='example.com', register='second')],
                       capture=['first', 'second'], extra_args=['--diff'])
    first, second = run.results['first'], run.results['second']
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] and first['reboot_required']
    assert first['before']['server'] == '' and first['after']['server'] == '127.0.53.53'
    assert first['diff']['after']['domain'].lower() == 'example.com'
    assert any('needs a reboot' in w for w in first.get('warnings', []))
    assert second['changed'] is False and second['reboot_required'] is False
    assert len(_writes(fresh_lab, start)) == 1  # the second run wrote nothing
    after = fresh_lab.system('ip500-single')
    assert after['reboot_pending'] is True
    # Nothing but DNS changed, whether the device merges or replaces.
    assert _config_without_dns(after) == _config_without_dns(before)


def test_default_is_8888_only_when_the_customer_has_none(fresh_lab, run_playbook):
    run = run_playbook([_dns(fresh_lab, register='empty')], capture=['empty'])
    assert run.results['empty']['after']['server'] == '8.8.8.8'
    rerun_writes_nothing(fresh_lab, run_playbook, [_dns(fresh_lab, register='again')], ['again'])
    run = run_playbook([_dns(fresh_lab, server='127.0.53.53', register='own')], capture=['own'])
    assert run.results['own']['changed'] is True
    kept = rerun_writes_nothing(fresh_lab, run_playbook, [_dns(fresh_lab, register='kept')], ['kept'])['kept']
    assert kept['after']['server'] == '127.0.53.53'


def test_check_mode_writes_nothing_and_predicts(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([_dns(fresh_lab, server='127.0.53.53')], capture=['dns'], extra_args=['--check', '--diff'])
    result = run.results['dns']
    assert result['changed'] and result['after']['server'] == '127.0.53.53' and result['reboot_required']
    assert _writes(fresh_lab, start) == []
    assert fresh_lab.system('ip500-single')['config']['System']['DNS']['DNSServerIPAddress'] == ''


def test_replaced_clears_what_is_not_given(fresh_lab, run_playbook):
    run = run_playbook([_dns(fresh_lab, server='127.0.53.53', backup_server='127.0.53.54', domain='example.com', register='setup'),
                        _dns(fresh_lab, server='127.0.53.53', state='replaced', register='replaced')],
                       capture=['setup', 'replaced'])
    assert run.results['replaced']['after'] == {'server': '127.0.53.53', 'backup_server': '', 'domain': ''}


def test_reboot_policy_fail_changes_nothing(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    result = run_playbook([_dns(fresh_lab, server='127.0.53.53', reboot_policy='fail')], capture=['dns']).results['dns']
    assert result['failed'] and 'needs a reboot and reboot_policy is fail' in result['msg']
    assert _writes(fresh_lab, start) == []


def test_server_edition_acts_on_the_primary_or_the_named_node(fresh_lab, run_playbook):
    run = run_playbook([_dns(fresh_lab, SE_PRIMARY, server='127.0.53.53', register='primary'),
                        _dns(fresh_lab, SE_PRIMARY, server='127.0.53.54', node_address='127.0.30.2', register='secondary')],
                       capture=['primary', 'secondary'])
    assert run.results['primary']['node_address'] == SE_PRIMARY
    assert run.results['secondary']['node_address'] == '127.0.30.2'
    assert fresh_lab.system('se-secondary')['config']['System']['DNS']['DNSServerIPAddress'] == '127.0.53.54'
    assert fresh_lab.system('se-expansion')['config']['System']['DNS']['DNSServerIPAddress'] == ''


def test_several_ip500_systems_need_node_address(fresh_lab, run_playbook):
    result = run_playbook([_dns(fresh_lab, '127.0.20.1', server='127.0.53.53')], capture=['dns']).results['dns']
    assert result['failed'] and 'give node_address' in result['msg'] and '127.0.21.2' in result['msg']


def test_gathered_rendered_parsed(fresh_lab, run_playbook):
    saved = json.dumps({'response': {'@status': '1', 'data': {'ws_object': {'System': {
        'DNS': {'DNSServerIPAddress': '192.0.2.53', 'BackupDNSServerIPAddress': '', 'DNSDomain': 'example.com'}}}}}})
    start = fresh_lab.last_seq()
    run = run_playbook([
        _dns(fresh_lab, state='gathered', register='gathered'),
        {'name': 'render', 'ipoffice.subscription.dns': {'server': '192.0.2.53', 'state': 'rendered'}, 'register': 'rendered'},
        {'name': 'parse', 'ipoffice.subscription.dns': {'state': 'parsed', 'running_config': saved}, 'register': 'parsed'},
    ], capture=['gathered', 'rendered', 'parsed'])
    assert run.results['gathered']['gathered'] == {'server': '', 'backup_server': '', 'domain': ''}
    assert run.results['rendered']['rendered'] == {'data': {'ws_object': {'System': {'DNS': {'DNSServerIPAddress': '192.0.2.53'}}}}}
    assert run.results['parsed']['parsed'] == {'server': '192.0.2.53', 'backup_server': '', 'domain': 'example.com'}
    assert _writes(fresh_lab, start) == []
    # rendered and parsed never connect: only the gathered task logged in.
    assert [r['method'] for r in fresh_lab.requests(start) if r['resource'] == 'authenticate'] == ['GET', 'DELETE']


@pytest.mark.parametrize('options, fragment', [
    ({'server': '8.8.8'}, "server must be an IPv4 address in dotted-quad form: got '8.8.8'"),
    ({'server': 'dns.example.com'}, "server must be an IPv4 address"),
    ({'backup_server': '300.1.1.1'}, "backup_server must be an IPv4 address in dotted-quad form: got '300.1.1.1'"),
    ({'domain': 'https://example.com/'}, "domain must be a DNS domain such as example.com: got 'https://example.com/'"),
    ({'state': 'parsed'}, 'running_config'),
])
def test_bad_input_fails_before_any_request(fresh_lab, run_playbook, options, fragment):
    start = fresh_lab.last_seq()
    result = run_playbook([_dns(fresh_lab, **options)], capture=['dns']).results['dns']
    assert result['failed'] and fragment in result['msg'], result['msg']
    assert fresh_lab.requests(start) == []
