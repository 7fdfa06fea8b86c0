# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets never leak: every playbook and every API module, at -vvvv, with
ANSIBLE_LOG_PATH set, with --diff, in check mode and with failures forced.

Each test makes passwords of its own (random per run), so a hit can only come
from this run. After each ansible-playbook run it scans, for every password in
plain form and as the Basic auth value base64("user:password"), and for the
body of the client identity's private key (validate_client_key):
- stdout and stderr, and the ANSIBLE_LOG_PATH log;
- every file under the run's work folder: the reports, the registered results,
  ansible's local and remote temp folders (ANSIBLE_LOCAL_TEMP, ANSIBLE_REMOTE_TMP)
  and TMPDIR all point there;
- every file in the lab's state folder (stored systems hold salted digests of
  the passwords, the request log and the server log hold none); for the key
  body, the lab's own key files are left out, as they are where the key lives;
- the lab's request log as the control API returns it.
The inputs (the inventory holding the passwords, as a vault would) live in a
folder of their own that is not scanned.

Every password is really used: the test proves each one works afterwards (a
login with it passes the password check), or that the device refused it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import time

import yaml

from conftest import API_PASSWORD, API_USER, REPO, SE_PRIMARY, login_error
from figures import record
from linklab import LAB_HOSTS, client, report_system

SE_NODES = ('127.0.30.1', '127.0.30.2', '127.0.30.3')
TEST_USER = 'secretsapi'
API_GROUP = 'Management API Group'
API_MODULES = ('dns', 'ip_route', 'time', 'subscription', 'service_user', 'system_info', 'subscription_status')


def _password(kind):
    """A password no other test uses, different on every run."""
    return 'Sec-%s-%s' % (kind, secrets.token_hex(10))


class Scanner(object):
    """Looks for every secret of one test in everything a run could have written."""

    def __init__(self, lab, tmp_path, passwords, users):
        self.lab = lab
        self.work = tmp_path / 'work'
        self.inputs = tmp_path / 'inputs'
        for folder in (self.work, self.inputs, self.work / 'tmp', self.work / 'local-tmp', self.work / 'remote-tmp'):
            folder.mkdir(parents=True, exist_ok=True)
        self.passwords = dict(passwords)
        self.users = list(users)
        # The client identity se-primary's checks present (lab.yml's lab_identity): its key must never show.
        self.key_file = os.path.join(lab.state, 'identities', LAB_HOSTS['se-primary']['lab_identity'] + '.key')

    def needles(self):
        """{what: text} for every secret: passwords, their Basic auth values, the client identity key's body lines."""
        found = {}
        for name, password in self.passwords.items():
            found['password %s' % name] = password
            for user in self.users:
                found['basic auth %s:%s' % (user, name)] = base64.b64encode(('%s:%s' % (user, password)).encode()).decode()
        return found

    def key_needles(self):
        if not os.path.exists(self.key_file):
            return {}
        with open(self.key_file) as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.startswith('-----')]
        return dict(('client key line %d' % number, line) for number, line in enumerate(lines) if len(line) >= 16)

    def env(self, name):
        return dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0',
                    ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
                    ANSIBLE_LOG_PATH=str(self.work / ('%s.log' % name)),
                    ANSIBLE_LOCAL_TEMP=str(self.work / 'local-tmp'), ANSIBLE_REMOTE_TMP=str(self.work / 'remote-tmp'),
                    TMPDIR=str(self.work / 'tmp'), IPOFFICE_LAB_STATE=self.lab.state)

    def run(self, name, args, timeout=600):
        """ansible-playbook ARGS -vvvv with the run's log and temp folders; scans everything; (process, output)."""
        start, started = self.lab.last_seq(), time.monotonic()
        proc = subprocess.run(['ansible-playbook', '-vvvv'] + list(args), capture_output=True, text=True,
                              env=self.env(name), timeout=timeout, check=False)
        output = proc.stdout + proc.stderr
        self.scan(name, output, start, time.monotonic() - started)
        return proc, output

    def _texts(self, output, start):
        """(where, text, holds the key legitimately) for everything a run could have written."""
        yield 'ansible-playbook output', output, False
        yield 'lab request log (control API)', json.dumps(self.lab.requests(start)), False
        for top in (str(self.work), self.lab.state):
            for folder, _dirs, files in os.walk(top):
                for file_name in files:
                    path = os.path.join(folder, file_name)
                    if not os.path.isfile(path):
                        continue
                    with open(path, 'rb') as handle:
                        text = handle.read().decode('utf-8', 'replace')
                    yield path, text, top == self.lab.state and file_name.endswith('.key')

    def scan(self, name, output, start, seconds):
        needles, key_needles = self.needles(), self.key_needles()
        assert key_needles, 'the client identity key %s was not found: nothing to look for' % self.key_file
        hits, files, size = [], 0, 0
        for where, text, holds_key in self._texts(output, start):
            files += 1
            size += len(text)
            looked_for = needles if holds_key else dict(needles, **key_needles)
            hits.extend('%s in %s' % (what, where) for what, needle in looked_for.items() if needle in text)
        assert hits == [], '%s: secrets found:\n%s' % (name, '\n'.join(hits))
        record('secrets', run=name, seconds=round(seconds, 1), files_scanned=files, bytes_scanned=size, hits=len(hits))

    def write_inventory(self, name, password, comadmin_password):
        """playbooks/inventory/lab.yml narrowed to se-primary, logging in as this test's user."""
        with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
            inventory = yaml.safe_load(handle)
        inventory['all']['vars'].update(
            ipoffice_username=TEST_USER, ipoffice_password=password, ipoffice_comadmin_password=comadmin_password,
            validate_report_dir=str(self.work / 'readiness'), monitor_report_dir=str(self.work / 'monitoring'),
            validate_wait_timeout=30)
        inventory['all']['children'] = {'server_edition': {'hosts': {'se-primary': dict(LAB_HOSTS['se-primary'], ipoffice_host=SE_PRIMARY)}}}
        path = self.inputs / ('%s.yml' % name)
        path.write_text(yaml.safe_dump(inventory))
        return str(path)

    def write_play(self, name, tasks):
        play = [{'name': name, 'hosts': 'localhost', 'gather_facts': False,
                 'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'}, 'tasks': tasks}]
        path = self.inputs / ('%s-play.yml' % name)
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        return ['-i', 'localhost,', '-c', 'local', str(path)]


