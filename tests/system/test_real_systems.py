# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real IP Office releases: a system whose API serves only what Avaya documents
(the lab's doc-1, api_profile documented) gets every prerequisite as a manual
step, a person performs them on the lab's front panel, and the next run
confirms them from the link; a fleet configured through a user's profile file
converges and loses no field, under merge and under replace; a bad profile
stops before any request."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import yaml

from conftest import API_PASSWORD, REPO, SE_PRIMARY, changed_tasks, connection, only_the_reports_changed
from linklab import CUSTOMER, LAB_DNS, LAB_SNTP, SERVER, wait_state

DOC_API = '127.0.40.1'
DOC_NODE = '127.0.41.1'
# What the lab inventory (playbooks/inventory/lab.yml) asks for, as a person enters it on the front panel.
PANEL = {
    'default_route': {'gateway': '127.0.41.254', 'destination': 'LAN1'},
    'dns_server': LAB_DNS, 'time_source': 'SNTP', 'time_server': LAB_SNTP, 'time_zone': 'Europe/London',
    'customer_id': CUSTOMER, 'license_server': SERVER, 'comadmin': {'account_status': 'Enabled'},
}
# What an installer sees in Web Manager (docs/real-systems.md), one step each: the label, or for a record the
# page and its fields.
LABELS = {
    'default_route': 'System Settings > IP Route (add an IP Route record) > IP Address 0.0.0.0, IP Mask 0.0.0.0, '
                     'Gateway IP Address 127.0.41.254, Destination LAN1',
    'dns_server': 'DNS Service IP Address', 'time_source': 'Time Setting Config Source',
    'time_server': 'Time Server IP Address', 'time_zone': 'Time Zone', 'customer_id': 'Customer ID',
    'license_server': 'License Server', 'comadmin': 'Security Manager > Service Users > Name COMAdmin, Account Status Enabled',
}
VALUES = {'dns_server': LAB_DNS, 'time_source': 'SNTP', 'time_server': LAB_SNTP, 'time_zone': 'Europe/London',
          'customer_id': CUSTOMER, 'license_server': SERVER}


def _play(lab, playbook, *args, inventory=None):
    env = dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1')
    return subprocess.run(['ansible-playbook', '-i', inventory or os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml'),
                           playbook] + list(args), capture_output=True, text=True, env=env, timeout=900, check=False)


def _site(lab, *args, inventory=None):
    return _play(lab, os.path.join(REPO, 'playbooks', 'site.yml'), *args, inventory=inventory)


def _report(lab):
    with open(os.path.join(lab.state, 'readiness', 'readiness.json')) as handle:
        doc = json.load(handle)
    with open(os.path.join(lab.state, 'readiness', 'readiness.html')) as handle:
        return doc, handle.read()


def _system(doc, name):
    return [system for system in doc['systems'] if system['system'] == name][0]


def test_a_documented_release_gets_every_prerequisite_as_a_manual_step_and_no_write(fresh_lab):
    start = fresh_lab.last_seq()
    run = _site(fresh_lab, '--limit', 'doc')
    output = run.stdout + run.stderr
    # Not ready: nobody has entered the steps yet, so the validate role fails the host after the report.
    assert run.returncode == 2, output[-3000:]
    assert 'doc-1 (127.0.41.1): NOT READY' in output
    requests = fresh_lab.requests(start)
    mine = [entry for entry in requests if entry['listener'] == DOC_API]
    assert mine and not [entry for entry in mine if entry['write']], 'a write reached the documented system'
    # Only the resources the release serves were read, besides the probes that found the model's resources absent.
    absent = set(entry['resource'] for entry in mine if entry['http_status'] == 404)
    assert absent <= {'iproutes', 'serviceusers', 'rightsgroups', 'subscriptionstatus'}, absent

    # Each missing setting once, with Web Manager's label and the value to enter.
    listed = re.findall(r'"(doc-1: [^"]*)"', output[output.index('List the steps a person must take'):])
    assert len(listed) == len(LABELS), listed
    for setting, label in LABELS.items():
        lines = [line for line in listed if label in line]
        assert len(lines) == 1, (setting, listed)
        if setting in VALUES:
            assert '%s = %s' % (label, VALUES[setting]) in lines[0], lines[0]
    assert 'offline edit, reboot needed' in [line for line in listed if 'DNS Service IP Address' in line][0]

    doc, html = _report(fresh_lab)
    system = _system(doc, 'doc-1')
    assert system['verdict'] == 'not_ready' and system['api_profile'] == 'auto'
    assert sorted(step['setting'] for step in system['manual_steps']) == sorted(LABELS)
    assert all(step['status'] == 'open' for step in system['manual_steps'])
    # No manual setting is passed on nobody's evidence.
    prerequisites = dict((item['check'], item) for item in system['checks'] if item['check'].startswith('prerequisite.'))
    assert prerequisites and all(item['status'] == 'not_measured' for item in prerequisites.values()), prerequisites
    assert all(item['details']['evidence'].startswith('not confirmed') for item in prerequisites.values())
    assert 'Manual steps in Web Manager' in html and 'DNS Service IP Address' in html and 'License Server' in html


def test_the_exit_status_follows_prerequisites_manual_steps(fresh_lab, tmp_path):
    playbook = tmp_path / 'prerequisites.yml'
    playbook.write_text(yaml.safe_dump([{'name': 'Prerequisites only', 'hosts': 'doc', 'gather_facts': False,
                                         'roles': [{'role': 'ipoffice.subscription.prerequisites'}]}]))
    report = _play(fresh_lab, str(playbook))
    assert report.returncode == 0, report.stdout[-3000:]
    refuse = _play(fresh_lab, str(playbook), '-e', 'prerequisites_manual_steps=fail')
    assert refuse.returncode == 2
    assert '8 manual steps still open on doc-1' in refuse.stdout, refuse.stdout[-3000:]


def test_after_the_front_panel_steps_a_rerun_plans_nothing_and_confirms_each_step(fresh_lab):
    first = _site(fresh_lab, '--limit', 'doc')
    assert first.returncode == 2
    # A person enters the steps in Web Manager (the lab's front panel) and reboots for the DNS change.
    entered = fresh_lab.control('POST', '/lab/systems/doc-1/panel', PANEL)
    # COMAdmin is there and enabled already, as on a new system.
    assert sorted(entered['changed']) == sorted(set(PANEL) - {'comadmin'}) and entered['reboot_pending'] is True
    fresh_lab.control('POST', '/lab/systems/doc-1/reboot')
    wait_state(fresh_lab, 'doc-1', 'Connected', timeout=30)

    start = fresh_lab.last_seq()
    # No check can see a time zone: the installer says it entered it; everything else must be confirmed.
    second = _site(fresh_lab, '--limit', 'doc', '-e', 'prerequisites_manual_steps=fail',
                   '-e', '{"prerequisites_manual_steps_entered": ["time_zone"]}')
    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-3000:]
    assert only_the_reports_changed(output), changed_tasks(output)  # only the reports, written anew
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']]

    doc, html = _report(fresh_lab)
    system = _system(doc, 'doc-1')
    assert system['verdict'] == 'ready'
    steps = dict((step['setting'], step) for step in system['manual_steps'])
    for setting, step in steps.items():
        if setting == 'time_zone':
            assert step['status'] == 'entered' and 'no check measures it' in step['evidence']
        else:
            assert step['status'] == 'confirmed', step
            assert step['evidence'].startswith('confirmed by link.first_connection'), step
    prerequisites = dict((item['check'], item) for item in system['checks'] if item['check'].startswith('prerequisite.'))
    for name, item in prerequisites.items():
        if name == 'prerequisite.time_zone':
            assert item['status'] == 'not_measured', item  # entered is the installer's word, never a measurement
        else:
            assert item['status'] == 'pass' and 'confirmed by link.first_connection' in item['details']['evidence'], item
    link = [item for item in system['checks'] if item['check'] == 'link.first_connection'][0]
    assert link['status'] == 'pass'
    assert 'confirmed by link.first_connection' in html


