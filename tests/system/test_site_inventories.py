# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""playbooks/site.yml with each example inventory (playbooks/inventory/examples/),
and the prerequisites role's own rules, against the lab.

Each example is copied as it is, files and layout, and only the values that
must differ in the lab are swapped in: the API endpoint's address, the lab CA
and user, the lab's DNS, time source, customer and server, the gateways, and
the validate role's lab settings (all from playbooks/inventory/lab.yml). Every
swapped setting must already be named in the example, so the test also proves
the examples name the variables the roles read. The three lab deployments map
1:1 to the three examples and share nothing, so the three runs of each step go
side by side: --check first (on fresh systems: plans changes, writes nothing),
then the converging run, then a second run that changes and writes nothing."""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import API_PASSWORD, REPO, changed_tasks, close_persistent_connections, only_the_reports_changed
from linklab import NODES, client

EXAMPLES_DIR = os.path.join(REPO, 'playbooks', 'inventory', 'examples')
LAB_INVENTORY = os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')
SITE = os.path.join(REPO, 'playbooks', 'site.yml')
COMADMIN_PASSWORD = 'Lab-Com-Passw0rd'  # lab-only, from tests/lab/topology.yml

# example -> (lab API endpoint, the lab systems behind it)
EXAMPLES = {
    'ip500-single': ('127.0.10.1', ('ip500-single',)),
    'ip500-scn': ('127.0.20.1', ('scn-1', 'scn-2', 'scn-3')),
    'server-edition': ('127.0.30.1', ('se-primary', 'se-secondary', 'se-expansion')),
}
LINK_HOLDERS = ('ip500-single', 'scn-1', 'scn-2', 'scn-3', 'se-primary')
NO_LINK = ('se-secondary', 'se-expansion')


def _lab_vars():
    with open(LAB_INVENTORY) as handle:
        return yaml.safe_load(handle)['all']['vars']


def _recap(output):
    return dict((host, dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', rest)))
                for host, rest in re.findall(r'^(\S+)\s+:\s+(ok=.*)$', output, re.M))


def _swap(path, values, allowed_new=()):
    """Set values in one YAML vars file of the copy; each must already be named there (or be in allowed_new)."""
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    missing = sorted(set(values) - set(data) - set(allowed_new))
    assert not missing, '%s does not name %s' % (os.path.relpath(path, EXAMPLES_DIR), ', '.join(missing))
    data.update(values)
    with open(path, 'w') as handle:
        yaml.safe_dump(data, handle, sort_keys=False)


def _lab_copy(lab, example, dest):
    """A copy of one example inventory aimed at the lab; (inventory dir, its one host, the example's vars)."""
    address, systems = EXAMPLES[example]
    shutil.copytree(os.path.join(EXAMPLES_DIR, example), dest)
    with open(os.path.join(dest, 'hosts.yml')) as handle:
        hosts_doc = yaml.safe_load(handle)
    hosts = hosts_doc['all']['children']['ipoffice']['hosts']
    assert len(hosts) == 1, '%s: one inventory host per API endpoint' % example
    host = list(hosts)[0]
    hosts[host]['ansible_host'] = address
    with open(os.path.join(dest, 'hosts.yml'), 'w') as handle:
        yaml.safe_dump(hosts_doc, handle, sort_keys=False)

    with open(os.path.join(dest, 'group_vars', 'all.yml')) as handle:
        example_vars = yaml.safe_load(handle)
    # No secret in the example: the password comes from the environment, which the run sets to the lab's.
    assert example_vars['ansible_password'] == "{{ lookup('ansible.builtin.env', 'IPOFFICE_PASSWORD') }}"
    # The examples use the httpapi connection: one session per host for the whole run (docs/connection.md).
    assert example_vars['ansible_connection'] == 'ansible.netcommon.httpapi'
    lab_vars = _lab_vars()
    _swap(os.path.join(dest, 'group_vars', 'all.yml'), {
        'ansible_user': lab_vars['ipoffice_username'],
        'ansible_httpapi_ca_path': lab.ca_path,
        'prerequisites_customer_id': lab_vars['ipoffice_customer_id'],
        'prerequisites_subscription_server': lab_vars['ipoffice_subscription_server'],
        'prerequisites_dns_server': lab_vars['ipoffice_dns_server'],
        'prerequisites_time_server': lab_vars['ipoffice_time_server'],
        # The validate role's lab settings (the lab CA for COM, the identity of the first system behind the
        # endpoint, short waits), as in lab.yml.
        # (lab.yml derives them from ipoffice_ca_path, which an httpapi inventory does not have)
        'validate_com_ca_path': lab.ca_path,
        'validate_client_cert': os.path.join(os.path.dirname(lab.ca_path), 'identities', systems[0] + '.pem'),
        'validate_client_key': os.path.join(os.path.dirname(lab.ca_path), 'identities', systems[0] + '.key'),
        'validate_lab_throughput_protocol': lab_vars['validate_lab_throughput_protocol'],
        'validate_wait_delay': lab_vars['validate_wait_delay'],
        'validate_wait_timeout': lab_vars['validate_wait_timeout'],
        # Outside the inventory directory: Ansible reads every file there as inventory (docs/validate.md).
        'validate_report_dir': str(dest) + '-readiness',
    }, allowed_new=[k for k in lab_vars if k.startswith('validate_')] + ['validate_report_dir'])

    host_vars = os.path.join(dest, 'host_vars', '%s.yml' % host)
    with open(host_vars) as handle:
        own = yaml.safe_load(handle)
    lab_gateways = dict((NODES[name][1], lab_vars['ipoffice_default_gateways'][NODES[name][1]]) for name in systems)
    swap = {}
    if 'prerequisites_default_gateways' in own:
        assert len(own['prerequisites_default_gateways']) == len(systems), 'one gateway per system of %s' % example
        swap['prerequisites_default_gateways'] = lab_gateways
    if 'prerequisites_default_gateway' in own:
        assert len(set(lab_gateways.values())) == 1, 'the lab systems of %s share one router' % example
        swap['prerequisites_default_gateway'] = list(lab_gateways.values())[0]
    assert swap, '%s: the host_vars give the gateway' % example
    _swap(host_vars, swap)
    return str(dest), host, example_vars


def _start(inventory, *args):
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0',
               IPOFFICE_PASSWORD=API_PASSWORD, ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=inventory + '-pc')
    return subprocess.Popen(['ansible-playbook', '-i', inventory, SITE] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _all(inventories, *args):
    """site.yml on every example side by side; {example: (stdout, stderr)}."""
    procs = dict((example, _start(inventories[example][0], *args)) for example in inventories)
    outputs = dict((example, proc.communicate(timeout=900)) for example, proc in procs.items())
    for example in inventories:
        # The session closes now, not after the connection's idle timeout inside the next step's log.
        close_persistent_connections(inventories[example][0] + '-pc')
    return outputs


@pytest.fixture(scope='module')
def runs(lab, tmp_path_factory):
    """check, converge, (the systems rebooted), converge again: the outputs, the request-log entries of each step,
    the stored systems."""
    lab.reset()
    base = tmp_path_factory.mktemp('examples')
    inventories = dict((example, _lab_copy(lab, example, base / example)) for example in EXAMPLES)
    result = {'inventories': inventories}
    for step, args in (('check', ('--check', '--diff')), ('converge', ()), ('again', ())):
        start = lab.last_seq()
        result[step] = _all(inventories, *args)
        result[step + '_writes'] = [r for r in lab.requests(start) if r['write']]
        result[step + '_logins'] = collections.Counter(r['listener'] for r in lab.requests(start)
                                                       if r['resource'] == 'authenticate' and r['method'] == 'GET')
        if step == 'converge':
            result['systems'] = dict((name, lab.system(name)) for systems in EXAMPLES.values() for name in systems[1])
            # The DNS change acts after a reboot, which a person makes in the maintenance window.
            result['rebooted'] = lab.control('POST', '/lab/reboot')['rebooted']
    return result


def _ok(runs, step, example, failed=0):
    stdout, stderr = runs[step][example]
    assert 'PLAY RECAP' in stdout, '%s %s:\n%s\n%s' % (step, example, stdout[-3000:], stderr[-2000:])
    recap = _recap(stdout)
    assert set(recap) == {runs['inventories'][example][1]}, recap
    counts = list(recap.values())[0]
    assert counts['failed'] == failed and counts['unreachable'] == 0, '%s %s:\n%s' % (step, example, stdout[-4000:])
    return counts, stdout


@pytest.mark.parametrize('example', sorted(EXAMPLES))
def test_check_mode_shows_each_systems_plan_and_writes_nothing(runs, example):
    counts, stdout = _ok(runs, 'check', example)
    assert counts['changed'] > 0
    for name in EXAMPLES[example][1]:
        # Each system's planned DNS and time changes, as a diff, labelled with the system.
        assert re.search(r'changed: \[[^\]]+\] => \(item=%s \(' % re.escape(name), stdout), name
    assert '+    "server": "127.0.53.53"' in stdout and '+    "time_zone": "%s"' % runs['inventories'][example][2][
        'prerequisites_time_zone'] in stdout
    assert '+    "customer_id": "LAB-0001"' in stdout
    assert not runs['check_writes'], runs['check_writes']


@pytest.mark.parametrize('example', sorted(EXAMPLES))
def test_site_converges_with_the_example(runs, example):
    # The host fails its validation only because its systems wait for the reboot the DNS change needs.
    counts, stdout = _ok(runs, 'converge', example, failed=1)
    assert counts['changed'] > 0
    zone = runs['inventories'][example][2]['prerequisites_time_zone']
    for name in EXAMPLES[example][1]:
        system = runs['systems'][name]['config']['System']
        assert system['DNS']['DNSServerIPAddress'] == '127.0.53.53', name
        assert system['TimeSettings']['TimeSettingConfigSource'] == 'SNTP', name
        assert system['TimeSettings']['TimeServerAddress'] == '127.0.123.123', name
        assert system['TimeSettings']['TimeZone'] == zone, name
        routes = [r for r in runs['systems'][name]['config']['IPRoute'] if r['IPAddress'] == '0.0.0.0']
        assert len(routes) == 1 and routes[0]['GatewayIPAddress'].endswith('.254'), name
        comadmin = [u for u in runs['systems'][name]['config']['ServiceUser'] if u['Name'] == 'COMAdmin']
        assert comadmin[0]['AccountStatus'] == 'Enabled', name
        assert name in runs['rebooted'], name
        if name in LINK_HOLDERS:
            assert dict((key, system['Subscription'][key]) for key in ('CustomerID', 'ServerAddress')) == {
                'CustomerID': 'LAB-0001', 'ServerAddress': 'admin.lab1.avaya-sub.com'}
            assert '%s (%s): NOT READY - reboot.pending' % (name, NODES[name][1]) in stdout, name
            assert '%s (%s): ready' % (name, NODES[name][1]) in runs['again'][example][0], name
    assert API_PASSWORD not in stdout + runs['converge'][example][1]


def test_a_server_edition_secondary_never_receives_link_settings(runs):
    _ok(runs, 'converge', 'server-edition', failed=1)
    for name in NO_LINK:
        section = runs['systems'][name]['config']['System']['Subscription']
        assert (section['CustomerID'], section['ServerAddress']) == ('', ''), name
        # The role skips them by the topology rule (the module would refuse them anyway).
        assert re.search(r'skipping: \[se-primary\] => \(item=%s \(%s, Server Edition' % (name, re.escape(NODES[name][1])),
                         runs['converge']['server-edition'][0]), name
    assert 'se-secondary (127.0.30.2): no link of its own expected' in runs['converge']['server-edition'][0]
    # The Secondary still got its network settings.
    assert runs['systems']['se-secondary']['config']['System']['DNS']['DNSServerIPAddress'] == '127.0.53.53'


@pytest.mark.parametrize('example', sorted(EXAMPLES))
def test_a_second_run_changes_nothing(runs, example):
    stdout = _ok(runs, 'again', example)[1]
    # Nothing changes on the systems; only the reports (removed at the start, written anew at the end).
    assert only_the_reports_changed(stdout), changed_tasks(stdout)
    assert not runs['again_writes'], runs['again_writes']
    # One session for the whole run (two plays) through the httpapi connection: at most one login at the endpoint
    # (none where the device refused the last run's logout and the session slot kept that session).
    assert runs['again_logins'][EXAMPLES[example][0]] <= 1, runs['again_logins']
    assert runs['converge_logins'][EXAMPLES[example][0]] <= 1, runs['converge_logins']


# --- the role's own rules (the role alone, no validation) ---------------------------------

ROLE_PLAY = [{'name': 'prerequisites', 'hosts': 'all', 'gather_facts': False,
              'roles': [{'role': 'ipoffice.subscription.prerequisites'}]}]


def _role(lab, tmp_path, hosts, common=None):
    """The role on the given inventory hosts ({name: vars}), with the lab's settings (lab.yml's ipoffice_* names)."""
    lab_vars = _lab_vars()
    common_vars = dict((k, v) for k, v in lab_vars.items() if k.startswith('ipoffice_') or k.startswith('ansible_'))
    common_vars['ipoffice_ca_path'] = lab.ca_path
    common_vars.update(common or {})
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'all': {'vars': common_vars, 'hosts': hosts}}))
    playbook = tmp_path / 'role.yml'
    playbook.write_text(yaml.safe_dump(ROLE_PLAY))
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0')
    return subprocess.run(['ansible-playbook', '-i', str(inventory), str(playbook), '--forks', '10'],
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def _set_up(lab):
    """In the SCN: COMAdmin disabled on scn-2, and scn-1 with a DNS server of its own."""
    with client(lab, '127.0.20.1') as api:
        comadmin = [u for u in api.get('ServiceUser', node_address='127.0.21.2') if u['Name'] == 'COMAdmin'][0]
        api.call('PUT', 'serviceusers', node_address='127.0.21.2',
                 objects=[('ServiceUser', {'@GUID': comadmin['@GUID'], 'AccountStatus': 'Disabled'})])
        guid = api.get('System', node_address='127.0.21.1')[0]['@GUID']
        api.call('PUT', 'systems', node_address='127.0.21.1',
                 objects=[('System', {'@GUID': guid, 'DNS': {'DNSServerIPAddress': '127.0.53.54'}})])


def test_role_refuses_bad_input_and_unsafe_changes_before_any_write(fresh_lab, tmp_path):
    _set_up(fresh_lab)
    start = fresh_lab.last_seq()
    run = _role(fresh_lab, tmp_path, {
        'missing-zone': {'ipoffice_host': '127.0.30.1', 'ipoffice_time_zone': ''},
        'bad-zone': {'ipoffice_host': '127.0.30.1', 'ipoffice_time_zone': 'Mars/Base'},
        'bad-server': {'ipoffice_host': '127.0.30.1', 'ipoffice_subscription_server': 'https://admin.lab1.avaya-sub.com/portal'},
        'no-gateway': {'ipoffice_host': '127.0.20.1', 'ipoffice_default_gateways': {'127.0.21.1': '127.0.21.254',
                                                                                    '127.0.21.2': '127.0.21.254'}},
        'off-lan-gateway': {'ipoffice_host': '127.0.30.1', 'ipoffice_default_gateways': {},
                            'prerequisites_default_gateway': '127.0.99.254'},
        'reboot-fail': {'ipoffice_host': '127.0.30.1', 'prerequisites_reboot_policy': 'fail'},
        'comadmin-off': {'ipoffice_host': '127.0.20.1'},
    })
    assert run.returncode != 0
    recap = _recap(run.stdout)
    assert all(counts['failed'] == 1 and counts['changed'] == 0 for counts in recap.values()), recap
    for host, message in (
            ('missing-zone', 'missing: prerequisites_time_zone'),
            ('bad-zone', "time_zone must be an IANA time zone name such as Europe/London: got 'Mars/Base'"),
            ('bad-server', "prerequisites_subscription_server must be a host name such as admin.uk1.avaya-sub.com, not a URL"),
            ('no-gateway', 'no gateway for scn-3 (127.0.21.3)'),
            ('off-lan-gateway', 'prerequisites_default_gateway 127.0.99.254 is not in the subnet of LAN1'),
            ('reboot-fail', 'needs a reboot and reboot_policy is fail: nothing was changed'),
            ('comadmin-off', 'COMAdmin is missing or not enabled on scn-2 (127.0.21.2)')):
        assert re.search(r'(fatal|failed): \[%s\].*%s' % (re.escape(host), re.escape(message)), run.stdout), host
    assert not [r for r in fresh_lab.requests(start) if r['write']]


def test_role_keeps_a_nodes_dns_server_falls_back_when_none_and_enables_comadmin(fresh_lab, tmp_path):
    _set_up(fresh_lab)
    hosts = {'scn': {'ipoffice_host': '127.0.20.1'}}
    # No DNS server given: each node keeps its own, and one without gets the fallback.
    common = {'ipoffice_dns_server': '', 'prerequisites_dns_fallback_server': '127.0.53.53',
              'prerequisites_comadmin_password': COMADMIN_PASSWORD}
    first = _role(fresh_lab, tmp_path, hosts, common)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    dns = dict((name, fresh_lab.system(name)['config']['System']['DNS']['DNSServerIPAddress'])
               for name in ('scn-1', 'scn-2', 'scn-3'))
    assert dns == {'scn-1': '127.0.53.54', 'scn-2': '127.0.53.53', 'scn-3': '127.0.53.53'}
    comadmin = [u for u in fresh_lab.system('scn-2')['config']['ServiceUser'] if u['Name'] == 'COMAdmin'][0]
    assert comadmin['AccountStatus'] == 'Enabled'
    # The DNS change waits for a reboot, which the role names and never makes.
    assert 'the DNS change takes effect after a reboot; this role does not reboot' in first.stdout
    for secret in (COMADMIN_PASSWORD, API_PASSWORD):
        assert secret not in first.stdout + first.stderr

    start = fresh_lab.last_seq()
    second = _role(fresh_lab, tmp_path, hosts, common)
    assert second.returncode == 0
    assert all(counts['changed'] == 0 for counts in _recap(second.stdout).values()), _recap(second.stdout)
    assert not [r for r in fresh_lab.requests(start) if r['write']]