def _api(lab, host, username, password, **extra):
    return dict(dict(host=host, username=username, password=password, ca_path=lab.ca_path, timeout=10), **extra)


def _task(module, args, register=None, **keywords):
    task = dict({'name': '%s %s' % (module, register or ''), 'ipoffice.subscription.%s' % module: args, 'ignore_errors': True},
                **keywords)
    if register:
        task['register'] = register
    return task


def _save(scanner, names):
    """Tasks that write registered results into the work folder (scanned too), even in check mode."""
    return [{'name': 'save %s' % name, 'ansible.builtin.copy': {
        'content': '{{ %s | to_json }}' % name, 'dest': str(scanner.work / ('%s.json' % name)), 'mode': '0600'},
        'check_mode': False} for name in names]


def _saved(scanner, name):
    return json.loads((scanner.work / ('%s.json' % name)).read_text())


def _prepare_playbook_user(lab, password, comadmin_password):
    """The test's API user on every Server Edition node (SE wants the same password on each), and COMAdmin
    disabled on the Primary so the prerequisites role must send its password. Through the client directly:
    service_user's own create and update runs are scanned in the module test."""
    with client(lab, SE_PRIMARY) as admin:
        for node in SE_NODES:
            admin.call('POST', 'serviceusers', node_address=node, objects=[('ServiceUser', {
                'Name': TEST_USER, 'Password': password, 'AccountStatus': 'Enabled', 'RightsGroups': API_GROUP})])
        comadmin = [u for u in admin.get('ServiceUser', node_address=SE_PRIMARY) if u['Name'] == 'COMAdmin'][0]
        admin.call('PUT', 'serviceusers', node_address=SE_PRIMARY, objects=[('ServiceUser', {
            '@GUID': comadmin['@GUID'], 'Name': 'COMAdmin', 'Password': comadmin_password, 'AccountStatus': 'Disabled',
            'RightsGroups': 'COM Admin Group'})])
    assert login_error(lab, TEST_USER, password) is None


def _comadmin(lab, name='se-primary'):
    return [u for u in lab.system(name)['config']['ServiceUser'] if u['Name'] == 'COMAdmin'][0]


