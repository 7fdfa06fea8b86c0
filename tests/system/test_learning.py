# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Learning an unseen release from one system configured by hand, and rolling
the rest of the fleet out with what was learned. The lab's releases rel-a
(ren-a-1 and ren-a-2 on one Application Server) and rel-b (ren-b-1) keep every
setting at paths, resources and names of their own (tests/lab/topology.yml);
a person configures one node on the front panel, api_profile_learn finds
where each value landed, and site.yml converges the others with that file."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from conftest import API_PASSWORD, REPO, changed_tasks, connection, only_the_reports_changed
from linklab import CUSTOMER, LAB_DNS, LAB_SNTP, SERVER

RELEASES = {
    'rel-a': {'api': '127.0.50.1', 'learn_from': ('ren-a-1', '127.0.51.1'), 'others': [('ren-a-2', '127.0.51.2')],
              'gateway': '127.0.51.254', 'resources': ['staticroutes', 'serviceaccounts']},
    'rel-b': {'api': '127.0.60.1', 'learn_from': ('ren-b-1', '127.0.61.1'), 'others': [],
              'gateway': '127.0.61.254', 'resources': ['netconfig', 'routes', 'securityusers']},
}
# Where each release keeps each setting (tests/lab/topology.yml): what learning must find, nothing less.
EXPECTED = {
    'rel-a': {
        'dns_server': ('systems', 'SystemSettings.Network.PrimaryDNS', None), 'time_source': ('systems', 'SystemSettings.Clock.Source', None),
        'time_server': ('systems', 'SystemSettings.Clock.SNTPServer', None), 'time_zone': ('systems', 'SystemSettings.Clock.Zone', None),
        'customer_id': ('systems', 'Licensing.Cloud.AccountNumber', None), 'license_server': ('systems', 'Licensing.Cloud.ServiceURL', 'url'),
    },
    'rel-b': {
        'dns_server': ('netconfig', 'Dns.Server1', None), 'time_source': ('netconfig', 'Time.Mode', None),
        'time_server': ('netconfig', 'Time.Server', None), 'time_zone': ('netconfig', 'Time.Zone', None),
        'customer_id': ('systems', 'CloudSubscription.CustomerNumber', None),
        'license_server': ('systems', 'CloudSubscription.ServerName', 'host'),
    },
}
RENAMED_ROUTE = {'IPAddress': 'Network', 'IPMask': 'Netmask', 'GatewayIPAddress': 'NextHop', 'Destination': 'Interface', 'Metric': 'Cost'}
ROUTES = {'rel-a': ('staticroutes', 'StaticRoute', 'blank', RENAMED_ROUTE), 'rel-b': ('routes', 'Route', 'zero', {})}
USERS = {'rel-a': ('serviceaccounts', 'ServiceAccount', {'Name': 'Login', 'AccountStatus': 'State'}),
         'rel-b': ('securityusers', 'SecurityUser', {})}
# What the person entered on the learned-from node, and what site.yml sets on the others.
SET_BY_THE_ROLE = (('DNS', 'DNSServerIPAddress'), ('TimeSettings', 'TimeSettingConfigSource'), ('TimeSettings', 'TimeServerAddress'),
                   ('TimeSettings', 'TimeZone'), ('Subscription', 'CustomerID'), ('Subscription', 'ServerAddress'))


def _panel(lab, system, gateway, **extra):
    values = dict({'dns_server': LAB_DNS, 'time_source': 'SNTP', 'time_server': LAB_SNTP, 'time_zone': 'Europe/London',
                   'customer_id': CUSTOMER, 'license_server': SERVER, 'default_route': {'gateway': gateway}}, **extra)
    lab.control('POST', '/lab/systems/%s/panel' % system, values)
    lab.control('POST', '/lab/systems/%s/reboot' % system)


def _learn(lab, run_playbook, release, dest, node=None, register='learned', **extra):
    spec = RELEASES[release]
    values = {'customer_id': CUSTOMER, 'license_server': SERVER, 'dns_server': LAB_DNS, 'time_source': 'SNTP',
              'time_server': LAB_SNTP, 'time_zone': 'Europe/London', 'default_gateway': spec['gateway']}
    values.update(extra.pop('values', {}))
    args = dict(connection(lab, spec['api']), node_address=node or spec['learn_from'][1], values=values,
                resources=spec['resources'], dest=str(dest), **extra)
    return run_playbook([{'name': 'learn', 'ipoffice.subscription.api_profile_learn': args, 'register': register,
                          'ignore_errors': True}], capture=[register]).results[register]


def _inventory(lab, tmp_path, profiles):
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
        base = yaml.safe_load(handle)['all']['vars']
    gateways = dict(base['ipoffice_default_gateways'])
    gateways.update({'127.0.51.1': '127.0.51.254', '127.0.51.2': '127.0.51.254', '127.0.61.1': '127.0.61.254'})
    # Each host's checks present the identity of the node the profile was learnt from (lab.yml's lab_identity).
    hosts = dict((release, {'ipoffice_host': RELEASES[release]['api'], 'ipoffice_api_profile': str(path),
                            'lab_identity': RELEASES[release]['learn_from'][0]})
                 for release, path in profiles.items())
    inventory = {'all': {'vars': dict(base, ipoffice_default_gateways=gateways, validate_report_dir=str(tmp_path / 'readiness')),
                         'hosts': hosts}}
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


