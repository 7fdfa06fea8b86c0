# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""system_info through ansible-playbook against the lab."""

from __future__ import annotations

import subprocess

from conftest import API_PASSWORD, SCN_APP_SERVER, SE_PRIMARY, SINGLE_APP_SERVER, connection, lab_writes


def _task(lab, host, register='info', **extra):
    return {'name': 'gather', 'ipoffice.subscription.system_info': connection(lab, host, **extra),
            'register': register, 'ignore_errors': True}


def test_server_edition_primary_answers_for_every_node_with_roles(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([_task(fresh_lab, SE_PRIMARY)], capture=['info'])
    info = run.results['info']
    assert not info.get('failed'), info.get('msg')
    by_role = dict((s['role'], s) for s in info['systems'])
    assert sorted(by_role) == ['expansion', 'primary', 'secondary']
    assert by_role['primary']['holds_subscription_link'] is True
    assert by_role['secondary']['holds_subscription_link'] is False
    assert by_role['primary']['node_address'] == SE_PRIMARY
    assert by_role['primary']['platform'] == 'server_edition'
    # Per-node lists are read per node: each node's routes point into its own LAN1.
    for system in info['systems']:
        prefix = system['node_address'].rsplit('.', 1)[0]
        assert system['ip_routes'], system['name']
        assert all(r['gateway'].startswith(prefix) for r in system['ip_routes']), system['ip_routes']
        assert {'name': 'COMAdmin'}.items() <= next(u for u in system['service_users'] if u['name'] == 'COMAdmin').items()
    # Reads only: counted from the lab's request log, not taken from changed: false alone.
    assert info['changed'] is False and fresh_lab.requests(start) and lab_writes(fresh_lab, start) == []


def test_ip500_scn_through_its_application_server(fresh_lab, run_playbook):
    info = run_playbook([_task(fresh_lab, SCN_APP_SERVER)], capture=['info']).results['info']
    assert not info.get('failed'), info.get('msg')
    assert sorted(s['node_address'] for s in info['systems']) == ['127.0.21.1', '127.0.21.2', '127.0.21.3']
    assert {s['platform'] for s in info['systems']} == {'ip500v2'}
    assert all(s['holds_subscription_link'] for s in info['systems'])


def test_node_address_targets_one_node(fresh_lab, run_playbook):
    info = run_playbook([_task(fresh_lab, SE_PRIMARY, node_address='127.0.30.2')], capture=['info']).results['info']
    assert [s['role'] for s in info['systems']] == ['secondary']
    requests = [r for r in fresh_lab.requests() if r['resource'] != 'authenticate']
    assert requests and all(r['query'].get('ipaddress') == '127.0.30.2' for r in requests)


def test_no_password_in_the_result_and_no_writes(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([_task(fresh_lab, SINGLE_APP_SERVER)], capture=['info'], extra_args=['-vvv'])
    info = run.results['info']
    assert not info.get('failed'), info.get('msg')
    system = info['systems'][0]
    assert set(['dns', 'time', 'subscription', 'lans', 'ip_routes', 'service_users', 'rights_groups', 'licenses']) <= set(system)
    for secret in (API_PASSWORD, 'Lab-Com-Passw0rd', 'Lab-Read-Passw0rd'):
        assert secret not in run.output
        assert secret not in repr(info)
    assert not [r for r in fresh_lab.requests(start) if r['write']]


def test_gather_subset_limits_the_requests(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    info = run_playbook([_task(fresh_lab, SINGLE_APP_SERVER, gather_subset=['ip_routes'])], capture=['info']).results['info']
    assert 'service_users' not in info['systems'][0] and 'ip_routes' in info['systems'][0]
    log = fresh_lab.requests(start)
    resources = [r['resource'] for r in log]
    assert [r['method'] for r in log if r['resource'] == 'authenticate'] == ['GET', 'DELETE']  # one login, one logout
    assert sorted(set(resources) - {'authenticate'}) == ['iproutes', 'systems']


def test_check_mode_is_supported(fresh_lab, run_playbook):
    run = run_playbook([_task(fresh_lab, SE_PRIMARY)], capture=['info'], extra_args=['--check'])
    assert not run.results['info'].get('failed') and run.results['info']['systems']


def test_module_defaults_action_group_sets_connection_once(fresh_lab, run_playbook):
    defaults = {'group/ipoffice.subscription.api': connection(fresh_lab, SE_PRIMARY)}
    tasks = [{'name': 'gather', 'ipoffice.subscription.system_info': {'gather_subset': ['system']}, 'register': 'info'}]
    info = run_playbook(tasks, capture=['info'], module_defaults=defaults).results['info']
    assert len(info['systems']) == 3


def test_environment_fallbacks_for_awx_credentials(fresh_lab, run_playbook):
    env = {'IPOFFICE_HOST': SE_PRIMARY, 'IPOFFICE_USERNAME': 'apiadmin', 'IPOFFICE_PASSWORD': API_PASSWORD,
           'IPOFFICE_CA_PATH': fresh_lab.ca_path}
    tasks = [{'name': 'gather', 'ipoffice.subscription.system_info': {'gather_subset': ['system']}, 'register': 'info'}]
    info = run_playbook(tasks, capture=['info'], env=env).results['info']
    assert len(info['systems']) == 3


def test_ansible_doc_renders():
    proc = subprocess.run(['ansible-doc', 'ipoffice.subscription.system_info'], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert 'gather_subset' in proc.stdout and 'IPOFFICE_PASSWORD' in proc.stdout
