# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The subscription module through ansible-playbook against the lab, per state
and per topology (Server Edition Primary only; every IP500 V2 of an SCN).

The server addresses below are only strings stored by the emulator: nothing
resolves or contacts them (the tests run in a loopback-only namespace)."""

from __future__ import annotations

import json

import pytest

from conftest import SCN_APP_SERVER, SE_PRIMARY, SINGLE_APP_SERVER, connection, device_semantics, rerun_writes_nothing

SERVER = 'admin.uk1.avaya-sub.com'
EMPTY = {'customer_id': '', 'server_address': ''}


def _sub(lab, host=SINGLE_APP_SERVER, register='sub', **options):
    return {'name': 'subscription', 'ipoffice.subscription.subscription': dict(connection(lab, host), **options),
            'register': register, 'ignore_errors': True}


def _writes(lab, start):
    return [r for r in lab.requests(start) if r['write']]


def _stored(lab, name='ip500-single'):
    """The two settings the module writes (the section also holds the read-only System ID and the Customer Name)."""
    return _written(lab.system(name)['config']['System']['Subscription'])


def _written(section):
    return dict((key, section[key]) for key in ('CustomerID', 'ServerAddress'))


def _config_without_subscription(state):
    config = json.loads(json.dumps(state['config']))
    config['System'].pop('Subscription')
    return config


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_merged_sets_details_then_changes_nothing_and_loses_nothing(fresh_lab, run_playbook, semantics, monkeypatch, tmp_path):
    device_semantics(fresh_lab, monkeypatch, tmp_path, semantics)
    before = fresh_lab.system('ip500-single')
    start = fresh_lab.last_seq()
    run = run_playbook([_sub(fresh_lab, customer_id='ACME-0042', server_address='Admin.UK1.avaya-sub.com',
                             register='first'),
                        _sub(fresh_lab, customer_id='ACME-0042', server_address=SERVER, register='second')],
                       capture=['first', 'second'], extra_args=['--diff'])
    first, second = run.results['first'], run.results['second']
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] and first['reboot_required'] is False
    assert first['before'] == EMPTY
    assert first['after'] == {'customer_id': 'ACME-0042', 'server_address': 'Admin.UK1.avaya-sub.com'}
    assert first['diff'] == {'before': EMPTY, 'after': first['after']}
    # Host names compare without regard to case: the second run is a no-op.
    assert second['changed'] is False and second['diff']['before'] == second['diff']['after']
    assert len(_writes(fresh_lab, start)) == 1  # the second run wrote nothing
    after = fresh_lab.system('ip500-single')
    assert _written(after['config']['System']['Subscription']) == {'CustomerID': 'ACME-0042', 'ServerAddress': 'Admin.UK1.avaya-sub.com'}
    # Nothing but Subscription changed, whether the device merges or replaces.
    assert _config_without_subscription(after) == _config_without_subscription(before)


def test_merged_keeps_what_is_not_given_and_replaced_clears_it(fresh_lab, run_playbook):
    run = run_playbook([_sub(fresh_lab, customer_id='ACME-0042', server_address=SERVER, register='setup'),
                        _sub(fresh_lab, customer_id='ACME-0043', register='merged'),
                        _sub(fresh_lab, customer_id='ACME-0043', state='replaced', register='replaced')],
                       capture=['setup', 'merged', 'replaced'])
    assert run.results['merged']['after'] == {'customer_id': 'ACME-0043', 'server_address': SERVER}
    assert run.results['replaced']['after'] == {'customer_id': 'ACME-0043', 'server_address': ''}
    rerun_writes_nothing(fresh_lab, run_playbook, [_sub(fresh_lab, customer_id='ACME-0043', state='replaced', register='again')],
                         ['again'])
    assert _stored(fresh_lab) == {'CustomerID': 'ACME-0043', 'ServerAddress': ''}


def test_check_mode_writes_nothing_and_predicts(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([_sub(fresh_lab, customer_id='ACME-0042', server_address=SERVER)], capture=['sub'],
                       extra_args=['--check', '--diff'])
    result = run.results['sub']
    assert result['changed'] and result['after'] == {'customer_id': 'ACME-0042', 'server_address': SERVER}
    assert result['diff'] == {'before': EMPTY, 'after': result['after']}
    assert _writes(fresh_lab, start) == []
    assert _stored(fresh_lab) == {'CustomerID': '', 'ServerAddress': ''}


def test_server_edition_primary_only(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([
        _sub(fresh_lab, SE_PRIMARY, customer_id='ACME-0042', server_address=SERVER, register='primary'),
        _sub(fresh_lab, SE_PRIMARY, customer_id='ACME-0042', server_address=SERVER, node_address='127.0.30.2',
             register='secondary'),
        _sub(fresh_lab, SE_PRIMARY, customer_id='ACME-0042', node_address='127.0.30.3', register='expansion'),
        _sub(fresh_lab, SE_PRIMARY, customer_id='ACME-0042', node_address='127.0.30.2', register='secondary_check'),
        _sub(fresh_lab, SE_PRIMARY, state='gathered', node_address='127.0.30.2', register='secondary_gathered'),
        _sub(fresh_lab, SE_PRIMARY, state='gathered', register='primary_gathered'),
    ], capture=['primary', 'secondary', 'expansion', 'secondary_check', 'secondary_gathered', 'primary_gathered'],
        extra_args=[])
    primary = run.results['primary']
    assert not primary.get('failed'), primary.get('msg')
    assert primary['changed'] and primary['node_address'] == SE_PRIMARY
    for name, kind in (('secondary', 'Server Edition Secondary'), ('expansion', 'Server Edition Expansion'),
                       ('secondary_check', 'Server Edition Secondary')):
        result = run.results[name]
        assert result['failed'], name
        assert 'only the Server Edition Primary holds the subscription link' in result['msg'], result['msg']
        assert kind in result['msg'] and 'nothing was changed' in result['msg']
    # A read is allowed on every node, and says whether the node holds the link.
    gathered = run.results['secondary_gathered']
    assert not gathered.get('failed'), gathered.get('msg')
    assert gathered['gathered'] == EMPTY and gathered['holds_subscription_link'] is False
    assert gathered['node_address'] == '127.0.30.2'
    assert run.results['primary_gathered']['holds_subscription_link'] is True
    assert run.results['primary_gathered']['gathered'] == {'customer_id': 'ACME-0042', 'server_address': SERVER}
    # Only the Primary was written, once.
    writes = _writes(fresh_lab, start)
    assert [w['system'] for w in writes] == ['se-primary']
    assert _stored(fresh_lab, 'se-primary') == {'CustomerID': 'ACME-0042', 'ServerAddress': SERVER}
    assert _stored(fresh_lab, 'se-secondary') == {'CustomerID': '', 'ServerAddress': ''}
    assert _stored(fresh_lab, 'se-expansion') == {'CustomerID': '', 'ServerAddress': ''}


def test_server_edition_refusal_in_check_mode_too(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    result = run_playbook([_sub(fresh_lab, SE_PRIMARY, customer_id='ACME-0042', node_address='127.0.30.2')],
                          capture=['sub'], extra_args=['--check']).results['sub']
    assert result['failed'] and 'only the Server Edition Primary holds the subscription link' in result['msg']
    assert _writes(fresh_lab, start) == []


def test_every_ip500_of_an_scn_is_set_per_node(fresh_lab, run_playbook):
    nodes = {'scn-1': '127.0.21.1', 'scn-2': '127.0.21.2', 'scn-3': '127.0.21.3'}
    before = dict((name, fresh_lab.system(name)) for name in nodes)
    start = fresh_lab.last_seq()
    tasks = [_sub(fresh_lab, SCN_APP_SERVER, customer_id='ACME-%d' % index, server_address=SERVER,
                  node_address=address, register=name.replace('-', '_'))
             for index, (name, address) in enumerate(sorted(nodes.items()), 1)]
    tasks.append(_sub(fresh_lab, SCN_APP_SERVER, customer_id='ACME-2', server_address=SERVER,
                      node_address='127.0.21.2', register='again'))
    tasks.append(_sub(fresh_lab, SCN_APP_SERVER, customer_id='ACME-9', register='no_node'))
    run = run_playbook(tasks, capture=['scn_1', 'scn_2', 'scn_3', 'again', 'no_node'])
    for index, (name, address) in enumerate(sorted(nodes.items()), 1):
        result = run.results[name.replace('-', '_')]
        assert not result.get('failed'), result.get('msg')
        assert result['changed'] and result['node_address'] == address
        assert _stored(fresh_lab, name) == {'CustomerID': 'ACME-%d' % index, 'ServerAddress': SERVER}
        assert _config_without_subscription(fresh_lab.system(name)) == _config_without_subscription(before[name])
    assert run.results['again']['changed'] is False
    # Without node_address the Application Server cannot tell which IP500 V2 is meant.
    no_node = run.results['no_node']
    assert no_node['failed'] and 'give node_address' in no_node['msg']
    assert sorted(w['system'] for w in _writes(fresh_lab, start)) == ['scn-1', 'scn-2', 'scn-3']


def test_gathered_rendered_parsed(fresh_lab, run_playbook):
    saved = json.dumps({'response': {'@status': '1', 'data': {'ws_object': {'System': {
        'Subscription': {'CustomerID': 'ACME-0042', 'ServerAddress': SERVER}}}}}})
    start = fresh_lab.last_seq()
    run = run_playbook([
        _sub(fresh_lab, state='gathered', register='gathered'),
        {'name': 'render', 'ipoffice.subscription.subscription': {
            'customer_id': 'ACME-0042', 'server_address': SERVER, 'state': 'rendered'}, 'register': 'rendered'},
        {'name': 'parse', 'ipoffice.subscription.subscription': {'state': 'parsed', 'running_config': saved},
         'register': 'parsed'},
    ], capture=['gathered', 'rendered', 'parsed'])
    assert run.results['gathered']['gathered'] == EMPTY
    assert run.results['gathered']['holds_subscription_link'] is True
    assert run.results['rendered']['rendered'] == {'data': {'ws_object': {'System': {'Subscription': {
        'CustomerID': 'ACME-0042', 'ServerAddress': SERVER}}}}}
    assert run.results['parsed']['parsed'] == {'customer_id': 'ACME-0042', 'server_address': SERVER}
    assert _writes(fresh_lab, start) == []
    # rendered and parsed never connect: only the gathered task logged in.
    assert [r['method'] for r in fresh_lab.requests(start) if r['resource'] == 'authenticate'] == ['GET', 'DELETE']


@pytest.mark.parametrize('options, fragment', [
    ({'server_address': 'http://admin.uk1.avaya-sub.com'},
     "server_address must be a host name or an https:// URL (the link is TLS): got 'http://admin.uk1.avaya-sub.com'"),
    ({'server_address': 'https://admin.uk1.avaya-sub.com/api'},
     "server_address must be a host name such as admin.uk1.avaya-sub.com, not a URL or a path: "
     "got 'https://admin.uk1.avaya-sub.com/api'"),
    ({'server_address': 'admin.uk1.avaya-sub.com:8443'},
     "server_address must be a host name such as admin.uk1.avaya-sub.com, without a port: "
     "got 'admin.uk1.avaya-sub.com:8443'"),
    ({'server_address': '127.0.40.1'},
     "server_address must be a host name such as admin.uk1.avaya-sub.com, not an IP address"),
    ({'server_address': 'avaya sub'}, "server_address must be a host name such as admin.uk1.avaya-sub.com: got 'avaya sub'"),
    ({'customer_id': 'ACME_0042'},
     "customer_id must be 1 to 32 letters, digits and hyphens, starting with a letter or a digit: got 'ACME_0042'"),
    ({'customer_id': '-ACME'}, "customer_id must be 1 to 32 letters, digits and hyphens"),
    ({'customer_id': 'A' * 33}, "customer_id must be 1 to 32 letters, digits and hyphens"),
    ({'state': 'parsed'}, 'running_config'),
])
def test_bad_input_fails_before_any_request(fresh_lab, run_playbook, options, fragment):
    start = fresh_lab.last_seq()
    result = run_playbook([_sub(fresh_lab, **options)], capture=['sub']).results['sub']
    assert result['failed'] and fragment in result['msg'], result['msg']
    assert fresh_lab.requests(start) == []
