# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Validation from where the IP Office stands: playbooks/validate.yml with its
network checks on probe hosts over SSH (Ansible's paramiko and ssh
connections), against a site the controller cannot see (sitenet.py).

One site per worker serves every test of this file: its namespaces, its lab
and its sshds are made once and removed at the end."""

from __future__ import annotations

import glob
import json
import os
import pwd
import subprocess
import tempfile
import time

import pytest
import yaml

from conftest import API_PASSWORD, REPO
from linklab import LAB_DNS_WITHOUT_AVAYA, LAB_HOSTS, NODES, com_port, configure, report_check, report_system, wait_state
import sitenet
from sitenet import MISMATCH_PORT, NO_PYTHON_PORT, PROBE_ADDRESS, PROBE_USER, SE_LINUX_ADDRESS, UNKNOWN_KEY_PORT

LINK_NODES = ('ip500-single', 'scn-1', 'scn-2', 'scn-3', 'se-primary')
NODE_LAN1 = {'127.0.11.1', '127.0.21.1', '127.0.21.2', '127.0.21.3', '127.0.30.1', '127.0.30.2', '127.0.30.3'}
API = {'ip500-single': '127.0.10.1', 'scn': '127.0.20.1', 'se-primary': '127.0.30.1'}
NETWORK_GROUPS = ('dns.', 'ports.', 'tls.', 'quality.', 'time.', 'probe.')
SYSTEMS = LINK_NODES + ('se-secondary', 'se-expansion')
# A system's own link: its identity, from its LAN1 address.
OWN_LINKS = set((name, lan1) for name, (_listener, lan1) in NODES.items())


@pytest.fixture(scope='module')
def site():
    state = os.environ.get('IPOFFICE_LAB_STATE') or tempfile.mkdtemp(prefix='ipo-lab-')
    state = '%s-site-%s' % (state, os.environ.get('PYTEST_XDIST_WORKER', 'main'))
    opened = sitenet.Site(state).open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def fresh_site(site):
    site.lab.reset()
    return site


def _probe(site, connection, port=22, key=None):
    """Inventory variables of a probe host: the unprivileged user, key authentication, the tests' known_hosts."""
    values = {'ansible_host': PROBE_ADDRESS, 'ansible_port': port, 'ansible_connection': connection, 'ansible_user': PROBE_USER,
              'ansible_ssh_private_key_file': key or site.client_key}
    return values


def _inventory(site, tmp_path, hosts, probes):
    """The lab inventory (playbooks/inventory/lab.yml) with these IP Office hosts and probe hosts."""
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
        inventory = yaml.safe_load(handle)
    # A host of lab.yml keeps its own vars there (the system whose identity its checks present, lab_identity).
    hosts = dict((name, dict(LAB_HOSTS.get(name, {}), **host_vars)) for name, host_vars in hosts.items())
    inventory['all']['children'] = {
        'lab': {'hosts': hosts},
        'ipoffice_probes': {
            'hosts': probes,
            'vars': {
                # The lab inventory's interpreter is the controller's virtualenv: a probe host has its own Python,
                # Debian's, with nothing installed next to it.
                'ansible_python_interpreter': '/usr/bin/python3',
                # The ssh connection reads these; paramiko reads ~/.ssh/known_hosts of the run's HOME (_run).
                'ansible_ssh_common_args': '-F /dev/null -o IdentitiesOnly=yes -o UserKnownHostsFile=%s' % site.known_hosts,
            },
        },
    }
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    return path


