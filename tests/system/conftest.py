# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""System tests: the real modules through ansible-playbook against the lab over
real sockets. They must run in a network namespace of their own (scripts/test
does that), so a default that names a public service fails at once."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
LABCTL = os.path.join(REPO, 'tests', 'lab', 'labctl.py')
CONTROL = 'http://127.0.0.1:7099'
# Lab-only credentials from tests/lab/topology.yml.
API_USER = 'apiadmin'
API_PASSWORD = 'Lab-Api-Passw0rd'
SE_PRIMARY = '127.0.30.1'
SCN_APP_SERVER = '127.0.20.1'
SINGLE_APP_SERVER = '127.0.10.1'


def _routes_leave_loopback():
    """True if this network namespace has any IPv4 route (other than loopback's own)."""
    with open('/proc/net/route') as handle:
        rows = handle.read().splitlines()[1:]
    return [row.split()[0] for row in rows if row.split() and row.split()[0] != 'lo']


CLONE_NEWNET = 0x40000000


def _own_network_namespace():
    """Move this process into a new network namespace with only loopback up.

    With pytest-xdist each worker calls this first, so every worker has its own
    127.0.0.0/8 and runs its own lab on the same fixed addresses and ports. A
    namespace belongs to the calling thread: the tests, the lab and every
    ansible-playbook they start run from this (main) thread and inherit it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, 'unshare(CLONE_NEWNET) failed: %s (the test command runs as root)' % os.strerror(errno))
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)


def pytest_configure(config):
    config.addinivalue_line('markers', 'local_only(reason): the test is about the local connection model only')
    config.addinivalue_line('markers', 'lab: a test of the lab itself (tests/lab), counted apart from the collection\'s tests')
    if os.environ.get('PYTEST_XDIST_WORKER') and os.environ.get('IPOFFICE_NETNS_PER_WORKER') == '1':
        _own_network_namespace()


def pytest_sessionstart(session):
    routed = _routes_leave_loopback()
    if routed and os.environ.get('IPOFFICE_ALLOW_HOST_NETWORK') != '1':
        pytest.exit('refusing to run the lab with routes off this machine (%s): run through scripts/test, which '
                    'uses a network namespace with only loopback up' % ', '.join(sorted(set(routed))), returncode=3)
    # The collection under test, for tests that use the client directly.
    tree = os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep)[0]
    if tree and tree not in sys.path:
        sys.path.insert(0, tree)


class Lab(object):
    def __init__(self, state):
        self.state = state
        self.ca_path = os.path.join(state, 'ca.pem')

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(CONTROL + path, data=data, method=method, headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=10) as resp:
            payload = resp.read()
        return json.loads(payload) if payload else None

    def reset(self):
        self.control('POST', '/lab/reset')

    def requests(self, since=0):
        return self.control('GET', '/lab/requests?since=%d' % since)

    def last_seq(self):
        entries = self.requests()
        return entries[-1]['seq'] if entries else 0

    def faults(self, listener, **switches):
        self.control('POST', '/lab/listeners/%s/faults' % listener, switches)

    def system(self, name):
        return self.control('GET', '/lab/systems/%s' % name)


@pytest.fixture(scope='session')
def lab():
    state = os.environ.get('IPOFFICE_LAB_STATE') or tempfile.mkdtemp(prefix='ipo-lab-')
    # One lab per xdist worker, each in its own network namespace (see pytest_configure).
    worker = os.environ.get('PYTEST_XDIST_WORKER')
    if worker:
        state = '%s-%s' % (state, worker)
    subprocess.run([sys.executable, LABCTL, 'stop', '--state', state], check=False, capture_output=True)
    started = subprocess.run([sys.executable, LABCTL, 'start', '--state', state, '--fresh'],
                             capture_output=True, text=True, check=False)
    if started.returncode != 0:
        pytest.fail('the lab did not start:\n%s\n%s' % (started.stdout, started.stderr))
    try:
        yield Lab(state)
    finally:
        subprocess.run([sys.executable, LABCTL, 'stop', '--state', state], check=False, capture_output=True)


@pytest.fixture(autouse=True)
def private_runtime_dir(tmp_path, monkeypatch):
    """Each test's ansible-playbook runs keep their locks and session slots (module_utils/locks.py) in a folder
    of the test's own: no session kept by one test's modules is offered to the next test's."""
    folder = tmp_path / 'run'
    folder.mkdir(mode=0o700)
    monkeypatch.setenv('XDG_RUNTIME_DIR', str(folder))
    return folder


