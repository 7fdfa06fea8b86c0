# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ip_route module through ansible-playbook against the lab, per state."""

from __future__ import annotations

import json

import pytest

from conftest import API_PASSWORD, SE_PRIMARY, SINGLE_APP_SERVER, connection, device_semantics, rerun_writes_nothing

DEFAULT = {'gateway': '127.0.11.254', 'destination': 'LAN1'}
OTHER_ROUTE = {'ip_address': '127.0.99.0', 'ip_mask': '255.255.255.0'}


def _route(lab, config, register='route', host=SINGLE_APP_SERVER, **options):
    return {'name': 'route', 'ipoffice.subscription.ip_route': dict(connection(lab, host), config=config, **options),
            'register': register, 'ignore_errors': True}


def _writes(lab, start):
    return [r for r in lab.requests(start) if r['write']]


def _stored_routes(lab, name='ip500-single'):
    return lab.system(name)['config']['IPRoute']


def _stored_without_routes(lab, name='ip500-single'):
    config = json.loads(json.dumps(lab.system(name)['config']))
    config.pop('IPRoute')
    return config


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_default_route_is_one_line_and_idempotent_and_touches_no_other_route(fresh_lab, run_playbook, semantics, monkeypatch, tmp_path):
    device_semantics(fresh_lab, monkeypatch, tmp_path, semantics, entities=('IPRoute', 'System'))
    routes_before = _stored_routes(fresh_lab)
    others_before = _stored_without_routes(fresh_lab)
    start = fresh_lab.last_seq()
    run = run_playbook([_route(fresh_lab, [DEFAULT], register='first'), _route(fresh_lab, [DEFAULT], register='second')],
                       capture=['first', 'second'], extra_args=['--diff'])
    first, second = run.results['first'], run.results['second']
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] and [op['method'] for op in first['operations']] == ['POST']
    assert first['diff']['before']['config'] == [] and first['diff']['after']['config'][0]['gateway'] == '127.0.11.254'
    # --diff shows the planned route to a person (Ansible's diff display takes a mapping, not a bare list).
    assert "Callback dispatch 'v2_on_file_diff' failed" not in run.output
    assert '+    gateway: 127.0.11.254' in run.output or '"gateway": "127.0.11.254"' in run.output
    assert second['changed'] is False and second['operations'] == []
    assert len(_writes(fresh_lab, start)) == 1
    stored = _stored_routes(fresh_lab)
    assert [r for r in stored if r['IPAddress'] == '127.0.99.0'] == [r for r in routes_before if r['IPAddress'] == '127.0.99.0']
    assert _stored_without_routes(fresh_lab) == others_before
    new = [r for r in stored if r['IPAddress'] == '0.0.0.0']
    assert len(new) == 1 and new[0]['GatewayIPAddress'] == '127.0.11.254' and new[0]['Destination'] == 'LAN1'


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_blank_default_route_is_the_same_route(fresh_lab, run_playbook, semantics, monkeypatch, tmp_path):
    from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
    device_semantics(fresh_lab, monkeypatch, tmp_path, semantics, entities=('IPRoute',))
    with api.Client(SINGLE_APP_SERVER, 'apiadmin', API_PASSWORD, ca_path=fresh_lab.ca_path) as client:
        blank_default = {'IPAddress': '', 'IPMask': '', 'GatewayIPAddress': '127.0.11.254', 'Destination': 'LAN1', 'Metric': '0'}
        client.call('POST', 'iproutes', objects=[('IPRoute', blank_default)])
    start = fresh_lab.last_seq()
    run = run_playbook([_route(fresh_lab, [DEFAULT], register='same'),
                        _route(fresh_lab, [dict(DEFAULT, gateway='127.0.11.253')], register='moved')],
                       capture=['same', 'moved'])
    assert run.results['same']['changed'] is False
    moved = run.results['moved']
    assert not moved.get('failed'), moved.get('msg')
    assert [op['method'] for op in moved['operations']] == ['PUT'] and moved['operations'][0]['fields'] == ['GatewayIPAddress']
    blank = [r for r in _stored_routes(fresh_lab) if r['IPAddress'] in ('', '0.0.0.0')]
    assert len(blank) == 1 and blank[0]['GatewayIPAddress'] == '127.0.11.253'
    assert len(_writes(fresh_lab, start)) == 1