def _site(lab, inventory):
    env = dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1')
    return subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(REPO, 'playbooks', 'site.yml')],
                          capture_output=True, text=True, env=env, timeout=900, check=False)


def _without(config):
    """A system's stored configuration without what the role sets and without the new default route."""
    config = json.loads(json.dumps(config))
    for section, field in SET_BY_THE_ROLE:
        config['System'][section].pop(field)
    config['IPRoute'] = [route for route in config['IPRoute'] if route['IPAddress'] != '0.0.0.0']
    return config


def _check_learned(result, release):
    assert not result.get('failed'), result.get('msg')
    settings = result['profile']['settings']
    for setting, (resource, path, form) in EXPECTED[release].items():
        assert settings[setting]['resource'] == resource and settings[setting]['path'] == path, (setting, settings[setting])
        assert settings[setting]['learned']['evidence']['field'] == path
        if form:
            assert settings[setting]['form'] == form and settings[setting]['learned']['form'] == form
    resource, entity, form, fields = ROUTES[release]
    route = settings['default_route']
    assert (route['resource'], route['entity'], route['form'], route['fields']) == (resource, entity, form, fields)
    resource, entity, fields = USERS[release]
    users = settings['comadmin']
    assert (users['resource'], users['entity'], users['fields']) == (resource, entity, fields)
    assert result['ambiguous'] == {} and result['missing'] == {}


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_a_renamed_release_is_learned_from_one_node_and_rolls_out_to_the_others(fresh_lab, run_playbook, tmp_path, semantics):
    spec = RELEASES['rel-a']
    _panel(fresh_lab, spec['learn_from'][0], spec['gateway'])
    for name, _node in spec['others']:
        fresh_lab.control('POST', '/lab/systems/%s/semantics' % name, {'System': semantics, 'IPRoute': semantics, 'ServiceUser': semantics})
    start = fresh_lab.last_seq()
    profile = tmp_path / 'rel-a.yml'
    learned = _learn(fresh_lab, run_playbook, 'rel-a', profile)
    _check_learned(learned, 'rel-a')
    assert learned['changed'] and yaml.safe_load(profile.read_text()) == learned['profile']
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']], 'learning wrote to the device'
    if semantics == 'replace':
        # Reading cannot tell how a release applies a PUT: the installer adds it to the learned file.
        data = yaml.safe_load(profile.read_text())
        data['resources'] = {'systems': {'entity': 'System', 'update': 'replace'},
                             'staticroutes': {'entity': 'StaticRoute', 'update': 'replace'},
                             'serviceaccounts': {'entity': 'ServiceAccount', 'update': 'replace'}}
        profile.write_text(yaml.safe_dump(data))

    before = dict((name, fresh_lab.system(name)['config']) for name, _node in spec['others'])
    first = _site(fresh_lab, _inventory(fresh_lab, tmp_path, {'rel-a': profile}))
    output = first.stdout + first.stderr
    # Converged; ren-a-2's DNS change waits for a reboot (ren-a-1's person rebooted it already).
    assert first.returncode == 2 and 'ren-a-2 (127.0.51.2): NOT READY - reboot.pending' in output, output[-3000:]
    assert API_PASSWORD not in output
    for name, node in spec['others']:
        after = fresh_lab.system(name)['config']
        system = after['System']
        assert system['DNS']['DNSServerIPAddress'] == LAB_DNS and system['TimeSettings']['TimeZone'] == 'Europe/London', name
        assert system['Subscription']['CustomerID'] == CUSTOMER and system['Subscription']['ServerAddress'] == 'https://' + SERVER, name
        routes = [route for route in after['IPRoute'] if route['IPAddress'] == '0.0.0.0']
        assert [(route['GatewayIPAddress'], route['Destination']) for route in routes] == [(spec['gateway'], 'LAN1')], name
        # Nothing else changed: vendor fields, the other route, the service users, every other System field.
        assert _without(after) == _without(before[name]), name
        assert system['Directory']['LdapServerIPAddress'] == '127.0.88.1'

    assert fresh_lab.control('POST', '/lab/reboot')['rebooted'] == ['ren-a-2']
    start = fresh_lab.last_seq()
    second = _site(fresh_lab, _inventory(fresh_lab, tmp_path, {'rel-a': profile}))
    assert second.returncode == 0, (second.stdout + second.stderr)[-3000:]
    assert 'ren-a-2 (127.0.51.2): ready' in second.stdout
    assert only_the_reports_changed(second.stdout), changed_tasks(second.stdout)
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']]


