# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The service_user module through ansible-playbook against the lab, per state.

Never use a wrong password for the API user (apiadmin): the lab locks an account
after three bad passwords."""

from __future__ import annotations

import glob
import json
import os

import pytest

from conftest import API_USER, SE_PRIMARY, SINGLE_APP_SERVER, connection, login_error, rerun_writes_nothing

# Passwords this file sets; each must never appear in any output or log.
NEW_PW = 'Su-New-Passw0rd-7391'
NEXT_PW = 'Su-Next-Passw0rd-5528'
COM_PW = 'Su-Com-Passw0rd-4410'
CHECK_PW = 'Su-Check-Passw0rd-8062'
REFUSED_PW = 'Su-Refused-Passw0rd-1947'
RENDER_PW = 'Su-Render-Passw0rd-3375'
ALL_PASSWORDS = (NEW_PW, NEXT_PW, COM_PW, CHECK_PW, REFUSED_PW, RENDER_PW)

API_GROUP = 'Management API Group'
AUTOMATION = {'name': 'automation', 'password': NEW_PW, 'rights_groups': [API_GROUP]}
LAB_USERS = ['COMAdmin', 'apiadmin', 'norights', 'readonly']
MASK = '<write-only: given in the module options, never shown>'


def _users(lab, config, register='users', host=SINGLE_APP_SERVER, **options):
    return {'name': 'users', 'ipoffice.subscription.service_user': dict(connection(lab, host), config=config, **options),
            'register': register, 'ignore_errors': True}


def _writes(lab, start):
    return [r for r in lab.requests(start) if r['write']]


def _stored_users(lab, name='ip500-single'):
    return dict((u['Name'], u) for u in lab.system(name)['config']['ServiceUser'])


def _stored_without_users(lab, name='ip500-single'):
    config = json.loads(json.dumps(lab.system(name)['config']))
    config.pop('ServiceUser')
    return config


def _semantics(lab, semantics, name='ip500-single'):
    # The collection writes a service user whole in any case (a public client warns that a user PUT clears what it
    # leaves out); the System writes stay small.
    lab.control('POST', '/lab/systems/%s/semantics' % name, {'ServiceUser': semantics, 'System': semantics})


def _no_password_key(value):
    text = json.dumps(value).lower()
    return '"password"' not in text


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_create_once_then_nothing_and_no_other_user_touched(fresh_lab, run_playbook, semantics):
    _semantics(fresh_lab, semantics)
    users_before = _stored_users(fresh_lab)
    others_before = _stored_without_users(fresh_lab)
    start = fresh_lab.last_seq()
    run = run_playbook([_users(fresh_lab, [AUTOMATION], register='first'), _users(fresh_lab, [AUTOMATION], register='second')],
                       capture=['first', 'second'], extra_args=['--diff'])
    first, second = run.results['first'], run.results['second']
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] and first['operations'] == [
        {'method': 'POST', 'item': 'automation', 'fields': ['AccountStatus', 'Name', 'Password', 'RightsGroups']}]
    assert first['diff']['before']['config'] == []
    assert [dict((k, v) for k, v in u.items() if k != 'guid') for u in first['diff']['after']['config']] == [
        {'name': 'automation', 'account_status': 'Enabled', 'rights_groups': [API_GROUP]}]
    assert _no_password_key([first['diff'], first['before'], first['after'], second['after']])
    assert second['changed'] is False and second['operations'] == []
    assert [(w['method'], w['resource']) for w in _writes(fresh_lab, start)] == [('POST', 'serviceusers')]
    stored = _stored_users(fresh_lab)
    assert dict((n, u) for n, u in stored.items() if n != 'automation') == users_before
    assert stored['automation']['Password'] == '***' and stored['automation']['RightsGroups'] == API_GROUP
    assert _stored_without_users(fresh_lab) == others_before


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_update_password_always_changes_each_time_and_sets_the_password(fresh_lab, run_playbook, semantics):
    _semantics(fresh_lab, semantics, 'se-primary')
    run = run_playbook([_users(fresh_lab, [AUTOMATION], host=SE_PRIMARY, register='create')], capture=['create'])
    assert not run.results['create'].get('failed'), run.results['create'].get('msg')
    assert login_error(fresh_lab, 'automation', NEW_PW) is None
    users_before = _stored_users(fresh_lab, 'se-primary')
    others_before = _stored_without_users(fresh_lab, 'se-primary')
    start = fresh_lab.last_seq()
    again = dict(AUTOMATION, password=NEXT_PW)
    run = run_playbook([_users(fresh_lab, [again], host=SE_PRIMARY, update_password='always', register='one'),
                        _users(fresh_lab, [again], host=SE_PRIMARY, update_password='always', register='two'),
                        _users(fresh_lab, [again], host=SE_PRIMARY, register='on_create')],
                       capture=['one', 'two', 'on_create'], extra_args=['--diff'])
    for name in ('one', 'two'):
        result = run.results[name]
        assert not result.get('failed'), result.get('msg')
        assert result['changed'] and result['operations'] == [{'method': 'PUT', 'item': 'automation', 'fields': ['Password']}]
        assert result['diff']['before']['config'] == result['diff']['after']['config']
        assert _no_password_key([result['diff'], result['before'], result['after']])
    assert run.results['on_create']['changed'] is False and run.results['on_create']['operations'] == []
    assert len(_writes(fresh_lab, start)) == 2
    assert login_error(fresh_lab, 'automation', NEXT_PW) is None
    assert 'rejected the user name or password' in login_error(fresh_lab, 'automation', NEW_PW)
    # Only the password changed (the stored view shows it as ***), nothing else on the node.
    assert _stored_users(fresh_lab, 'se-primary') == users_before
    assert _stored_without_users(fresh_lab, 'se-primary') == others_before


def test_check_mode_writes_nothing_and_shows_the_plan(fresh_lab, run_playbook):
    users_before = _stored_users(fresh_lab)
    start = fresh_lab.last_seq()
    item = dict(AUTOMATION, password=CHECK_PW)
    run = run_playbook([_users(fresh_lab, [item], register='create'),
                        _users(fresh_lab, [{'name': 'COMAdmin', 'account_status': 'Disabled', 'password': CHECK_PW}],
                               update_password='always', register='disable')],
                       capture=['create', 'disable'], extra_args=['--check', '--diff'])
    create, disable = run.results['create'], run.results['disable']
    assert create['changed'] and create['operations'][0]['method'] == 'POST'
    assert any(u['name'] == 'automation' for u in create['after'])
    assert not disable.get('failed'), disable.get('msg')
    assert disable['changed'] and disable['operations'] == [
        {'method': 'PUT', 'item': 'COMAdmin', 'fields': ['AccountStatus', 'Password']}]
    assert disable['diff']['before']['config'][0]['account_status'] == 'Enabled'
    assert disable['diff']['after']['config'][0]['account_status'] == 'Disabled'
    assert _writes(fresh_lab, start) == []
    assert _stored_users(fresh_lab) == users_before


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_comadmin_disable_and_enable_need_its_password(fresh_lab, run_playbook, semantics):
    _semantics(fresh_lab, semantics, 'se-primary')
    users_before = _stored_users(fresh_lab, 'se-primary')
    others_before = _stored_without_users(fresh_lab, 'se-primary')
    start = fresh_lab.last_seq()
    com = {'name': 'COMAdmin', 'account_status': 'Disabled'}
    run = run_playbook([
        _users(fresh_lab, [com], host=SE_PRIMARY, register='refused'),
        _users(fresh_lab, [dict(com, password=COM_PW)], host=SE_PRIMARY, register='refused_on_create'),
    ], capture=['refused', 'refused_on_create'])
    for name in ('refused', 'refused_on_create'):
        result = run.results[name]
        assert result['failed'] and 'nothing was changed' in result['msg'], result['msg']
        assert ("config[0]: changing config[0].account_status of existing service user 'COMAdmin'" in result['msg']
                and 'give config[0].password with update_password=always' in result['msg']), result['msg']
    assert _writes(fresh_lab, start) == []
    run = run_playbook([
        _users(fresh_lab, [dict(com, password=COM_PW)], host=SE_PRIMARY, update_password='always', register='disable'),
        _users(fresh_lab, [{'name': 'COMAdmin', 'account_status': 'Enabled', 'password': COM_PW}], host=SE_PRIMARY,
               update_password='always', register='enable'),
        _users(fresh_lab, [{'name': 'COMAdmin', 'account_status': 'Enabled', 'rights_groups': ['COM Admin Group']}],
               host=SE_PRIMARY, register='seed'),
    ], capture=['disable', 'enable', 'seed'], extra_args=['--diff'])
    disable, enable, seed = run.results['disable'], run.results['enable'], run.results['seed']
    assert not disable.get('failed'), disable.get('msg')
    assert disable['operations'] == [{'method': 'PUT', 'item': 'COMAdmin', 'fields': ['AccountStatus', 'Password']}]
    assert disable['diff']['after']['config'][0]['account_status'] == 'Disabled'
    assert disable['diff']['after']['config'][0]['rights_groups'] == ['COM Admin Group']
    assert not enable.get('failed'), enable.get('msg')
    assert enable['diff']['after']['config'][0]['account_status'] == 'Enabled'
    # The seeds' requirement, COMAdmin present and enabled, holds now: no password needed, nothing written.
    assert seed['changed'] is False and seed['operations'] == []
    assert len(_writes(fresh_lab, start)) == 2
    assert _stored_users(fresh_lab, 'se-primary') == users_before
    assert _stored_without_users(fresh_lab, 'se-primary') == others_before
    # COMAdmin has no API rights: with its new password the login passes the password check and is refused
    # for rights (403); with a wrong password it would be rejected (401).
    assert 'Management API rights missing' in login_error(fresh_lab, 'COMAdmin', COM_PW)


def test_changing_an_existing_user_without_its_password_is_refused_before_any_write(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    result = run_playbook([_users(fresh_lab, [{'name': 'readonly', 'rights_groups': [API_GROUP, 'Operator']},
                                              {'name': 'norights', 'account_status': 'Disabled', 'password': REFUSED_PW}])],
                          capture=['users']).results['users']
    assert result['failed']
    assert "changing config[0].rights_groups of existing service user 'readonly'" in result['msg'], result['msg']
    assert "changing config[1].account_status of existing service user 'norights'" in result['msg'], result['msg']
    assert _writes(fresh_lab, start) == []


def test_overridden_never_removes_comadmin_or_the_api_user(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([_users(fresh_lab, [AUTOMATION], state='overridden', register='refused')], capture=['refused'])
    refused = run.results['refused']
    assert refused['failed'] and refused['msg'].startswith('nothing was changed')
    assert 'ServiceUser COMAdmin cannot be removed: it is the built-in user' in refused['msg']
    assert 'ServiceUser apiadmin cannot be removed: it is the user this task logs in with' in refused['msg']
    assert _writes(fresh_lab, start) == []
    keep = [{'name': 'COMAdmin', 'rights_groups': ['COM Admin Group']}, {'name': 'apiadmin', 'rights_groups': [API_GROUP]}]
    run = run_playbook([_users(fresh_lab, keep + [AUTOMATION], state='overridden', register='over')], capture=['over'])
    over = run.results['over']
    assert not over.get('failed'), over.get('msg')
    assert sorted((op['method'], op['item']) for op in over['operations']) == [
        ('DELETE', 'norights'), ('DELETE', 'readonly'), ('POST', 'automation')]
    rerun_writes_nothing(fresh_lab, run_playbook, [_users(fresh_lab, keep + [AUTOMATION], state='overridden', register='again')],
                         ['again'])
    assert sorted(_stored_users(fresh_lab)) == ['COMAdmin', 'apiadmin', 'automation']


def test_deleted_removes_only_the_named_user_and_never_comadmin(fresh_lab, run_playbook):
    run = run_playbook([_users(fresh_lab, [AUTOMATION], register='add'),
                        _users(fresh_lab, [{'name': 'automation'}], state='deleted', register='delete')],
                       capture=['add', 'delete'])
    assert run.results['delete']['operations'] == [{'method': 'DELETE', 'item': 'automation', 'fields': []}]
    rerun_writes_nothing(fresh_lab, run_playbook, [_users(fresh_lab, [{'name': 'automation'}], state='deleted', register='again'),
                                                   _users(fresh_lab, [], state='deleted', register='empty')], ['again', 'empty'])
    assert sorted(_stored_users(fresh_lab)) == LAB_USERS
    start = fresh_lab.last_seq()
    run = run_playbook([_users(fresh_lab, [{'name': 'COMAdmin'}, {'name': 'readonly'}], state='deleted', register='com'),
                        _users(fresh_lab, [{'name': API_USER}], state='deleted', register='api')], capture=['com', 'api'])
    assert run.results['com']['failed'] and 'ServiceUser COMAdmin cannot be removed' in run.results['com']['msg']
    assert run.results['api']['failed'] and 'ServiceUser apiadmin cannot be removed' in run.results['api']['msg']
    assert _writes(fresh_lab, start) == []
    assert sorted(_stored_users(fresh_lab)) == LAB_USERS


def test_gathered_rendered_parsed(fresh_lab, run_playbook):
    saved = json.dumps({'response': {'@status': '1', 'data': {'ws_object': {'ServiceUser': {
        '@GUID': 'B' * 32, 'Name': 'COMAdmin', 'Password': '', 'AccountStatus': 'Disabled',
        'RightsGroups': 'COM Admin Group|Operator'}}}}})
    run = run_playbook([
        _users(fresh_lab, [], state='gathered', register='gathered'),
        {'name': 'render', 'ipoffice.subscription.service_user': {
            'config': [dict(AUTOMATION, password=RENDER_PW), {'name': 'COMAdmin', 'account_status': 'Enabled'}],
            'state': 'rendered'}, 'register': 'rendered'},
        {'name': 'parse', 'ipoffice.subscription.service_user': {'state': 'parsed', 'running_config': saved},
         'register': 'parsed'},
    ], capture=['gathered', 'rendered', 'parsed'])
    gathered = run.results['gathered']['gathered']
    assert sorted(u['name'] for u in gathered) == LAB_USERS and _no_password_key(gathered)
    com = [u for u in gathered if u['name'] == 'COMAdmin'][0]
    assert com['account_status'] == 'Enabled' and com['rights_groups'] == ['COM Admin Group']
    assert run.results['rendered']['rendered'] == {'data': {'ws_object': [
        {'ServiceUser': {'Name': 'automation', 'AccountStatus': 'Enabled', 'RightsGroups': API_GROUP, 'Password': MASK}},
        {'ServiceUser': {'Name': 'COMAdmin', 'AccountStatus': 'Enabled', 'RightsGroups': ''}}]}}
    assert run.results['parsed']['parsed'] == [
        {'guid': 'B' * 32, 'name': 'COMAdmin', 'account_status': 'Disabled', 'rights_groups': ['COM Admin Group', 'Operator']}]


@pytest.mark.parametrize('item, fragment', [
    ({'password': NEW_PW}, 'missing required arguments: name found in config'),
    ({'name': 'automation', 'password': NEW_PW, 'account_status': 'Frozen'},
     'value of account_status must be one of: Enabled, Disabled, got: Frozen found in config'),
    ({'name': 'x' * 32, 'password': NEW_PW}, "config[0].name must be 1 to 31 characters: got '%s'" % ('x' * 32)),
    ({'name': 'automation', 'password': ''}, "config[0].password must not be empty or white space alone: service user 'automation' "
     "could no longer log in"),
    ({'name': 'automation', 'password': '  '}, "config[0].password must not be empty or white space alone"),
])
def test_bad_input_fails_before_any_request(fresh_lab, run_playbook, item, fragment):
    start = fresh_lab.last_seq()
    result = run_playbook([_users(fresh_lab, [item])], capture=['users']).results['users']
    assert result['failed'] and fragment in result['msg'], result['msg']
    assert fresh_lab.requests(start) == []


@pytest.mark.parametrize('item, fragment', [
    (dict(AUTOMATION, rights_groups=[API_GROUP, 'Nope Group']),
     "config[0].rights_groups: 'Nope Group' is not a rights group on node 127.0.11.1; it has: Administrator Group, "
     "COM Admin Group, Management API Group, Management API Read Only, Operator"),
    ({'name': 'automation', 'rights_groups': [API_GROUP]},
     "config[0].password is required: service user 'automation' does not exist on node 127.0.11.1"),
])
def test_bad_input_the_node_refutes_fails_before_any_write(fresh_lab, run_playbook, item, fragment):
    start = fresh_lab.last_seq()
    result = run_playbook([_users(fresh_lab, [item])], capture=['users']).results['users']
    assert result['failed'] and fragment in result['msg'], result['msg']
    assert _writes(fresh_lab, start) == []
    assert 'automation' not in _stored_users(fresh_lab)


def test_no_password_anywhere_at_any_verbosity(fresh_lab, run_playbook):
    """Every path a password takes (create, always, check mode, refusal, failure, rendered) at -vvvv with --diff:
    no password in the output, the results, the lab's request log, server log or stored state."""
    check = dict(AUTOMATION, name='checked', password=CHECK_PW)
    run = run_playbook([
        _users(fresh_lab, [AUTOMATION], register='create'),
        _users(fresh_lab, [dict(AUTOMATION, password=NEXT_PW)], update_password='always', register='always'),
        _users(fresh_lab, [{'name': 'COMAdmin', 'account_status': 'Disabled', 'password': COM_PW}],
               update_password='always', register='com'),
        dict(_users(fresh_lab, [check], register='check'), check_mode=True),
        _users(fresh_lab, [{'name': 'readonly', 'account_status': 'Disabled', 'password': REFUSED_PW}], register='refused'),
        _users(fresh_lab, [dict(AUTOMATION, name='other', password=REFUSED_PW, rights_groups=['Nope Group'])],
               register='failed'),
        {'name': 'render', 'ipoffice.subscription.service_user': {
            'config': [dict(AUTOMATION, password=RENDER_PW)], 'state': 'rendered'}, 'register': 'rendered'},
    ], capture=['create', 'always', 'com', 'check', 'refused', 'failed', 'rendered'], extra_args=['-vvvv', '--diff'])
    results = run.results
    assert not results['create'].get('failed') and not results['always'].get('failed') and not results['com'].get('failed')
    assert results['check']['changed'] and results['refused']['failed'] and results['failed']['failed']
    assert results['rendered']['rendered']['data']['ws_object']['ServiceUser']['Password'] == MASK
    texts = {'ansible-playbook output': run.output, 'registered results': json.dumps(results)}
    for path in [os.path.join(fresh_lab.state, 'requests.jsonl'), os.path.join(fresh_lab.state, 'lab.log')] + \
            glob.glob(os.path.join(fresh_lab.state, 'systems', '*.json')):
        with open(path, encoding='utf-8') as handle:
            texts[path] = handle.read()
    assert 'serviceusers' in texts[os.path.join(fresh_lab.state, 'requests.jsonl')]
    # Really verbose: every result is printed, with the options as given (passwords masked by no_log).
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in run.output and '"update_password": "always"' in run.output
    leaks = [(password, where) for password in ALL_PASSWORDS for where, text in texts.items() if password in text]
    assert leaks == []