def _run(site, tmp_path, inventory, playbook='validate.yml', *args):
    """ansible-playbook in the controller's namespace; (process, readiness report or None, output)."""
    home = tmp_path / 'home'
    (home / '.ssh').mkdir(parents=True, exist_ok=True)
    (home / '.ssh' / 'known_hosts').write_text(open(site.known_hosts).read())
    report_dir = tmp_path / 'readiness'
    env = dict(os.environ, IPOFFICE_LAB_STATE=site.state, ANSIBLE_NOCOLOR='1', HOME=str(home),
               # Host key checking stays on, whatever the environment says.
               ANSIBLE_HOST_KEY_CHECKING='True',
               # A master connection of an earlier run would carry a later one past its own key: one folder per run
               # (and a short one: a control socket's path has at most 107 bytes).
               ANSIBLE_SSH_CONTROL_PATH_DIR=tempfile.mkdtemp(prefix='cp', dir=site.dir))
    command = ['ansible-playbook', '-i', str(inventory), os.path.join(REPO, 'playbooks', playbook) if '/' not in playbook else playbook,
               '-e', 'validate_report_dir=%s' % report_dir, '-e', 'validate_wait_timeout=30'] + list(args)
    proc = subprocess.run(site.controller_command(command), capture_output=True, text=True, env=env, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert API_PASSWORD not in output
    report = None
    if (report_dir / 'readiness.json').exists():
        report = json.loads((report_dir / 'readiness.json').read_text())
    return proc, report, output


def _marks(site):
    return {'dns': site.lab.control('GET', '/lab/dns')['last_seq'], 'com': site.lab.control('GET', '/lab/com')['last_id'],
            'sntp': site.lab.control('GET', '/lab/sntp')['last_seq'], 'api': site.lab.last_seq()}


def _clients(site, marks):
    """Who used the site since marks, the systems' own links left out: (DNS clients, of them those that asked for
    storage.googleapis.com, which no link asks for; COM peers that are no system's link; time source clients).

    The checks present a system's own identity (lab.yml's lab_identity), so a COM connection is the system's link only
    from that system's LAN1 address. The Server Edition Primary's Linux shares that address with the Primary's own
    link, so its checks show in the DNS names they ask and in their COM connections without an identity (the port
    check)."""
    dns = site.lab.control('GET', '/lab/dns/queries?since=%d' % marks['dns'])
    com = site.lab.control('GET', '/lab/com/connections?since=%d' % marks['com'])
    sntp = site.lab.control('GET', '/lab/sntp/queries?since=%d' % marks['sntp'])
    return ({_address(entry['client']) for entry in dns} - NODE_LAN1,
            {_address(entry['client']) for entry in dns if entry['name'] == 'storage.googleapis.com'},
            {entry['peer'] for entry in com if (entry['identity'], entry['peer']) not in OWN_LINKS},
            {_address(entry['client']) for entry in sntp} - NODE_LAN1)


def _address(client):
    """A log's client: an address, or (address, port)."""
    return client[0] if isinstance(client, list) else client


def _network_checks(entry):
    return [item for item in entry['checks'] if item['check'].startswith(NETWORK_GROUPS)]


def _configure_all(site):
    for name in SYSTEMS:
        site.lab.inside(configure, site.lab, name)


def test_the_controller_reaches_only_the_api_and_the_probes_ssh(site):
    seen = dict(((address, port), site.in_controller(sitenet.reachable, address, port, timeout=1)) for address, port in [
        ('127.0.10.1', 7070), ('127.0.20.1', 7070), ('127.0.30.1', 7070), ('127.0.30.2', 7070), ('127.0.30.3', 7070),
        (PROBE_ADDRESS, 22), (SE_LINUX_ADDRESS, 22),
        ('127.0.44.1', 443), ('127.0.44.1', 8443), ('127.0.45.1', 443), ('127.0.0.1', 7099), ('127.0.11.1', 80)])
    dns = site.in_controller(sitenet.reachable, '127.0.53.53', 53, timeout=1, udp_probe=b'\0' * 12)
    sntp = site.in_controller(sitenet.reachable, '127.0.123.123', 123, timeout=1, udp_probe=b'\x23' + b'\0' * 47)
    assert [key for key, state in seen.items() if state == 'open'] == [
        ('127.0.10.1', 7070), ('127.0.20.1', 7070), ('127.0.30.1', 7070), ('127.0.30.2', 7070), ('127.0.30.3', 7070),
        (PROBE_ADDRESS, 22), (SE_LINUX_ADDRESS, 22)]
    assert all(state == 'Network is unreachable' for key, state in seen.items() if key[1] not in (7070, 22)), seen
    assert dns == sntp == 'Network is unreachable'
    # The probe host, in the site, reaches the site's DNS and COM.
    assert site.in_probe(sitenet.reachable, '127.0.53.53', 53, timeout=2, udp_probe=b'\0' * 12) == 'open'
    assert site.in_probe(sitenet.reachable, '127.0.44.1', 443, timeout=2) == 'open'


def test_checks_on_the_controller_fail_and_on_the_probe_hosts_pass(fresh_site, tmp_path):
    site = fresh_site
    _configure_all(site)
    inventory = _inventory(site, tmp_path, {
        'ip500-single': {'ipoffice_host': API['ip500-single'], 'validate_probe_host': 'probe-paramiko'},
        'scn': {'ipoffice_host': API['scn'], 'validate_probe_host': 'probe-ssh'},
        'se-primary': {'ipoffice_host': API['se-primary'], 'validate_probe_host': 'se-primary-linux'},
    }, {
        'probe-paramiko': _probe(site, 'paramiko'),
        'probe-ssh': _probe(site, 'ssh'),
        # The Server Edition Primary's own Linux, on its LAN1 address.
        'se-primary-linux': dict(_probe(site, 'paramiko'), ansible_host=SE_LINUX_ADDRESS),
    })

    # The same run with the checks on the controller: it cannot see the site.
    marks = _marks(site)
    proc, report, output = _run(site, tmp_path, inventory, 'validate.yml', '-e', 'validate_probe_host=localhost')
    assert proc.returncode != 0, output[-3000:]
    for name in LINK_NODES:
        entry = report_system(report, name)
        assert entry['verdict'] == 'not_ready'
        assert {'dns.server_reachable', 'time.source_reachable'} <= set(entry['failed_checks']), (name, entry['failed_checks'])
        assert 'Network is unreachable' in report_check(entry, 'dns.server_reachable')['hint']
        ports = report_check(entry, 'ports.not_run')
        assert ports['status'] == 'not_measured'
        assert ports['summary'] == 'not run: DNS gave no single address for the subscription server on the controller'
        assert {item['vantage_point'] for item in _network_checks(entry)} == {'the controller (localhost)'}
        # Nothing that needs the network passed (the zone's name is checked against the checking host's database).
        assert [item['check'] for item in _network_checks(entry) if item['status'] == 'pass'] == ['time.time_zone']
    assert report['fleet']['checked_from_controller'] == sorted(LINK_NODES)
    assert 'checked from the controller: %s - their network checks ran on the controller, so the verdict describes the ' \
           "controller's network, not the site's" % ', '.join(sorted(LINK_NODES)) in output
    assert _clients(site, marks) == (set(), set(), set(), set())

    # The same run with the checks on the probe hosts: ready, every check measured.
    marks = _marks(site)
    started = time.time() - 1
    proc, report, output = _run(site, tmp_path, inventory, 'validate.yml')
    assert proc.returncode == 0, output[-4000:]
    # The copies of the COM CA and the client identity the role put on the probe hosts are gone again.
    uid = pwd.getpwnam(PROBE_USER).pw_uid
    assert not [path for path in glob.glob('/tmp/ipoffice-validate-*')
                if os.stat(path).st_uid == uid and os.stat(path).st_mtime >= started]
    assert output.count('TASK [ipoffice.subscription.validate : Copy the files there]') == 1
    where = {'ip500-single': 'probe host probe-paramiko (198.18.0.6)', 'scn-1': 'probe host probe-ssh (198.18.0.6)',
             'scn-2': 'probe host probe-ssh (198.18.0.6)', 'scn-3': 'probe host probe-ssh (198.18.0.6)',
             'se-primary': 'probe host se-primary-linux (127.0.30.1)'}
    for name in LINK_NODES:
        entry = report_system(report, name)
        assert entry['verdict'] == 'ready' and entry['not_measured'] == [], (name, entry['not_measured'])
        assert entry['vantage_point']['text'] == where[name]
        network = _network_checks(entry)
        assert {item['vantage_point'] for item in network} == {where[name]}
        # TLS with the client identity, the WebSocket upgrade and the throughput, on a probe whose Python has only
        # its standard library.
        assert report_check(entry, 'tls.websocket')['status'] == 'pass'
        assert report_check(entry, 'quality.round_trip')['details']['method'] == 'websocket_ping'
        assert report_check(entry, 'quality.throughput')['status'] == 'pass'
        assert '%s (' % name in output and 'network checks from %s' % where[name] in output
    assert report['fleet']['checked_from_controller'] == [] and 'checked from the controller' not in output
    # The site saw the probe hosts: the probe host's address and the Primary's LAN1, and nobody else.
    dns_clients, storage_clients, com_clients, sntp_clients = _clients(site, marks)
    assert dns_clients == sntp_clients == {PROBE_ADDRESS}, (dns_clients, sntp_clients)
    assert storage_clients == com_clients == {PROBE_ADDRESS, SE_LINUX_ADDRESS}, (storage_clients, com_clients)
    assert not [entry for entry in site.lab.requests(marks['api']) if entry['write']]


def test_tls_inspection_seen_from_the_probe(fresh_site, tmp_path):
    site = fresh_site
    com_port(site.lab, 443, cert='rogue')
    com_port(site.lab, 8443, cert='rogue')
    site.lab.inside(configure, site.lab, 'ip500-single')
    inventory = _inventory(site, tmp_path, {
        'ip500-single': {'ipoffice_host': API['ip500-single'], 'validate_probe_host': 'probe-ssh'}},
        {'probe-ssh': _probe(site, 'ssh')})
    proc, report, output = _run(site, tmp_path, inventory)
    assert proc.returncode != 0
    entry = report_system(report, 'ip500-single')
    assert entry['verdict'] == 'not_ready' and 'tls.server_certificate' in entry['failed_checks']
    check = report_check(entry, 'tls.server_certificate')
    assert 'intercept' in check['hint'].lower() and check['vantage_point'] == 'probe host probe-ssh (198.18.0.6)'
    assert 'not ready for subscriptions: ip500-single' in output


def test_blocked_443_and_a_dns_without_avaya_sub_seen_from_the_probe(fresh_site, tmp_path):
    site = fresh_site
    com_port(site.lab, 443, mode='refuse')
    site.lab.inside(configure, site.lab, 'ip500-single', dns=LAB_DNS_WITHOUT_AVAYA)
    for name in ('scn-1', 'scn-2', 'scn-3'):
        site.lab.inside(configure, site.lab, name)
    wait_state(site.lab, 'scn-1', 'Connected')
    inventory = _inventory(site, tmp_path, {
        'ip500-single': {'ipoffice_host': API['ip500-single'], 'validate_probe_host': 'probe-paramiko'},
        'scn': {'ipoffice_host': API['scn'], 'validate_probe_host': 'probe-ssh'}},
        {'probe-paramiko': _probe(site, 'paramiko'), 'probe-ssh': _probe(site, 'ssh')})
    proc, report, output = _run(site, tmp_path, inventory)
    assert proc.returncode != 0
    single = report_system(report, 'ip500-single')
    assert single['verdict'] == 'not_ready' and 'dns.server_address' in single['failed_checks']
    assert 'avaya-sub.com' in report_check(single, 'dns.server_address')['hint']
    assert report_check(single, 'dns.server_address')['vantage_point'] == 'probe host probe-paramiko (198.18.0.6)'
    for name in ('scn-1', 'scn-2', 'scn-3'):
        entry = report_system(report, name)
        assert entry['verdict'] == 'ready', (name, entry['failed_checks'])
        assert entry['link']['port'] == 8443 and any('8443' in note for note in entry['notes'])
        assert report_check(entry, 'ports.443')['measured'] == 'refused'


def test_a_probe_host_that_cannot_run_the_checks_fails_them_naming_host_and_cause(fresh_site, tmp_path):
    site = fresh_site
    site.lab.inside(configure, site.lab, 'ip500-single')
    cases = {
        'unreachable': (dict(port=2200), 'SSH to 198.18.0.6:2200 cannot be reached'),
        'wrong-key': (dict(key=site.wrong_key), 'it refused the SSH key of user %s' % PROBE_USER),
        'host-key': (dict(port=MISMATCH_PORT), 'its SSH host key does not match the one known_hosts holds for 198.18.0.6:%d'
                     % MISMATCH_PORT),
        'unknown-key': (dict(port=UNKNOWN_KEY_PORT), 'its SSH host key is not in known_hosts'),
        'no-python': (dict(port=NO_PYTHON_PORT), 'it has no Python interpreter'),
    }
    hosts, probes, expected = {}, {}, {}
    for connection in ('paramiko', 'ssh'):
        for case, (options, cause) in cases.items():
            probe = 'probe-%s-%s' % (case, connection)
            hosts['bad-%s-%s' % (case, connection)] = {'ipoffice_host': API['ip500-single'], 'validate_probe_host': probe,
                                                       'lab_identity': 'ip500-single'}
            probes[probe] = _probe(site, connection, **options)
            port = options.get('port', 22)
            expected['bad-%s-%s' % (case, connection)] = 'the network checks could not run on probe host %s (198.18.0.6%s): %s' % (
                probe, '' if port == 22 else ' port %d' % port, cause)
    inventory = _inventory(site, tmp_path, hosts, probes)
    mark = site.lab.last_seq()
    proc, report, output = _run(site, tmp_path, inventory, 'validate.yml', '-f', '10')
    assert proc.returncode != 0
    for host, message in expected.items():
        entry = [item for item in report['systems'] if item['inventory_host'] == host][0]
        assert entry['verdict'] == 'not_ready' and entry['failed_checks'] == ['probe.reachable'], (host, entry['failed_checks'])
        network = _network_checks(entry)
        assert [item['check'] for item in network] == ['probe.reachable'] and network[0]['status'] == 'fail'
        assert network[0]['summary'].startswith(message), (host, network[0]['summary'])
        # The play's own failure for the host names the probe host and the cause too.
        assert 'not ready for subscriptions: ip500-single; %s' % message in output, host
    # The first contact is what failed, for every one of them; nothing was written to the IP Office.
    assert output.count('TASK [ipoffice.subscription.validate : Reach the probe host that runs the checks]') == 1
    assert not [entry for entry in site.lab.requests(mark) if entry['write']]
    assert 'Accepted publickey for %s' % PROBE_USER in site.sshd_log()


def test_a_probe_host_without_a_library_says_what_it_could_not_measure(fresh_site, tmp_path):
    """The probe's Python is Debian's bare one: the check modules bring everything else they need. The one thing a
    probe host may lack, the IANA time zone database, turns into a check that says it was not measured and why."""
    site = fresh_site
    playbook = tmp_path / 'bare.yml'
    playbook.write_text(yaml.safe_dump([{
        'name': 'checks on a bare probe host', 'hosts': 'probe-paramiko', 'gather_facts': False,
        'tasks': [
            {'name': 'Which libraries the probe host has', 'ansible.builtin.raw':
                'for m in netaddr dns websockets; do python3 -c "import $m" 2>/dev/null && echo "has $m"; done; true',
             'register': 'bare'},
            {'name': 'Check the time without a time zone database', 'ipoffice.subscription.time_check': {
                'server': '127.0.123.123', 'time_zone': 'Europe/London'},
             'environment': {'PYTHONTZPATH': '/nonexistent'}, 'register': 'notz', 'failed_when': False},
            {'name': 'Keep the results', 'ansible.builtin.copy': {
                'content': '{{ {"bare": bare.stdout, "notz": notz} | to_json }}', 'dest': str(tmp_path / 'out.json'),
                'mode': '0600'}, 'delegate_to': 'localhost', 'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'}},
        ]}]))
    inventory = _inventory(site, tmp_path, {}, {'probe-paramiko': _probe(site, 'paramiko')})
    proc, _report, output = _run(site, tmp_path, inventory, str(playbook))
    assert proc.returncode == 0, output[-3000:]
    found = json.loads((tmp_path / 'out.json').read_text())
    assert 'has ' not in found['bare']
    checks = dict((item['check'], item) for item in found['notz']['checks'])
    assert checks['time.source_reachable']['status'] == 'pass'
    assert checks['time.time_zone']['status'] == 'not_measured'
    assert checks['time.time_zone']['summary'] == 'not measured: this Python has no IANA time zone database (install tzdata)'
    assert found['notz']['passed'] is True and found['notz']['not_measured'] == ['time.time_zone']


def test_the_playbooks_leave_the_probe_hosts_out():
    """Probe hosts are in the inventory but are no IP Office: every play over all hosts ends them first (the
    runs above show it working for validate.yml)."""
    for name in ('validate.yml', 'site.yml', 'monitor.yml'):
        with open(os.path.join(REPO, 'playbooks', name)) as handle:
            plays = [play for play in yaml.safe_load(handle) if play.get('hosts') == 'all']
        assert plays, name
        for play in plays:
            first = play['pre_tasks'][0]
            assert first['ansible.builtin.meta'] == 'end_host', name
            assert first['when'] == "inventory_hostname in groups['ipoffice_probes'] | default([])", name