PROFILE = {
    'name': 'site-release',
    'description': 'the model resources, named by the user',
    'settings': {
        'dns_server': {'resource': 'systems', 'path': 'DNS.DNSServerIPAddress'},
        'backup_dns_server': {'resource': 'systems', 'path': 'DNS.BackupDNSServerIPAddress'},
        'dns_domain': {'resource': 'systems', 'path': 'DNS.DNSDomain'},
        'time_source': {'resource': 'systems', 'path': 'TimeSettings.TimeSettingConfigSource'},
        'time_server': {'resource': 'systems', 'path': 'TimeSettings.TimeServerAddress'},
        'time_zone': {'resource': 'systems', 'path': 'TimeSettings.TimeZone'},
        'time_offset': {'resource': 'systems', 'path': 'TimeSettings.LocalTimeOffset'},
        'customer_id': {'resource': 'systems', 'path': 'Subscription.CustomerID'},
        'license_server': {'resource': 'systems', 'path': 'Subscription.ServerAddress', 'form': 'host'},
        'default_route': {'resource': 'iproutes', 'entity': 'IPRoute'},
        'comadmin': {'resource': 'serviceusers', 'entity': 'ServiceUser'},
    },
}
FLEET = ('ip500-single', 'se-primary', 'se-secondary', 'se-expansion')
# The prerequisites the role sets: everything else must be exactly as before.
SET_BY_THE_ROLE = {('DNS', 'DNSServerIPAddress'), ('TimeSettings', 'TimeSettingConfigSource'), ('TimeSettings', 'TimeServerAddress'),
                   ('TimeSettings', 'TimeZone'), ('Subscription', 'CustomerID'), ('Subscription', 'ServerAddress')}


