# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The httpapi connection (plugins/httpapi/ipoffice.py) through ansible-playbook against the lab: one session
per inventory host for the run, renewed once when it expires, a rejected password never sent again,
configuration reads shared within a play but never a write planned from one, and nothing secret in the
persistent connection's own log."""

from __future__ import annotations

import collections
import json
import os
import subprocess

import ansible
import yaml

from conftest import API_PASSWORD, API_USER, CONTROL, SCN_APP_SERVER, SE_PRIMARY, SINGLE_APP_SERVER, close_persistent_connections

ENDPOINTS = {'single': SINGLE_APP_SERVER, 'scn': SCN_APP_SERVER, 'se': SE_PRIMARY}


def _inventory(lab, tmp_path, password=API_PASSWORD, endpoints=None):
    hosts = dict((name, {'ansible_host': address}) for name, address in (endpoints or ENDPOINTS).items())
    common = {'ansible_connection': 'ansible.netcommon.httpapi', 'ansible_network_os': 'ipoffice.subscription.ipoffice',
              'ansible_httpapi_use_ssl': True, 'ansible_httpapi_ca_path': lab.ca_path, 'ansible_user': API_USER,
              'ansible_password': password, 'ansible_python_interpreter': '{{ ansible_playbook_python }}'}
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump({'all': {'vars': common, 'hosts': hosts}}))
    return str(path)


def _play(tmp_path, plays, inventory, *args, env=None, before_close=None):
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    sockets = str(tmp_path / 'pc')
    run_env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0',
                   ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=sockets, **(env or {}))
    proc = subprocess.run(['ansible-playbook', '-i', inventory, str(playbook)] + list(args), capture_output=True,
                          text=True, env=run_env, timeout=600, check=False)
    if before_close:
        before_close(sockets)
    close_persistent_connections(sockets)
    return proc


def _logins(lab, start):
    return collections.Counter(r['listener'] for r in lab.requests(start) if r['resource'] == 'authenticate' and r['method'] == 'GET')


def _api_play(name, tasks):
    return {'name': name, 'hosts': 'all', 'gather_facts': False, 'tasks': tasks}


def test_one_login_per_host_for_every_play_and_task_of_the_run(fresh_lab, tmp_path):
    start = fresh_lab.last_seq()
    reads = [{'name': 'read', 'ipoffice.subscription.system_info': {'gather_subset': ['system']}},
             {'name': 'status', 'ipoffice.subscription.subscription_status': {}}]
    run = _play(tmp_path, [_api_play('one', reads), _api_play('two', reads)], _inventory(fresh_lab, tmp_path), '--forks', '3')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert _logins(fresh_lab, start) == dict((address, 1) for address in ENDPOINTS.values())
    # The connection logs out when it closes (the Application Server of the single system refuses, as some builds do).
    logouts = collections.Counter(r['listener'] for r in fresh_lab.requests(start)
                                  if r['resource'] == 'authenticate' and r['method'] == 'DELETE')
    assert logouts == dict((address, 1) for address in ENDPOINTS.values()), logouts
    assert API_PASSWORD not in run.stdout + run.stderr