def lab_log_size(lab):
    try:
        return os.path.getsize(os.path.join(lab.state, 'lab.log'))
    except OSError:
        return 0


def lab_tracebacks(lab, since):
    """Tracebacks the lab logged after byte offset since: a bug of the lab, which would look like a device error."""
    try:
        with open(os.path.join(lab.state, 'lab.log'), encoding='utf-8', errors='replace') as handle:
            handle.seek(since)
            text = handle.read()
    except OSError:
        return ''
    return text if 'Traceback (most recent call last)' in text else ''


@pytest.fixture
def fresh_lab(lab):
    lab.reset()
    since = lab_log_size(lab)
    yield lab
    # A test against a lab that broke inside proves nothing: the run fails when the lab logged a traceback.
    tracebacks = lab_tracebacks(lab, since)
    if tracebacks:
        pytest.fail('the lab logged a traceback during this test:\n%s' % tracebacks[-4000:])


class PlaybookRun(object):
    def __init__(self, proc, results):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results

    @property
    def output(self):
        return self.stdout + self.stderr


# The module tests run under both connection models (docs/connection.md): local, where each task logs in
# itself, and the httpapi connection, where the inventory host holds one session for the play.
BOTH_CONNECTIONS = ('test_dns', 'test_ip_route', 'test_service_user', 'test_subscription', 'test_subscription_status',
                    'test_system_info', 'test_time', 'test_learning')
API_MODULES = frozenset('ipoffice.subscription.%s' % name for name in (
    'api_profile_learn', 'dns', 'ip_route', 'service_user', 'subscription', 'subscription_status', 'system_info', 'time'))
# Module options that the httpapi connection supplies, and the inventory variable each becomes.
HTTPAPI_VARS = {'host': 'ansible_host', 'port': 'ansible_httpapi_port', 'username': 'ansible_user',
                'password': 'ansible_password', 'validate_certs': 'ansible_httpapi_validate_certs',
                'ca_path': 'ansible_httpapi_ca_path'}


def pytest_generate_tests(metafunc):
    if 'api_connection' in metafunc.fixturenames:
        module = metafunc.module.__name__.rsplit('.', 1)[-1]
        local_only = metafunc.definition.get_closest_marker('local_only') is not None
        models = ['local', 'httpapi'] if module in BOTH_CONNECTIONS and not local_only else ['local']
        metafunc.parametrize('api_connection', models, scope='function')


def httpapi_host_vars(options):
    """Inventory variables of an httpapi host for the module options that name an endpoint."""
    host_vars = {'ansible_connection': 'ansible.netcommon.httpapi', 'ansible_network_os': 'ipoffice.subscription.ipoffice',
                 'ansible_httpapi_use_ssl': True}
    for option, variable in HTTPAPI_VARS.items():
        if options.get(option) is not None:
            host_vars[variable] = options[option]
    return host_vars


def _without_endpoints(module_defaults):
    """module_defaults without the endpoint options, which the httpapi connection supplies."""
    return dict((key, dict((option, value) for option, value in values.items() if option not in HTTPAPI_VARS))
                for key, values in (module_defaults or {}).items())


def _through_httpapi(tasks, module_defaults, endpoints):
    """Each API task that names its endpoint runs delegated to an inventory host with that endpoint's
    connection variables instead; its endpoint options leave the task (the connection supplies them)."""
    defaults = {}
    for key, values in (module_defaults or {}).items():
        if key == 'group/ipoffice.subscription.api' or key in API_MODULES:
            defaults.update(dict((option, value) for option, value in values.items() if option in HTTPAPI_VARS))
    converted = []
    for task in tasks:
        task = dict(task)
        for key in ('block', 'rescue', 'always'):
            if key in task:
                task[key] = _through_httpapi(task[key], module_defaults, endpoints)
        module = next((key for key in task if key in API_MODULES), None)
        if module is not None:
            args = dict(defaults, **(task[module] or {}))
            options = dict((option, args.pop(option)) for option in list(args) if option in HTTPAPI_VARS)
            if options.get('host') is not None:
                name = 'ipo-%d' % (len(endpoints) + 1)
                key = json.dumps(options, sort_keys=True)
                name = endpoints.setdefault(key, (name, options))[0]
                task[module] = args
                task['delegate_to'] = name
        converted.append(task)
    return converted