def _without_prerequisites(system):
    stripped = json.loads(json.dumps(system))
    for section, field in SET_BY_THE_ROLE:
        stripped[section].pop(field, None)
    return stripped


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_a_users_profile_file_converges_a_fleet_writes_nothing_twice_and_loses_no_field(fresh_lab, tmp_path, semantics):
    for name in FLEET:
        fresh_lab.control('POST', '/lab/systems/%s/semantics' % name,
                          {'System': semantics, 'IPRoute': semantics, 'ServiceUser': semantics})
    profile = tmp_path / 'site-release.yml'
    data = dict(PROFILE)
    if semantics == 'replace':
        # A release that replaces: the user's profile says so, and the collection writes whole objects back.
        data['resources'] = {'systems': {'entity': 'System', 'update': 'replace'}, 'iproutes': {'entity': 'IPRoute', 'update': 'replace'},
                             'serviceusers': {'entity': 'ServiceUser', 'update': 'replace'}}
    profile.write_text(yaml.safe_dump(data))
    before = dict((name, fresh_lab.system(name)['config']) for name in FLEET)
    assert before['se-primary']['System']['Directory']['LdapServerIPAddress'] == '127.0.88.1'  # a vendor field nobody models

    first = _site(fresh_lab, '--limit', 'ip500-single,se-primary', '-e', 'ipoffice_api_profile=%s' % profile)
    # Converged, and waiting for the reboot its DNS change needs (the lab's maintenance window follows).
    assert first.returncode == 2 and 'NOT READY - reboot.pending' in first.stdout, (first.stdout + first.stderr)[-3000:]
    assert 'api_profile' not in first.stderr
    for name in FLEET:
        after = fresh_lab.system(name)['config']
        assert _without_prerequisites(after['System']) == _without_prerequisites(before[name]['System']), name
        assert after['ServiceUser'] == before[name]['ServiceUser'], name
        old = [route for route in after['IPRoute'] if route['@GUID'] in set(r['@GUID'] for r in before[name]['IPRoute'])]
        assert old == before[name]['IPRoute'], name
    for name in ('ip500-single', 'se-primary'):
        system = fresh_lab.system(name)['config']['System']
        assert system['DNS']['DNSServerIPAddress'] == LAB_DNS and system['Subscription']['ServerAddress'] == SERVER, name

    fresh_lab.control('POST', '/lab/reboot')
    start = fresh_lab.last_seq()
    second = _site(fresh_lab, '--limit', 'ip500-single,se-primary', '-e', 'ipoffice_api_profile=%s' % profile)
    assert second.returncode == 0, (second.stdout + second.stderr)[-3000:]
    assert 'se-primary (127.0.30.1): ready' in second.stdout
    # Nothing on the systems changed; only the reports, written anew.
    assert only_the_reports_changed(second.stdout), changed_tasks(second.stdout)
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']]