def test_playbooks_leak_no_password_and_no_key(fresh_lab, tmp_path):
    """site.yml in check mode, then converging, validate.yml with the client key after the reboot, monitor.yml, and
    validate.yml with a wrong password (the read fails, the report says so): -vvvv, --diff, ANSIBLE_LOG_PATH."""
    passwords = {'api': _password('Api'), 'comadmin-old': _password('ComOld'), 'comadmin': _password('Com'),
                 'wrong': _password('Wrong'), 'lab-api': API_PASSWORD}
    scanner = Scanner(fresh_lab, tmp_path, passwords, [TEST_USER, API_USER, 'COMAdmin'])
    _prepare_playbook_user(fresh_lab, passwords['api'], passwords['comadmin-old'])
    assert _comadmin(fresh_lab)['AccountStatus'] == 'Disabled'
    inventory = scanner.write_inventory('good', passwords['api'], passwords['comadmin'])
    site = os.path.join(REPO, 'playbooks', 'site.yml')

    start = fresh_lab.last_seq()
    proc, output = scanner.run('site.yml --check --diff', ['-i', inventory, site, '--check', '--diff'])
    assert proc.returncode == 0, output[-4000:]
    assert [r for r in fresh_lab.requests(start) if r['write']] == []
    # The plan names the COMAdmin change and that a password goes with it, never the password.
    assert re.search(r'"fields": \[\s*"AccountStatus",\s*"Password"\s*\],\s*"item": "COMAdmin"', output), output[-4000:]

    start = fresh_lab.last_seq()
    proc, output = scanner.run('site.yml --diff', ['-i', inventory, site, '--diff'])
    # Converged; the DNS change waits for a reboot, so no node is ready yet (the report says why).
    assert proc.returncode == 2 and 'NOT READY - reboot.pending' in output, output[-4000:]
    assert {r['user'] for r in fresh_lab.requests(start) if r['resource'] != 'authenticate' and r.get('user')} == {TEST_USER}
    assert _comadmin(fresh_lab)['AccountStatus'] == 'Enabled'
    # The new COMAdmin password was set: it passes the password check (COMAdmin has no API rights: 403, not 401).
    assert 'Management API rights missing' in login_error(fresh_lab, 'COMAdmin', passwords['comadmin'])

    fresh_lab.control('POST', '/lab/reboot')
    proc, output = scanner.run('validate.yml', ['-i', inventory, os.path.join(REPO, 'playbooks', 'validate.yml'), '--diff'])
    assert proc.returncode == 0, output[-4000:]
    readiness = json.loads((scanner.work / 'readiness' / 'readiness.json').read_text())
    # Ready means tls_check completed mutual TLS with the system's identity key (validate_client_key).
    assert report_system(readiness, 'se-primary')['verdict'] == 'ready'

    proc, output = scanner.run('monitor.yml', ['-i', inventory, os.path.join(REPO, 'playbooks', 'monitor.yml'), '--diff'])
    assert proc.returncode == 0, output[-4000:]
    monitoring = json.loads((scanner.work / 'monitoring' / 'monitoring.json').read_text())
    assert report_system(monitoring, 'se-primary')['verdict'] == 'ready'

    # A failure forced: the device rejects the password; the role writes the rejection into its report.
    wrong = scanner.write_inventory('wrong', passwords['wrong'], passwords['comadmin'])
    start = fresh_lab.last_seq()
    proc, output = scanner.run('validate.yml, wrong password', ['-i', wrong, os.path.join(REPO, 'playbooks', 'validate.yml'), '--diff'])
    assert proc.returncode != 0 and 'rejected the user name or password' in output, output[-4000:]
    assert [r['http_status'] for r in fresh_lab.requests(start) if r['resource'] == 'authenticate'] == [401]
    readiness = json.loads((scanner.work / 'readiness' / 'readiness.json').read_text())
    assert 'rejected the user name or password' in json.dumps(readiness)


def _faults_task(listener, **switches):
    """A task that sets lab faults from inside the play, between two module calls."""
    return {'name': 'lab faults %s' % ', '.join('%s=%s' % item for item in sorted(switches.items())), 'ansible.builtin.uri': {
        'url': 'http://127.0.0.1:7099/lab/listeners/%s/faults' % listener, 'method': 'POST', 'body_format': 'json',
        'body': switches}}