def close_persistent_connections(folder):
    """Close what a run left open, as Ansible does for a play's own hosts: Ansible closes one persistent
    connection per play host, and the tests delegate to several endpoints from localhost. Without this an
    idle connection would log out 30 s later, inside the next test's request log."""
    if not os.path.isdir(str(folder)):
        return
    from ansible.module_utils.connection import Connection, ConnectionError as RpcError
    for name in os.listdir(str(folder)):
        path = os.path.join(str(folder), name)
        try:
            Connection(path).reset()
        except (RpcError, OSError):
            pass  # already closed


@pytest.fixture
def api_connection(request):
    """local, or httpapi for the tests in BOTH_CONNECTIONS (pytest_generate_tests)."""
    return getattr(request, 'param', 'local')


@pytest.fixture
def run_playbook(lab, tmp_path, api_connection):
    """Run tasks through ansible-playbook on localhost; each registered result
    named in `capture` is written to a JSON file and returned. Under the httpapi
    connection model, API tasks run through an httpapi inventory host each."""

    def run(tasks, capture=(), extra_args=(), env=None, module_defaults=None, play_vars=None):
        results_dir = tmp_path / 'results'
        results_dir.mkdir(exist_ok=True)
        dump = [{'name': 'Save %s' % name, 'ansible.builtin.copy': {
            'content': '{{ %s | to_json }}' % name, 'dest': str(results_dir / ('%s.json' % name)), 'mode': '0600'},
            'check_mode': False}  # the result must be saved in check mode too
            for name in capture]
        localhost = {'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'}
        inventory = {'all': {'hosts': {'localhost': localhost}}}
        endpoints = {}
        if api_connection == 'httpapi':
            tasks = _through_httpapi(tasks, module_defaults, endpoints)
            module_defaults = _without_endpoints(module_defaults)
            for name, options in endpoints.values():
                inventory['all']['hosts'][name] = httpapi_host_vars(options)
        play = {'name': 'system test', 'hosts': 'localhost', 'gather_facts': False,
                'vars': dict({'ansible_python_interpreter': '{{ ansible_playbook_python }}'}, **(play_vars or {})),
                'tasks': list(tasks) + dump}
        if module_defaults:
            play['module_defaults'] = module_defaults
        playbook = tmp_path / 'play.yml'
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
        inventory_path = tmp_path / 'inventory.yml'
        inventory_path.write_text(yaml.safe_dump(inventory, sort_keys=False))
        run_env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0',
                       ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
        run_env.update(env or {})
        sockets = tmp_path / 'pc'
        run_env['ANSIBLE_PERSISTENT_CONTROL_PATH_DIR'] = str(sockets)
        proc = subprocess.run(['ansible-playbook', '-i', str(inventory_path), str(playbook)] + list(extra_args),
                              capture_output=True, text=True, env=run_env, timeout=600, check=False)
        close_persistent_connections(sockets)
        results = {}
        for name in capture:
            path = results_dir / ('%s.json' % name)
            if path.exists():
                results[name] = json.loads(path.read_text())
        return PlaybookRun(proc, results)

    return run


RESOURCES = {'System': 'systems', 'IPRoute': 'iproutes', 'ServiceUser': 'serviceusers'}


def device_semantics(lab, monkeypatch, tmp_path, mode, systems=('ip500-single',), entities=('System',)):
    """Make lab systems apply a PUT by mode (merge or replace), and tell the collection so, as a user of such a
    release would: an API profile (through IPOFFICE_API_PROFILE) that says the device replaces."""
    for name in systems:
        lab.control('POST', '/lab/systems/%s/semantics' % name, dict((entity, mode) for entity in entities))
    if mode == 'replace':
        path = tmp_path / 'replacing-release.yml'
        path.write_text(yaml.safe_dump({'name': 'a release that replaces', 'extends': 'auto', 'resources': dict(
            (RESOURCES[entity], {'entity': entity, 'update': 'replace'}) for entity in entities)}))
        monkeypatch.setenv('IPOFFICE_API_PROFILE', str(path))


def connection(lab, host, **extra):
    """Module arguments for one lab API endpoint, verifying TLS against the lab CA."""
    args = dict(host=host, username=API_USER, password=API_PASSWORD, ca_path=lab.ca_path, timeout=10)
    args.update(extra)
    return args


def login_error(lab, user, password, host=SE_PRIMARY):
    """None if the lab accepts the login and a read of the node at `host`, else the client's error message."""
    from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
    try:
        with api.Client(host, user, password, ca_path=lab.ca_path, retries=0) as client:
            client.get('System', node_address=host)
    except api.IPOfficeError as exc:
        return str(exc)
    return None