def test_many_forks_through_one_primary_never_hold_more_than_four_sessions(fresh_lab, tmp_path):
    hosts = dict(('reader-%02d' % number, {}) for number in range(50))
    inventory = {'all': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
                         'hosts': hosts}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    play = [{'name': 'Fifty forks, one Primary', 'hosts': 'all', 'gather_facts': False,
             'module_defaults': {'group/ipoffice.subscription.api': connection(fresh_lab, SE_PRIMARY, timeout=30)},
             'tasks': [{'name': 'Read the solution', 'ipoffice.subscription.system_info': {'gather_subset': ['system']}},
                       {'name': 'Read the DNS of the Primary', 'ipoffice.subscription.dns': {'state': 'gathered'}}]}]
    (tmp_path / 'play.yml').write_text(yaml.safe_dump(play, sort_keys=False))
    start = fresh_lab.last_seq()
    proc = subprocess.run(['ansible-playbook', '-i', str(tmp_path / 'inventory.yml'), '-f', '50', str(tmp_path / 'play.yml')],
                          capture_output=True, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR='1'), timeout=900, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert API_PASSWORD not in proc.stdout + proc.stderr
    logins = [entry for entry in fresh_lab.requests(start) if entry['resource'] == 'authenticate' and entry['method'] == 'GET']
    assert logins, 'no login at all'
    assert max(entry['open_sessions'] or 0 for entry in logins) <= 4, [entry['open_sessions'] for entry in logins]
    assert not [entry for entry in logins if entry['http_status'] == 403]
    reads = [entry for entry in fresh_lab.requests(start) if entry['resource'] == 'systems']
    assert len(reads) == 100  # every task of every fork ran


def test_a_profile_with_a_path_the_node_lacks_is_refused_before_any_write(fresh_lab, run_playbook, tmp_path):
    profile = tmp_path / 'wrong.json'
    profile.write_text(json.dumps({'settings': {'dns_server': {'resource': 'systems', 'path': 'DNSSettings.PrimaryServer'}}}))
    start = fresh_lab.last_seq()
    run = run_playbook([{'name': 'DNS through a wrong profile', 'ipoffice.subscription.dns': dict(
        connection(fresh_lab, SE_PRIMARY), server=LAB_DNS, api_profile=str(profile)), 'register': 'result', 'ignore_errors': True}],
        capture=['result'])
    result = run.results['result']
    assert result['failed'] and not result['changed']
    assert 'setting dns_server is carried by systems: DNSSettings.PrimaryServer, which this node does not return' in result['msg']
    assert 'nothing was changed' in result['msg']
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']]


@pytest.mark.parametrize('name, content, message', [
    ('release-x', None, "api_profile 'release-x' is not a known profile"),
    ('broken.yml', 'settings: [dns_server\n', 'broken.yml is not valid YAML'),
    ('empty.json', '{"settings": {}}', '"settings" must map each setting'),
    ('missing.yml', False, 'missing.yml cannot be read'),
])
def test_an_unknown_or_malformed_profile_fails_before_any_request(fresh_lab, run_playbook, tmp_path, name, content, message):
    value = name
    if content is not None:
        value = str(tmp_path / name)
        if content is not False:
            (tmp_path / name).write_text(content)
    start = fresh_lab.last_seq()
    run = run_playbook([{'name': 'DNS through a bad profile', 'ipoffice.subscription.dns': dict(
        connection(fresh_lab, SE_PRIMARY), server=LAB_DNS, api_profile=value), 'register': 'result', 'ignore_errors': True}],
        capture=['result'])
    result = run.results['result']
    assert result['failed'] and message in result['msg'] and 'nothing was changed' in result['msg'], result['msg']
    assert fresh_lab.requests(start) == []