def test_two_releases_each_with_its_own_profile_and_the_wrong_one_is_refused(fresh_lab, run_playbook, tmp_path):
    profiles = {}
    for release, spec in RELEASES.items():
        _panel(fresh_lab, spec['learn_from'][0], spec['gateway'])
        profiles[release] = tmp_path / ('%s.yml' % release)
        _check_learned(_learn(fresh_lab, run_playbook, release, profiles[release]), release)
    assert _site(fresh_lab, _inventory(fresh_lab, tmp_path, profiles)).returncode == 2  # ren-a-2 waits for a reboot
    fresh_lab.control('POST', '/lab/reboot')
    run = _site(fresh_lab, _inventory(fresh_lab, tmp_path, profiles))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    for line in ('ren-a-1 (127.0.51.1): ready', 'ren-a-2 (127.0.51.2): ready', 'ren-b-1 (127.0.61.1): ready'):
        assert line in output, line

    # Each release's profile on a node of the other: refused before any write, naming the setting and the path.
    start = fresh_lab.last_seq()
    wrong = run_playbook([
        {'name': 'rel-a profile on rel-b', 'ipoffice.subscription.dns': dict(
            connection(fresh_lab, '127.0.60.1'), server='127.0.53.54', api_profile=str(profiles['rel-a'])),
         'register': 'a_on_b', 'ignore_errors': True},
        {'name': 'rel-b profile on rel-a', 'ipoffice.subscription.time': dict(
            connection(fresh_lab, '127.0.50.1'), node_address='127.0.51.2', time_zone='Europe/Berlin', api_profile=str(profiles['rel-b'])),
         'register': 'b_on_a', 'ignore_errors': True},
        {'name': 'rel-a routes on rel-b', 'ipoffice.subscription.ip_route': dict(
            connection(fresh_lab, '127.0.60.1'), config=[{'gateway': '127.0.61.253', 'destination': 'LAN1'}],
            api_profile=str(profiles['rel-a'])), 'register': 'routes', 'ignore_errors': True},
    ], capture=['a_on_b', 'b_on_a', 'routes']).results
    assert 'setting dns_server is carried by systems: SystemSettings.Network.PrimaryDNS, which this node does not return' in wrong['a_on_b']['msg']
    assert 'setting time_source is carried by netconfig: Time.Mode, a resource this node does not serve' in wrong['b_on_a']['msg']
    assert 'setting default_route is carried by resource staticroutes, which this node does not serve' in wrong['routes']['msg']
    assert all(result['failed'] and not result['changed'] and 'nothing was changed' in result['msg'] for result in wrong.values())
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']]


def test_an_ambiguous_and_a_missing_value_are_reported_and_nothing_is_guessed(fresh_lab, run_playbook, tmp_path):
    spec = RELEASES['rel-a']
    # The person entered the same address as the DNS server and the backup: two fields hold it.
    _panel(fresh_lab, spec['learn_from'][0], spec['gateway'], backup_dns_server=LAB_DNS)
    start = fresh_lab.last_seq()
    profile = tmp_path / 'rel-a.yml'
    result = _learn(fresh_lab, run_playbook, 'rel-a', profile, values={'backup_dns_server': LAB_DNS, 'dns_domain': 'site.example'})
    assert not result.get('failed'), result.get('msg')
    for setting in ('dns_server', 'backup_dns_server'):
        candidates = sorted(item['path'] for item in result['ambiguous'][setting]['candidates'])
        assert candidates == ['SystemSettings.Network.PrimaryDNS', 'SystemSettings.Network.SecondaryDNS'], setting
        assert setting not in result['profile']['settings']
    assert result['missing']['dns_domain']['value'] == 'site.example'
    assert 'dns_domain' not in result['profile']['settings']
    written = yaml.safe_load(profile.read_text())['settings']
    assert not set(written) & {'dns_server', 'backup_dns_server', 'dns_domain'}
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']]
    # Naming the field settles it.
    named = _learn(fresh_lab, run_playbook, 'rel-a', profile, values={'backup_dns_server': LAB_DNS},
                   paths={'dns_server': 'systems:SystemSettings.Network.PrimaryDNS'}, register='named')
    assert named['profile']['settings']['dns_server']['path'] == 'SystemSettings.Network.PrimaryDNS'
    assert 'backup_dns_server' in named['ambiguous']


def test_a_second_node_must_agree_with_the_first(fresh_lab, run_playbook, tmp_path):
    for release, spec in RELEASES.items():
        _panel(fresh_lab, spec['learn_from'][0], spec['gateway'])
    _panel(fresh_lab, 'ren-a-2', RELEASES['rel-a']['gateway'])
    first = tmp_path / 'rel-a.yml'
    _check_learned(_learn(fresh_lab, run_playbook, 'rel-a', first), 'rel-a')
    agree = _learn(fresh_lab, run_playbook, 'rel-a', tmp_path / 'rel-a-again.yml', node='127.0.51.2', compare_with=str(first))
    assert not agree.get('failed'), agree.get('msg')
    assert agree['disagreements'] == []
    # rel-b's node against rel-a's profile: every setting sits elsewhere; reported, nothing written.
    other = tmp_path / 'rel-b.yml'
    disagree = _learn(fresh_lab, run_playbook, 'rel-b', other, compare_with=str(first))
    assert disagree['failed'] and 'disagrees with' in disagree['msg'] and 'nothing was written' in disagree['msg']
    assert not other.exists()