def _connection_processes(marker):
    """The processes whose command line names marker, with the kinds of file each holds open."""
    found = {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as stream:
                if marker.encode() not in stream.read():
                    continue
            fds = os.listdir('/proc/%s/fd' % pid)
            found[int(pid)] = sorted(os.readlink('/proc/%s/fd/%s' % (pid, fd)).split(':')[0] for fd in fds)
        except OSError:
            continue  # ended meanwhile
    return found


def test_the_connection_starts_in_a_fork_of_the_worker_that_holds_none_of_its_files(fresh_lab, tmp_path):
    """No ansible-core stub interpreter per host (plugins/plugin_utils/persistent_start.py), and the forked
    process keeps none of the worker's pipes: ansible-playbook's output would stay open until it idles out."""
    stub_runs = tmp_path / 'stub-runs'
    stub = tmp_path / 'counting_stub.py'
    real = os.path.join(os.path.dirname(ansible.__file__), 'cli', 'scripts', 'ansible_connection_cli_stub.py')
    stub.write_text('import runpy, sys\nopen(%r, "a").write("run\\n")\nsys.argv[0] = %r\nrunpy.run_path(%r, run_name="__main__")\n'
                    % (str(stub_runs), real, real))
    reads = [{'name': 'read', 'ipoffice.subscription.system_info': {'gather_subset': ['system']}}]
    seen = {}

    def look(sockets):
        seen['sockets'] = sorted(os.listdir(sockets))
        seen['processes'] = _connection_processes(str(tmp_path / 'play.yml'))

    start = fresh_lab.last_seq()
    run = _play(tmp_path, [_api_play('one', reads)], _inventory(fresh_lab, tmp_path), '--forks', '3',
                env={'_ANSIBLE_CONNECTION_PATH': str(stub)}, before_close=look)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert not stub_runs.exists(), 'ansible-core started its stub: %s' % stub_runs.read_text()
    assert _logins(fresh_lab, start) == dict((address, 1) for address in ENDPOINTS.values())
    # ansible-playbook has ended; what still names its playbook is one connection process per host.
    assert len([name for name in seen['sockets'] if not name.startswith('.')]) == len(ENDPOINTS), seen
    assert len(seen['processes']) == len(ENDPOINTS), seen
    for kinds in seen['processes'].values():
        assert 'pipe' not in kinds, seen


def test_an_expired_session_is_renewed_once_mid_play(fresh_lab, tmp_path):
    expire = {'name': 'the sessions expire', 'ansible.builtin.uri': {
        'url': '%s/lab/listeners/%s/faults' % (CONTROL, SE_PRIMARY), 'method': 'POST', 'body_format': 'json',
        'body': {'expire_sessions': True}}, 'delegate_to': 'localhost', 'vars': {'ansible_connection': 'local'}}
    # The link's status is read from the device by every task (configuration reads are shared within a play).
    read = {'ipoffice.subscription.subscription_status': {}}
    stats = tmp_path / 'stats.json'
    tasks = [dict(read, name='first', register='first'), expire, dict(read, name='second', register='second'),
             dict(read, name='third', register='third'),
             {'name': 'save', 'delegate_to': 'localhost', 'vars': {'ansible_connection': 'local'}, 'ansible.builtin.copy': {
                 'content': '{{ [first.api_stats, second.api_stats, third.api_stats] | to_json }}', 'dest': str(stats),
                 'mode': '0600'}}]
    start = fresh_lab.last_seq()
    run = _play(tmp_path, [_api_play('expiry', tasks)], _inventory(fresh_lab, tmp_path, endpoints={'se': SE_PRIMARY}))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    log = [(r['resource'], r['method'], r['http_status']) for r in fresh_lab.requests(start) if r['listener'] == SE_PRIMARY]
    # The second task meets the expiry once, has the session renewed, and retries its read; the third uses it.
    assert _logins(fresh_lab, start) == {SE_PRIMARY: 2}, log
    first, second, third = json.loads(stats.read_text())
    assert (first['logins'], second['relogins'], second['logins'], third['logins'], third['relogins']) == (1, 1, 1, 0, 0)


def test_a_wrong_password_is_sent_once_per_host_and_each_host_reports_it(fresh_lab, tmp_path):
    tasks = [{'name': 'read', 'ipoffice.subscription.system_info': {'gather_subset': ['system']}, 'ignore_errors': True},
             {'name': 'read again', 'ipoffice.subscription.system_info': {'gather_subset': ['system']}}]
    start = fresh_lab.last_seq()
    run = _play(tmp_path, [_api_play('wrong password', tasks)],
                _inventory(fresh_lab, tmp_path, password='Wrong-Passw0rd-1'), '--forks', '3')
    assert run.returncode == 2
    # Two tasks per host, one attempt per host: the second task is refused without asking the device again.
    assert _logins(fresh_lab, start) == dict((address, 1) for address in ENDPOINTS.values())
    for host in ENDPOINTS:
        assert run.stdout.count('fatal: [%s]' % host) == 2, run.stdout[-3000:]
    assert 'rejected the user name or password' in run.stdout
    assert 'the password was not sent again' in run.stdout
    assert 'Wrong-Passw0rd-1' not in run.stdout + run.stderr
    # The account is not locked: the right password still works at once.
    again = _play(tmp_path, [_api_play('right password', tasks[1:])], _inventory(fresh_lab, tmp_path))
    assert again.returncode == 0, again.stdout[-3000:]


def test_a_task_that_names_an_endpoint_option_is_refused_before_any_request(fresh_lab, tmp_path):
    tasks = [{'name': 'read', 'ipoffice.subscription.system_info': {'host': SE_PRIMARY, 'gather_subset': ['system']}}]
    start = fresh_lab.last_seq()
    run = _play(tmp_path, [_api_play('both', tasks)], _inventory(fresh_lab, tmp_path, endpoints={'se': SE_PRIMARY}))
    assert run.returncode == 2
    assert 'this host uses the httpapi connection, which supplies' in run.stdout and 'the task also gives host' in run.stdout
    assert fresh_lab.requests(start) == []


def test_the_persistent_connection_log_holds_no_password(fresh_lab, tmp_path):
    comadmin = 'Com-Secret-%s' % os.getpid()
    tasks = [{'name': 'COMAdmin', 'ipoffice.subscription.service_user': {
        'node_address': '127.0.30.1', 'config': [{'name': 'COMAdmin', 'password': comadmin, 'account_status': 'Enabled'}],
        'update_password': 'always', 'state': 'merged'}}]
    log = tmp_path / 'ansible.log'
    run = _play(tmp_path, [_api_play('log', tasks)], _inventory(fresh_lab, tmp_path, endpoints={'se': SE_PRIMARY}), '-vvvv',
                env={'ANSIBLE_LOG_PATH': str(log), 'ANSIBLE_PERSISTENT_LOG_MESSAGES': 'True'})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    text = log.read_text()
    assert 'jsonrpc request' in text  # the persistent connection's messages are there to scan
    for secret in (API_PASSWORD, comadmin):
        assert secret not in text and secret not in run.stdout + run.stderr


def test_configuration_reads_are_shared_within_a_play_and_a_write_is_planned_from_the_device(fresh_lab, tmp_path):
    node = '127.0.30.1'
    # The node's own System object: what the time module reads before it writes.
    read = {'ipoffice.subscription.system_info': {'gather_subset': ['system'], 'node_address': node}}
    local = {'delegate_to': 'localhost', 'vars': {'ansible_connection': 'local'}}
    # Someone else (Web Manager, another tool) changes the time zone between two tasks of the play.
    elsewhere = dict(local, name='someone else writes', **{'ipoffice.subscription.time': {
        'host': SE_PRIMARY, 'username': API_USER, 'password': API_PASSWORD, 'ca_path': fresh_lab.ca_path, 'node_address': node,
        'time_zone': 'Europe/Paris', 'state': 'merged'}})
    ours = {'name': 'ours', 'register': 'ours', 'ipoffice.subscription.time': {'node_address': node, 'time_zone': 'Europe/Berlin',
                                                                               'state': 'merged'}}
    stats = tmp_path / 'stats.json'
    save = dict(local, name='save', **{'ansible.builtin.copy': {
        'content': '{{ {"first": first.api_stats, "second": second.api_stats, "ours": ours.api_stats, "ours_diff": ours.diff,'
                   ' "after": after.api_stats, "after_zone": (after.systems | selectattr("node_address", "equalto", "%s")'
                   ' | first).time.time_zone, "next_play": next_play.api_stats} | to_json }}' % node,
        'dest': str(stats), 'mode': '0600'}})
    plays = [_api_play('share', [dict(read, name='first', register='first'), dict(read, name='second', register='second'),
                                 elsewhere, ours, dict(read, name='after', register='after')]),
             _api_play('next', [dict(read, name='next play', register='next_play'), save])]
    start = fresh_lab.last_seq()
    run = _play(tmp_path, plays, _inventory(fresh_lab, tmp_path, endpoints={'se': SE_PRIMARY}), '--diff')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    seen = json.loads(stats.read_text())
    # The second read of the play asks the device nothing; the first one did.
    assert seen['first']['requests'] >= 1 and seen['first']['shared_reads'] == 0
    assert (seen['second']['requests'], seen['second']['shared_reads']) == (0, 1)
    # Our write: the shared read (before the change elsewhere) showed a change to make, so the task read the
    # device again and planned from that: its diff starts from Europe/Paris, which only the device knew.
    assert seen['ours']['shared_reads'] == 1 and seen['ours']['writes'] == 1
    assert 'Europe/Paris' in json.dumps(seen['ours_diff']) and seen['after_zone'] == 'Europe/Berlin'
    # After the write, the next task gets the writer's read-back (the device as written); the next play reads again.
    assert (seen['after']['requests'], seen['after']['shared_reads']) == (0, 1)
    assert seen['next_play']['requests'] >= 1 and seen['next_play']['shared_reads'] == 0
    log = [(r['method'], r['resource']) for r in fresh_lab.requests(start) if r['listener'] == SE_PRIMARY and r['resource'] != 'authenticate']
    writes = [index for index, entry in enumerate(log) if entry[0] == 'PUT']
    # Between the two writes: the other tool's read-back, then our own read of the device.
    assert len(writes) == 2 and log[writes[0] + 1:writes[1]] == [('GET', 'systems'), ('GET', 'systems')], log