def test_each_api_module_leaks_no_password_when_it_fails(fresh_lab, tmp_path):
    """service_user creates the test's user, changes its password, and plans another change in check mode; then
    every API module fails: each configuration module at its write (answered 500, after the diff was computed),
    the others on every call; -vvvv, --diff, ANSIBLE_LOG_PATH."""
    passwords = {'first': _password('First'), 'api': _password('Api'), 'check': _password('Check'),
                 'new-user': _password('NewUser'), 'lab-api': API_PASSWORD}
    scanner = Scanner(fresh_lab, tmp_path, passwords, [TEST_USER, API_USER, 'newuser'])
    as_admin = _api(fresh_lab, SE_PRIMARY, API_USER, API_PASSWORD, node_address=SE_PRIMARY)
    user = {'name': TEST_USER, 'rights_groups': [API_GROUP]}
    setup = [_task('service_user', dict(as_admin, config=[dict(user, password=passwords['first'])]), register='create'),
             _task('service_user', dict(as_admin, config=[dict(user, password=passwords['api'])], update_password='always'),
                   register='update'),
             _task('service_user', dict(as_admin, config=[dict(user, password=passwords['check'])], update_password='always'),
                   register='check', check_mode=True)]
    good = _api(fresh_lab, SE_PRIMARY, TEST_USER, passwords['api'], retries=0, node_address=SE_PRIMARY)
    # A real change for each configuration module, so each gets as far as its write.
    config_modules = [
        _task('dns', dict(good, server='127.0.53.53', state='merged'), register='dns'),
        _task('ip_route', dict(good, config=[{'ip_address': '0.0.0.0', 'ip_mask': '0.0.0.0', 'gateway': '127.0.30.254',
                                              'destination': 'LAN1'}], state='merged'), register='ip_route'),
        _task('time', dict(good, source='SNTP', server='127.0.123.123', time_zone='Europe/London', state='merged'), register='time'),
        _task('subscription', dict(good, customer_id='LAB-0001', server_address='admin.lab1.avaya-sub.com', state='merged'),
              register='subscription'),
    ]
    every_call = [
        _task('service_user', dict(good, config=[{'name': 'newuser', 'password': passwords['new-user'], 'rights_groups': [API_GROUP]}]),
              register='service_user'),
        _task('system_info', dict(good), register='system_info'),
        _task('subscription_status', dict(good), register='subscription_status'),
    ]
    failing = [task['register'] for task in config_modules + every_call]
    assert sorted(failing) == sorted(API_MODULES)
    tasks = (setup + [_faults_task(SE_PRIMARY, http_500_write_count=100)] + config_modules +
             [_faults_task(SE_PRIMARY, http_500_write_count=0, http_500_count=100)] + every_call +
             [_faults_task(SE_PRIMARY, http_500_count=0)])
    start = fresh_lab.last_seq()
    proc, output = scanner.run('every API module failing', ['--diff'] + scanner.write_play(
        'failing', tasks + _save(scanner, ['create', 'update', 'check'] + failing)))
    assert proc.returncode == 0, output[-3000:]
    expected = {'create': ('POST', ['AccountStatus', 'Name', 'Password', 'RightsGroups']), 'update': ('PUT', ['Password']),
                'check': ('PUT', ['Password'])}
    for name, (method, fields) in expected.items():
        result = _saved(scanner, name)
        assert not result.get('failed') and result['changed'], (name, result.get('msg'))
        assert result['operations'] == [{'method': method, 'item': TEST_USER, 'fields': fields}], (name, result['operations'])
    for name in failing:
        result = _saved(scanner, name)
        assert result.get('failed') and 'HTTP 500' in result['msg'], (name, result.get('msg'))
    log = fresh_lab.requests(start)
    # Each configuration module reached its write; the user was created, its password changed (not by check mode).
    assert {r['resource'] for r in log if r.get('fault') == 'http_500_write'} == {'systems', 'iproutes'}
    # The user's new password opened the session its modules shared (a session the device would not log out is reused).
    assert TEST_USER in [r['user'] for r in log if r['resource'] == 'authenticate' and r['http_status'] == 200]
    assert len([r for r in log if r['user'] == TEST_USER and r['resource'] not in ('authenticate', None)]) >= 4
    assert login_error(fresh_lab, TEST_USER, passwords['api']) is None
    assert 'rejected the user name or password' in login_error(fresh_lab, TEST_USER, passwords['first'])
    assert 'rejected the user name or password' in login_error(fresh_lab, 'newuser', passwords['new-user'])