# What a converged run still changes, all on the controller: each report is removed at the start of a
# run (so a failed run never leaves an earlier verdict standing) and written anew at its end.
REPORT_TASK = 'ipoffice.subscription.validate : Write the readiness report of the fleet'
REPORT_TASKS = frozenset((
    'ipoffice.subscription.validate : Remove the readiness report of an earlier run', REPORT_TASK,
    'ipoffice.subscription.monitor : Remove the monitoring report of an earlier run',
    # monitor writes its report with the validate role's shared sequence (roles/validate/tasks/verdict.yml)
    'ipoffice.subscription.validate : Write the monitoring report of the fleet',
))


def changed_tasks(output):
    """The tasks that reported a change in ansible-playbook's output, one entry per host (and loop item)."""
    task, changed = None, []
    for line in output.splitlines():
        if line.startswith('TASK ['):
            task = line[len('TASK ['):line.rindex(']')]
        elif line.startswith('changed: ['):
            changed.append(task)
    return changed


def only_the_reports_changed(output):
    """True when the run changed nothing but its reports, and wrote the readiness report."""
    changed = changed_tasks(output)
    return REPORT_TASK in changed and set(changed) <= REPORT_TASKS


def lab_writes(lab, start):
    """The writes the lab logged after request number `start` (lab.last_seq() before the run)."""
    return [entry for entry in lab.requests(start) if entry['write']]


def rerun_writes_nothing(lab, run_playbook, tasks, capture):
    """Run `tasks` again (what an earlier run applied) and prove from the lab's request log that they changed
    nothing: they read the device (so the proof is not an empty run) and wrote nothing, and each result in
    `capture` says changed: false. Returns the run's results."""
    start = lab.last_seq()
    run = run_playbook(tasks, capture=capture)
    assert sorted(run.results) == sorted(capture), run.output[-3000:]
    log = lab.requests(start)
    assert log, 'the repeated run sent no request at all, so it proves nothing:\n%s' % run.output[-3000:]
    assert [entry for entry in log if entry['write']] == [], 'the repeated run wrote to the device'
    for name in capture:
        assert run.results[name]['changed'] is False and not run.results[name].get('failed'), (name, run.results[name])
    return run.results


# --- two kinds of tests, counted apart ----------------------------------------------------------------------------
# Tests of the lab (the emulator under tests/lab: files test_lab_*.py, and files that set pytestmark = pytest.mark.lab)
# prove the stand-in for the real world; they say nothing about the collection, so the summary never adds them to the
# collection's tests. `-m lab` or `-m "not lab"` runs one kind.

LAB_TEST_PREFIX = 'test_lab_'
OUTCOMES = ('passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed')


def pytest_collection_modifyitems(config, items):
    for item in items:
        if os.path.basename(str(item.path)).startswith(LAB_TEST_PREFIX):
            item.add_marker(pytest.mark.lab)


def _kind(report):
    """'lab' or 'collection' for a test report (also for a file that failed to collect)."""
    if 'lab' in (getattr(report, 'keywords', None) or {}):
        return 'lab'
    return 'lab' if os.path.basename(report.nodeid.split('::')[0]).startswith(LAB_TEST_PREFIX) else 'collection'


def kind_counts(stats):
    """{'collection': {outcome: n}, 'lab': {outcome: n}} from pytest's terminal statistics: one count per test
    (a test that passed but failed in teardown counts as passed and as an error, as pytest's own summary does)."""
    counts = dict((kind, dict.fromkeys(OUTCOMES, 0)) for kind in ('collection', 'lab'))
    for outcome in OUTCOMES:
        for report in stats.get(outcome, []):
            if not hasattr(report, 'nodeid') or (outcome == 'passed' and getattr(report, 'when', 'call') != 'call'):
                continue
            counts[_kind(report)][outcome] += 1
    return counts


def summary_line(counts):
    parts = []
    for kind in ('collection', 'lab'):
        found = counts[kind]
        shown = ['%d %s' % (found[outcome], outcome if outcome != 'error' else 'errors') for outcome in OUTCOMES
                 if found[outcome] or outcome in ('passed', 'failed')]
        parts.append('%s tests: %s' % (kind, ', '.join(shown)))
    return '; '.join(parts)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if os.environ.get('PYTEST_XDIST_WORKER'):
        return
    terminalreporter.write_sep('=', summary_line(kind_counts(terminalreporter.stats)))