def test_gateway_outside_the_lan_fails_before_any_write(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    result = run_playbook([_route(fresh_lab, [{'gateway': '127.0.12.254', 'destination': 'LAN1'}])], capture=['route']).results['route']
    assert result['failed'] and 'config[0].gateway 127.0.12.254 is not in the subnet of LAN1 (127.0.11.1/255.255.255.0)' in result['msg']
    assert _writes(fresh_lab, start) == []
    ok = run_playbook([_route(fresh_lab, [{'gateway': '127.0.12.254', 'destination': 'LAN2'}])], capture=['route']).results['route']
    assert not ok.get('failed'), ok.get('msg')


def test_check_mode_writes_nothing_and_shows_the_plan(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    result = run_playbook([_route(fresh_lab, [DEFAULT])], capture=['route'], extra_args=['--check', '--diff']).results['route']
    assert result['changed'] and result['operations'][0]['method'] == 'POST'
    assert any(r['ip_address'] == '0.0.0.0' for r in result['after'])
    assert _writes(fresh_lab, start) == []
    assert not [r for r in _stored_routes(fresh_lab) if r['IPAddress'] == '0.0.0.0']


def test_replaced_resets_the_metric_and_overridden_removes_the_rest(fresh_lab, run_playbook):
    run = run_playbook([
        _route(fresh_lab, [dict(DEFAULT, metric=5)], register='merged'),
        _route(fresh_lab, [DEFAULT], state='replaced', register='replaced'),
        _route(fresh_lab, [DEFAULT], state='overridden', register='overridden'),
    ], capture=['merged', 'replaced', 'overridden'])
    assert run.results['replaced']['operations'] == [{'method': 'PUT', 'item': ['0.0.0.0', '0.0.0.0'], 'fields': ['Metric']}]
    over = run.results['overridden']
    assert [op['method'] for op in over['operations']] == ['DELETE'] and over['operations'][0]['item'][0] == '127.0.99.0'
    rerun_writes_nothing(fresh_lab, run_playbook, [_route(fresh_lab, [DEFAULT], state='overridden', register='again')], ['again'])
    assert [r['IPAddress'] for r in _stored_routes(fresh_lab)] == ['0.0.0.0']


def test_deleted_removes_only_the_named_route(fresh_lab, run_playbook):
    run = run_playbook([_route(fresh_lab, [DEFAULT], register='add'),
                        _route(fresh_lab, [{'ip_mask': '0'}], state='deleted', register='delete')],
                       capture=['add', 'delete'])
    assert [op['method'] for op in run.results['delete']['operations']] == ['DELETE']
    rerun_writes_nothing(fresh_lab, run_playbook, [_route(fresh_lab, [{'ip_mask': '0'}], state='deleted', register='again'),
                                                   _route(fresh_lab, [], state='deleted', register='empty')], ['again', 'empty'])
    assert [r['IPAddress'] for r in _stored_routes(fresh_lab)] == ['127.0.99.0']


def test_secondary_node_through_the_primary(fresh_lab, run_playbook):
    result = run_playbook([_route(fresh_lab, [{'gateway': '127.0.30.254', 'destination': 'LAN1'}], host=SE_PRIMARY,
                                  node_address='127.0.30.2')], capture=['route']).results['route']
    assert not result.get('failed'), result.get('msg')
    assert any(r['IPAddress'] == '0.0.0.0' for r in _stored_routes(fresh_lab, 'se-secondary'))
    assert not any(r['IPAddress'] == '0.0.0.0' for r in _stored_routes(fresh_lab, 'se-primary'))


def test_gathered_rendered_parsed(fresh_lab, run_playbook):
    saved = json.dumps({'response': {'@status': '1', 'data': {'ws_object': {'IPRoute': {
        '@GUID': 'A' * 32, 'IPAddress': '', 'IPMask': '', 'GatewayIPAddress': '192.0.2.1', 'Destination': 'LAN2', 'Metric': '3'}}}}})
    run = run_playbook([
        _route(fresh_lab, [], state='gathered', register='gathered'),
        {'name': 'render', 'ipoffice.subscription.ip_route': {'config': [DEFAULT], 'state': 'rendered'}, 'register': 'rendered'},
        {'name': 'parse', 'ipoffice.subscription.ip_route': {'state': 'parsed', 'running_config': saved}, 'register': 'parsed'},
    ], capture=['gathered', 'rendered', 'parsed'])
    assert [r['ip_address'] for r in run.results['gathered']['gathered']] == ['127.0.99.0']
    assert run.results['rendered']['rendered'] == {'data': {'ws_object': {'IPRoute': {
        'IPAddress': '0.0.0.0', 'IPMask': '0.0.0.0', 'GatewayIPAddress': '127.0.11.254', 'Destination': 'LAN1', 'Metric': '0'}}}}
    expected = {'guid': 'A' * 32, 'ip_address': '', 'ip_mask': '', 'gateway': '192.0.2.1', 'destination': 'LAN2', 'metric': 3}
    assert run.results['parsed']['parsed'] == [expected]


@pytest.mark.parametrize('item, fragment', [
    ({'ip_address': '10.1', 'ip_mask': '255.0.0.0', 'gateway': '127.0.11.254', 'destination': 'LAN1'},
     "config[0].ip_address must be an IPv4 address in dotted-quad form: got '10.1'"),
    ({'ip_address': '10.0.0.0', 'ip_mask': '255.0.255.0', 'gateway': '127.0.11.254', 'destination': 'LAN1'},
     "config[0].ip_mask must be a contiguous IPv4 mask such as 255.255.255.0 or a prefix length such as 24: got '255.0.255.0'"),
    ({'ip_mask': '33', 'gateway': '127.0.11.254', 'destination': 'LAN1'}, "config[0].ip_mask must be a contiguous IPv4 mask"),
    ({'gateway': '127.0.11.254', 'destination': 'LAN3'}, 'LAN3'),
    ({'gateway': '127.0.11.999', 'destination': 'LAN1'}, "config[0].gateway must be an IPv4 address in dotted-quad form: got '127.0.11.999'"),
    ({'gateway': '127.0.11.254', 'destination': 'LAN1', 'metric': 300}, 'config[0].metric must be 0 to 255: got 300'),
    ({'destination': 'LAN1'}, 'config[0].gateway is required with state=merged'),
])
def test_bad_input_fails_before_any_request(fresh_lab, run_playbook, item, fragment):
    start = fresh_lab.last_seq()
    result = run_playbook([_route(fresh_lab, [item])], capture=['route']).results['route']
    assert result['failed'] and fragment in result['msg'], result['msg']
    assert fresh_lab.requests(start) == []
