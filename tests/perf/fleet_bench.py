#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleet benchmark: what a rollout to N sites costs, next to what Ansible itself costs.

    fleet_bench.py [--systems 50] [--forks 10] [--output DIR] [--strict]
                   [--max-logins-per-host N] [--max-reads-per-host N]
                   [--compare-with REF] [--connection local|httpapi]

Starts the lab with N single IP500 V2 systems (each behind its own Application
Server address on loopback) and runs, with the given number of forks:

  1. converge    playbooks/site.yml on fresh systems; it ends NOT READY because
                 the DNS change acts only after a reboot, which the bench then
                 makes (the lab's maintenance window, POST /lab/reboot)
  2. idempotent  playbooks/site.yml again
  3. validate    playbooks/validate.yml on the healthy fleet
  4. floor       a playbook with the same hosts and, per host, as many tasks as
                 run 2 executed, each ansible.builtin.ping on the same (local)
                 connection: the least Ansible itself costs for that much work

It prints the wall time of each, the ratios 2/4 and 1/4, per host logins,
reads and writes of runs 1 and 2 from the lab's request log, module
invocations per host, and the lab's health under that load: how old the last
heartbeat answer of any connected link was (sampled every few seconds during
each run) against the heartbeat interval. Everything also goes to
DIR/summary.json.

--links-only measures the lab alone (the target: N systems with live links in
one process): it configures site-001 with the prerequisites role, copies its
stored state to every other site, restarts the lab, waits until every link
is connected and samples the heartbeats for --soak seconds.

Each run also reports the CPU seconds of ansible-playbook and everything it
started (RUSAGE_CHILDREN deltas; this process is a child subreaper, so what
detaches, like a persistent connection, is counted once it exits), the lab's
CPU seconds and the 1-minute load average at its start and end.

--compare-with REF exports the collection at git commit REF (git archive) and
measures it ('old', local connection) and the current tree ('new', with
--connection local or httpapi) alternating step by step: old converge, new
converge, new idempotent, old idempotent, old validate, new validate, new
floor, old floor (who goes first alternates too, against the load drifting
the same way through the invocation). Each side has a network
namespace and a fresh lab of its own, its own tree's (tests/lab), with the
same sites: a collection meets the lab of its time. summary.md starts
with a side-by-side table: per run old, new and new/old of wall time and CPU
seconds, logins, reads and writes per host, and the load averages.

--strict exits 1 when the idempotent run wrote anything on any system, made
more logins on a system than API module invocations, made more logins or
reads per host than --max-logins-per-host / --max-reads-per-host (new side
only with --compare-with), or a run failed (scripts/test's perf stage).
Times are reported, never asserted.

It must run in a network namespace with only loopback up; run as root outside
one, it re-executes itself under `unshare -n`. The lab uses fixed addresses and
the control port 7099: never two labs in one namespace.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import datetime
import http.client
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_TOPOLOGY = os.path.join(REPO, 'tests', 'lab', 'topology.yml')
CONTROL = ('127.0.0.1', 7099)
API_MODULES_PREFIX = 'ipoffice.subscription.'
# The modules that talk to the Management API (meta/runtime.yml's action group).
API_MODULES = {'dns', 'ip_route', 'service_user', 'subscription', 'subscription_status', 'system_info', 'time'}
NETNS_MARK = 'IPOFFICE_PERF_NETNS'
# Action plugins that run on the controller only, never a module: the floor matches them with set_fact.
CONTROLLER_ONLY = {'ansible.builtin.assert', 'ansible.builtin.set_fact', 'ansible.builtin.debug', 'ansible.builtin.fail',
                   'ansible.builtin.meta', 'ansible.builtin.include_tasks', 'ansible.builtin.import_tasks'}


# --- network namespace ----------------------------------------------------------

def routes_leave_loopback():
    with open('/proc/net/route', encoding='utf-8') as handle:
        rows = handle.read().splitlines()[1:]
    return [row.split()[0] for row in rows if row.split() and row.split()[0] != 'lo']


def ensure_own_namespace():
    """Re-exec under `unshare -n` with lo up unless this namespace has only loopback."""
    if not routes_leave_loopback():
        subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=False, capture_output=True)
        return
    if os.environ.get(NETNS_MARK) == '1':
        sys.exit('still routes off loopback after unshare -n: refusing to run')
    if os.geteuid() != 0:
        sys.exit('run as root (the benchmark makes a network namespace with only loopback up)')
    env = dict(os.environ, **{NETNS_MARK: '1'})
    script = 'ip link set lo up && exec "$@"'
    os.execvpe('unshare', ['unshare', '-n', 'sh', '-c', script, 'sh', sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)


CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36


def _libc_call(name, *arguments):
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*arguments) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, '%s failed: %s' % (name, os.strerror(errno)))


class NetNamespace(object):
    """A network namespace with only loopback up, held by an open file (no process needs to live in it).

    --compare-with runs each side's lab in a namespace of its own (the lab's addresses and control port are
    fixed). A namespace belongs to the calling thread: enter() moves the main thread, and every process and
    thread (the heartbeat sampler) it starts afterwards is in that namespace too.
    """

    def __init__(self, handle):
        self.handle = handle

    @classmethod
    def current(cls):
        return cls(os.open('/proc/thread-self/ns/net', os.O_RDONLY))

    @classmethod
    def new(cls):
        back = cls.current()
        try:
            _libc_call('unshare', CLONE_NEWNET)
            subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True, capture_output=True)
            if routes_leave_loopback():
                sys.exit('a new network namespace has routes off loopback: refusing to run')
            return cls.current()
        finally:
            back.enter()
            back.close()

    def enter(self):
        _libc_call('setns', self.handle, CLONE_NEWNET)

    def close(self):
        os.close(self.handle)


# --- CPU seconds of ansible-playbook and everything it starts ------------------------

def become_subreaper():
    """Processes that detach from ansible-playbook (a persistent connection's ansible-connection) are
    re-parented to this process instead of init, so their CPU time counts in RUSAGE_CHILDREN once reaped."""
    try:
        _libc_call('prctl', PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        return True
    except OSError:
        return False


def children_alive(excluded):
    """Pids of live processes whose parent is this process, but for those in excluded (the labs)."""
    own, found = os.getpid(), []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) in excluded:
            continue
        try:
            with open('/proc/%s/stat' % entry, encoding='utf-8') as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == own and fields[0] != 'Z':
            found.append(int(entry))
    return found


def reap(excluded, timeout):
    """Reap every exited child; wait up to timeout seconds for the others (but the labs) to exit.
    Returns the pids still running then."""
    deadline = time.monotonic() + timeout
    while True:
        while True:
            try:
                pid, dummy = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
        alive = children_alive(excluded)
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid):
    """User + system CPU seconds of one live process (the lab), or None."""
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
        return sum(int(value) for value in fields[11:13]) / float(os.sysconf('SC_CLK_TCK'))
    except (OSError, ValueError, IndexError, TypeError):
        return None


def load_1m():
    return round(os.getloadavg()[0], 2)


# --- topology and inventory -------------------------------------------------------

def site_addresses(index):
    """(API address, LAN1 address, LAN1 gateway) of site number index (0-based): 127.1.X.Y, 127.2.X.Y."""
    third, fourth = 10 + index // 200, index % 200 + 1
    return '127.1.%d.%d' % (third, fourth), '127.2.%d.%d' % (third, fourth), '127.2.%d.254' % third


def write_topology(path, count, root=REPO):
    """root's default topology's users and world with N single IP500 V2 deployments instead of its own."""
    with open(os.path.join(root, 'tests', 'lab', 'topology.yml'), encoding='utf-8') as handle:
        topology = yaml.safe_load(handle)
    deployments = []
    for index in range(count):
        api, lan1, dummy = site_addresses(index)
        name = 'site-%03d' % (index + 1)
        deployments.append({'name': name, 'kind': 'application-server', 'address': api,
                            'systems': [{'name': name, 'type': 'IP500 V2', 'lan1': lan1 + '/24', 'registered': True}]})
    topology['deployments'] = deployments
    # COM accepts only registered systems: the sites are the lab inventory's customer's, in place of the default ones.
    # (A lab from before COM knew registrations, an older tree's with --compare-with, has no such list.)
    customer = topology['world']['com']['customers'][lab_inventory_vars(root)['ipoffice_customer_id']]
    if 'systems' in customer:
        customer['systems'] = [deployment['name'] for deployment in deployments]
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(topology, handle, sort_keys=False)


def lab_inventory_vars(root=REPO):
    """The group vars of root's playbooks/inventory/lab.yml."""
    with open(os.path.join(root, 'playbooks', 'inventory', 'lab.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)['all']['vars']


def write_inventory(path, count, state, root=REPO, connection='local', api_port=7070):
    """Like root's playbooks/inventory/lab.yml, for the generated sites, on the given connection.

    local: ansible_connection local, the modules reach ipoffice_host themselves (as today).
    httpapi: the host is the API address and ansible.netcommon.httpapi with the network OS
    ipoffice.subscription.ipoffice carries the session, with the standard variables a Machine or
    Network credential supplies (ansible_user, ansible_password) and netcommon's TLS options.
    """
    variables = lab_inventory_vars(root)
    variables['ipoffice_ca_path'] = os.path.join(state, 'ca.pem')
    variables.pop('ipoffice_default_gateways', None)
    # Whatever root's inventory says, the connection is the one asked for.
    replaced = [name for name in variables if name.startswith('ansible_httpapi_')]
    for name in replaced + ['ansible_network_os', 'ansible_host', 'ansible_user', 'ansible_password']:
        variables.pop(name, None)
    if connection == 'httpapi':
        ca_path = variables['ipoffice_ca_path']
        variables.update({
            'ansible_connection': 'ansible.netcommon.httpapi',
            'ansible_network_os': 'ipoffice.subscription.ipoffice',
            'ansible_httpapi_port': api_port,
            'ansible_user': variables['ipoffice_username'],
            'ansible_password': variables['ipoffice_password'],
            'ansible_httpapi_use_ssl': True,
            'ansible_httpapi_validate_certs': True,
            'ansible_httpapi_ca_path': ca_path,
        })
        # The connection supplies the endpoint and the credentials (docs/connection.md): the ipoffice_*
        # names go, and the lab paths derived from ipoffice_ca_path become plain paths.
        for name in ('ipoffice_username', 'ipoffice_password', 'ipoffice_ca_path'):
            variables.pop(name)
        for name, value in list(variables.items()):
            if isinstance(value, str):
                variables[name] = value.replace('{{ ipoffice_ca_path | dirname }}', os.path.dirname(ca_path)).replace(
                    '{{ ipoffice_ca_path }}', ca_path)
    else:
        variables['ansible_connection'] = 'local'
    hosts = {}
    for index in range(count):
        api, dummy, gateway = site_addresses(index)
        # Each site's readiness checks present the site's own client identity (lab.yml's lab_identity).
        hosts['site-%03d' % (index + 1)] = {'ipoffice_default_gateway': gateway, 'lab_identity': 'site-%03d' % (index + 1)}
        hosts['site-%03d' % (index + 1)]['ansible_host' if connection == 'httpapi' else 'ipoffice_host'] = api
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'all': {'vars': variables, 'hosts': hosts}}, handle, sort_keys=False)


def write_floor(path, modules, controller_only):
    """The floor: the same hosts and as many tasks each: `modules` trivial module calls on the same
    connection, and `controller_only` trivial tasks of the kind that never runs a module (assert, set_fact...)."""
    tasks = [{'name': 'Trivial module call %d' % (number + 1), 'ansible.builtin.ping': None} for number in range(modules)]
    tasks += [{'name': 'Trivial controller-only task %d' % (number + 1), 'ansible.builtin.set_fact': {'floor_fact': number}}
              for number in range(controller_only)]
    play = [{'name': 'Floor: %d trivial tasks per host' % (modules + controller_only), 'hosts': 'all', 'gather_facts': False, 'tasks': tasks}]
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(play, handle, sort_keys=False)


# --- the lab ----------------------------------------------------------------------

def control(path, method='GET', body=None, connection=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection(*CONTROL, timeout=30)
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers={'Content-Type': 'application/json'})
        return json.loads(connection.getresponse().read() or b'null')
    finally:
        if own:
            connection.close()


def last_seq():
    entries = control('/lab/requests?since=0')
    return entries[-1]['seq'] if entries else 0


def requests_per_host(since, until, host_of_listener):
    """Logins, reads and writes per inventory host from the request log entries since < seq <= until."""
    counts = collections.defaultdict(lambda: {'logins': 0, 'reads': 0, 'writes': 0, 'changed': 0})
    for entry in control('/lab/requests?since=%d' % since):
        if entry['seq'] > until:
            continue
        host = host_of_listener.get(entry.get('listener'), entry.get('listener'))
        row = counts[host]
        if entry.get('resource') == 'authenticate':
            if entry.get('method') == 'GET':
                row['logins'] += 1
        elif entry.get('write'):
            row['writes'] += 1
            row['changed'] += 1 if entry.get('changed') else 0
        else:
            row['reads'] += 1
    return counts


class HeartbeatSampler(threading.Thread):
    """Samples, every few seconds, how old the last heartbeat answer of each connected link is.

    A link sends a heartbeat every interval and COM answers at once, so on a lab
    that keeps up the age stays under one interval (plus the lab clock's 1 s
    resolution); lag is what it exceeds the interval by.
    """

    def __init__(self, systems, interval, period):
        super(HeartbeatSampler, self).__init__(daemon=True)
        self.systems, self.interval, self.period = systems, interval, period
        self.stop_event = threading.Event()
        self.samples = 0
        self.max_age = 0.0
        self.max_round_trip_ms = 0.0
        self.connected = 0
        self.errors = 0

    def run(self):
        connection = http.client.HTTPConnection(*CONTROL, timeout=30)
        while not self.stop_event.wait(self.period):
            try:
                now = datetime.datetime.fromisoformat(control('/lab/clock', connection=connection)['now'].replace('Z', '+00:00')).timestamp()
                connected = 0
                for name in self.systems:
                    link = control('/lab/systems/%s/link' % name, connection=connection)
                    if link.get('LinkState') != 'Connected' or not link.get('LastHeartbeat'):
                        continue
                    connected += 1
                    beat = datetime.datetime.fromisoformat(link['LastHeartbeat'].replace('Z', '+00:00')).timestamp()
                    self.max_age = max(self.max_age, now - beat)
                    self.max_round_trip_ms = max([self.max_round_trip_ms] + list(link.get('round_trips_ms') or []))
                self.connected = max(self.connected, connected)
                self.samples += 1
            except (OSError, ValueError, KeyError, http.client.HTTPException):
                self.errors += 1
                connection.close()
                connection = http.client.HTTPConnection(*CONTROL, timeout=30)
        connection.close()

    def stop(self):
        self.stop_event.set()
        self.join()
        return {'samples': self.samples, 'links_connected_max': self.connected, 'heartbeat_age_max_s': round(self.max_age, 1),
                'heartbeat_lag_max_s': round(max(0.0, self.max_age - self.interval), 1), 'heartbeat_interval_s': self.interval,
                'heartbeat_round_trip_max_ms': round(self.max_round_trip_ms, 1), 'sample_errors': self.errors}


# --- runs -------------------------------------------------------------------------

def read_report(state):
    """The systems of the readiness report the last site.yml wrote, or [] when there is none."""
    try:
        with open(os.path.join(state, 'readiness', 'readiness.json'), encoding='utf-8') as handle:
            return json.load(handle)['systems']
    except (OSError, ValueError, KeyError):
        return []


class Side(object):
    """One copy of the collection under test: its tree, collections path, connection, lab state, inventory and logs.

    The default mode has one side, the current tree, in the benchmark's own network namespace and output
    folder; --compare-with has two, 'old' (REF) and 'new' (the current tree), each in a namespace and a
    subfolder of its own.
    """

    def __init__(self, name, root, output, collections, connection='local', netns=None, label=''):
        self.name, self.root, self.output, self.collections = name, root, output, collections
        self.connection, self.netns, self.label = connection, netns, label
        self.state = os.path.join(output, 'lab')
        # Each side runs its own tree's lab: a lab is as strict as the collection of its time expects.
        self.labctl = os.path.join(root, 'tests', 'lab', 'labctl.py')
        self.topology = os.path.join(output, 'topology.yml')
        self.inventory = os.path.join(output, 'inventory.yml')
        # The floor is what Ansible itself costs: ansible.builtin.ping on the local connection.
        self.floor_inventory = self.inventory if connection == 'local' else os.path.join(output, 'inventory-local.yml')
        self.floor = os.path.join(output, 'floor.yml')
        self.runs = []
        self.converge_report = []
        self.rebooted = 0

    def enter(self):
        if self.netns is not None:
            self.netns.enter()

    def lab_pid(self):
        try:
            with open(os.path.join(self.state, 'lab.pid'), encoding='utf-8') as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None

    def playbook(self, name):
        return os.path.join(self.root, 'playbooks', name)

    def env(self, base):
        return dict(base, ANSIBLE_COLLECTIONS_PATH=self.collections, IPOFFICE_LAB_STATE=self.state)


def run_playbook(args, side, name, playbook, inventory, env, systems, interval):
    log_path = os.path.join(side.output, '%s.log' % name)
    counts_path = os.path.join(side.output, '%s.counts.json' % name)
    # The client keeps sessions and locks in XDG_RUNTIME_DIR (module_utils/locks.py), by host, port and user. Both sides
    # use the same addresses, and so does any other benchmark on this machine: each run starts with a folder of its own,
    # as a fresh controller (an AWX job) would, so its logins are its own.
    runtime = os.path.join(side.output, 'runtime', name)
    shutil.rmtree(runtime, ignore_errors=True)
    os.makedirs(runtime, mode=0o700)
    os.chmod(os.path.join(side.output, 'runtime'), 0o700)
    # A persistent connection's socket is a file, reachable from every network namespace: its own folder too.
    env = dict(side.env(env), IPOFFICE_PERF_COUNTS=counts_path, XDG_RUNTIME_DIR=runtime,
               ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=os.path.join(runtime, 'pc'))
    side.enter()
    labs = {pid for pid in (other.lab_pid() for other in args.sides) if pid}
    reap(labs, 0)
    since = last_seq()
    sampler = HeartbeatSampler(systems, interval, args.sample_seconds)
    sampler.start()
    # A run takes minutes (an hour for 200 systems): say where to follow it.
    print('  %-14s started %s  (follow: tail -f %s)' % (side.label + name, time.strftime('%H:%M:%S'), log_path), flush=True)
    load_start, lab_cpu_start, cpu_start = load_1m(), process_cpu_s(side.lab_pid()), children_cpu_s()
    started = time.monotonic()
    with open(log_path, 'w', encoding='utf-8') as log:
        proc = subprocess.run(['ansible-playbook', '-i', inventory, '-f', str(args.forks), playbook],
                              stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    wall = time.monotonic() - started
    # What ansible-playbook left running (a persistent connection closing) is waited for and counted.
    left = reap(labs, 30)
    cpu = children_cpu_s() - cpu_start
    lab_cpu_end = process_cpu_s(side.lab_pid())
    load_end = load_1m()
    health = sampler.stop()
    until = last_seq()
    try:
        with open(counts_path, encoding='utf-8') as handle:
            counted = json.load(handle)
    except (OSError, ValueError):
        # ansible-playbook stopped before the play's end (a missing plugin or collection): the log says why.
        counted = {'hosts': {}, 'task_seconds': {}, 'check_ms_max': {}}
    counts = counted['hosts']
    shown = os.path.relpath(playbook, side.root) if playbook.startswith(side.root + os.sep) else os.path.basename(playbook)
    result = {'name': name, 'side': side.name, 'playbook': shown, 'task_seconds': counted['task_seconds'],
              'check_ms_max': counted['check_ms_max'], 'rc': proc.returncode, 'wall_s': round(wall, 2), 'cpu_s': round(cpu, 2),
              'lab_cpu_s': round(lab_cpu_end - lab_cpu_start, 2) if None not in (lab_cpu_start, lab_cpu_end) else None,
              'load_1m_start': load_start, 'load_1m_end': load_end, 'processes_left': len(left),
              'log': log_path, 'hosts': counts, 'health': health,
              'requests': {host: dict(row) for host, row in requests_per_host(since, until, args.host_of_listener).items()}}
    print('  %-14s rc=%d  %7.1f s wall  %7.1f s CPU  load %.2f -> %.2f  (log %s)'
          % (side.label + name, proc.returncode, wall, cpu, load_start, load_end, log_path), flush=True)
    return result


def per_host_stats(values):
    values = sorted(values) or [0]
    return {'min': values[0], 'median': values[len(values) // 2], 'max': values[-1]}


def executed_tasks(host_counts):
    return host_counts['ok'] + host_counts['failed'] + host_counts.get('unreachable', 0)


def module_invocations(host_counts):
    """Module calls (one per loop item), not counting the controller-only action plugins."""
    return sum(count for action, count in host_counts['modules'].items() if action not in CONTROLLER_ONLY)


def api_invocations(host_counts):
    return sum(count for action, count in host_counts['modules'].items()
               if action.startswith(API_MODULES_PREFIX) and action[len(API_MODULES_PREFIX):] in API_MODULES)


def machine():
    cpu = ''
    with open('/proc/cpuinfo', encoding='utf-8') as handle:
        for line in handle:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    with open('/proc/meminfo', encoding='utf-8') as handle:
        memory_kb = int(handle.readline().split()[1])
    ansible = subprocess.run(['ansible', '--version'], capture_output=True, text=True, check=False).stdout.splitlines()
    return {'nproc': os.cpu_count(), 'memory_gib': round(memory_kb / 1048576, 1), 'cpu': cpu, 'python': platform.python_version(),
            'ansible': ansible[0] if ansible else 'unknown', 'load_before': ' '.join('%.2f' % value for value in os.getloadavg())}


def range_text(values):
    values = per_host_stats(values)
    return '%d' % values['max'] if values['min'] == values['max'] else '%d-%d' % (values['min'], values['max'])


def request_range(run, key, systems=None):
    """min-max per host of a request count (logins, reads, writes); over the given systems when named."""
    requests = run['requests']
    rows = [requests.get(host, {}) for host in systems] if systems else list(requests.values())
    return range_text([row.get(key, 0) for row in rows]) if rows else '0'


def runs_table(runs):
    lines = ['| run | playbook | rc | wall s | CPU s | load 1m start-end | tasks/host | module calls/host | API module calls/host '
             '| logins/host | reads/host | writes/host | heartbeat age max s | lag max s |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for run in runs:
        hosts = run['hosts'].values()
        tasks = per_host_stats([executed_tasks(host) for host in hosts])
        calls = per_host_stats([api_invocations(host) for host in hosts])
        modules = per_host_stats([module_invocations(host) for host in hosts])
        lines.append('| %s | %s | %d | %.1f | %.1f | %.2f-%.2f | %d | %d | %d | %s | %s | %s | %.0f | %.0f |'
                     % (run['name'], run['playbook'], run['rc'], run['wall_s'], run['cpu_s'], run['load_1m_start'], run['load_1m_end'],
                        tasks['median'], modules['median'], calls['median'], request_range(run, 'logins'), request_range(run, 'reads'),
                        request_range(run, 'writes'), run['health']['heartbeat_age_max_s'], run['health']['heartbeat_lag_max_s']))
    return lines


def details(side, targets=True):
    """The ratios to the floor, the lab's health, the longest checks and slowest tasks of one side."""
    lines = []
    ratios = side['ratios']
    if targets:
        lines.append('ratios: idempotent/floor %.2f (target <= 1.5), converge/floor %.2f (target <= 2.0)'
                     % (ratios['idempotent_to_floor'], ratios['converge_to_floor']))
    else:
        lines.append('ratios: idempotent/floor %.2f, converge/floor %.2f' % (ratios['idempotent_to_floor'], ratios['converge_to_floor']))
    health = side['lab_health']
    lines.append('lab health: %d links connected at most; last heartbeat answer at most %.0f s old, lag %.0f s over the %d s interval '
                 '(lab clock resolution 1 s); heartbeat round trip at most %.0f ms'
                 % (health['links_connected_max'], health['heartbeat_age_max_s'], health['heartbeat_lag_max_s'],
                    health['heartbeat_interval_s'], health['heartbeat_round_trip_max_ms']))
    for run in side['runs'][:3]:
        checks = sorted(run['check_ms_max'].items())
        lines.append('longest check of %s (ms): %s' % (run['name'], ', '.join('%s %.0f' % (name.rsplit('.', 1)[-1], ms) for name, ms in checks)))
        slowest = sorted(run['task_seconds'].items(), key=lambda item: -item[1])[:6]
        lines.append('slowest tasks of %s: %s' % (run['name'], '; '.join('%s %.1f s' % item for item in slowest)))
    return lines


def problem_lines(summary, all_well):
    """The summary's problems, one line each, or the one line that says all went well."""
    if summary['problems']:
        return ['problems:'] + ['  - ' + problem for problem in summary['problems']]
    return [all_well]


def machine_line(summary):
    info = summary['machine']
    return ('fleet benchmark: %d systems, %d forks; %s, %d cores, %.1f GiB; Python %s; %s; load before %s'
            % (summary['systems'], summary['forks'], info['cpu'], info['nproc'], info['memory_gib'], info['python'],
               info['ansible'], info['load_before']))


def report(summary):
    lines = [machine_line(summary), '']
    lines.extend(runs_table(summary['runs']))
    lines.append('')
    lines.extend(details(summary))
    lines.extend(problem_lines(summary, 'idempotent run: no writes on any system; logins never more than API module calls'))
    return '\n'.join(lines)


def ratio(new, old):
    return round(new / old, 2) if old else None


def ratio_text(value):
    return '%.2f' % value if value is not None else '-'


def comparison(old, new, systems):
    """Per run: old, new and new/old of wall time and CPU seconds, and the counts per host side by side."""
    rows = []
    for old_run, new_run in zip(old['runs'], new['runs']):
        row = {'run': old_run['name']}
        for key in ('wall_s', 'cpu_s', 'lab_cpu_s'):
            row['old_' + key], row['new_' + key] = old_run[key], new_run[key]
            row[key.replace('_s', '') + '_ratio'] = ratio(new_run[key], old_run[key]) if None not in (new_run[key], old_run[key]) else None
        for side, run in (('old', old_run), ('new', new_run)):
            for key in ('logins', 'reads', 'writes'):
                row['%s_%s_per_host' % (side, key)] = request_range(run, key, systems)
            row[side + '_tasks_per_host'] = per_host_stats([executed_tasks(host) for host in run['hosts'].values()])['median']
            row[side + '_load_1m'] = [run['load_1m_start'], run['load_1m_end']]
            row[side + '_rc'] = run['rc']
        rows.append(row)
    return rows


def compare_report(summary):
    old, new = summary['sides']['old'], summary['sides']['new']
    lines = [machine_line(summary), '',
             'old: %s (%s connection); new: %s (%s connection). Runs alternate per step (old first, then new first), each side with a lab of its own '
             '(the lab of its own tree, the same sites, fresh state). Ratios are new/old within this invocation; times are never asserted.'
             % (old['commit'], old['connection'], new['commit'], new['connection']), '',
             '| run | old wall s | new wall s | new/old | old CPU s | new CPU s | new/old | old logins/host | new logins/host '
             '| old reads/host | new reads/host | old writes/host | new writes/host | old tasks/host | new tasks/host '
             '| old load 1m start-end | new load 1m start-end |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for row in summary['comparison']:
        lines.append('| %s | %.1f | %.1f | %s | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %s | %d | %d | %.2f-%.2f | %.2f-%.2f |'
                     % (row['run'], row['old_wall_s'], row['new_wall_s'], ratio_text(row['wall_ratio']), row['old_cpu_s'], row['new_cpu_s'],
                        ratio_text(row['cpu_ratio']), row['old_logins_per_host'], row['new_logins_per_host'], row['old_reads_per_host'],
                        row['new_reads_per_host'], row['old_writes_per_host'], row['new_writes_per_host'], row['old_tasks_per_host'],
                        row['new_tasks_per_host'], row['old_load_1m'][0], row['old_load_1m'][1], row['new_load_1m'][0], row['new_load_1m'][1]))
    lines.append('')
    failed = [problem for problem in summary['problems'] if ' run failed ' in problem or ' hosts, not ' in problem]
    if failed:
        lines.append('NOT COMPARABLE: %d run(s) failed or left hosts out (see problems below): the ratios and counts of those runs, '
                     'and the targets below, mean nothing.' % len(failed))
    goals = summary['targets']
    lines.append('issue 19 targets (reported; only the counts are asserted, with --strict): converge + validate new/old %s (target <= 0.4); '
                 'idempotent/floor old %.2f, new %.2f (target <= 1.0); idempotent run, new: logins/host %s (target 1), reads/host %s '
                 '(target <= 10), writes/host %s (target 0)'
                 % (ratio_text(goals['converge_plus_validate_ratio']), old['ratios']['idempotent_to_floor'], new['ratios']['idempotent_to_floor'],
                    goals['new_idempotent_logins_per_host'], goals['new_idempotent_reads_per_host'], goals['new_idempotent_writes_per_host']))
    lines.append('CPU s: ansible-playbook and every process it started, reaped (RUSAGE_CHILDREN); the lab used %s s (old) and %s s (new) '
                 'over the four runs of each side.'
                 % tuple('%.1f' % sum(run['lab_cpu_s'] or 0 for run in side['runs']) for side in (old, new)))
    for name, side in (('old', old), ('new', new)):
        lines.extend(['', '### %s: %s, %s connection' % (name, side['commit'], side['connection']), ''])
        lines.extend(runs_table(side['runs']))
        lines.append('')
        lines.extend(details(side, targets=False))
    lines.append('')
    lines.extend(problem_lines(summary, 'idempotent runs: no writes on any system; logins never more than API module calls; '
                                        'the per-host limits given held'))
    return '\n'.join(lines)


def collections_path(output, root=REPO, honour_env=True):
    """ANSIBLE_COLLECTIONS_PATH: the caller's (when honour_env), else a link tree under output to root."""
    given = os.environ.get('ANSIBLE_COLLECTIONS_PATH')
    if given and honour_env:
        return given
    base = os.path.join(output, 'collections')
    link = os.path.join(base, 'ansible_collections', 'ipoffice', 'subscription')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(root, link)
    return base


def git(*arguments):
    return subprocess.run(['git', '-C', REPO] + list(arguments), capture_output=True, text=True, check=False)


def describe_tree():
    """The current tree's commit, with '+changes' when it differs from it (or 'not a git checkout')."""
    head = git('rev-parse', '--short=12', 'HEAD')
    if head.returncode != 0:
        return 'working tree (not a git checkout)'
    dirty = git('status', '--porcelain', '--untracked-files=no').stdout.strip()
    return head.stdout.strip() + (' + uncommitted changes' if dirty else '')


def export_ref(ref, output):
    """REF's tree, exported with git archive into output/ref-<commit> (no worktree to clean up); its full commit."""
    found = git('rev-parse', '--verify', '--quiet', ref + '^{commit}')
    if found.returncode != 0:
        sys.exit('--compare-with %s: not a commit of the repository at %s' % (ref, REPO))
    commit = found.stdout.strip()
    target = os.path.join(output, 'ref-' + commit[:12])
    if not os.path.isfile(os.path.join(target, 'galaxy.yml')):
        os.makedirs(target, exist_ok=True)
        archive = subprocess.Popen(['git', '-C', REPO, 'archive', '--format=tar', commit], stdout=subprocess.PIPE)
        untar = subprocess.run(['tar', '-x', '-C', target], stdin=archive.stdout, capture_output=True, check=False)
        archive.stdout.close()
        if archive.wait() != 0 or untar.returncode != 0:
            sys.exit('could not export %s into %s: %s' % (commit, target, untar.stderr.decode(errors='replace')))
    return commit, target


def clone_state(state, count):
    """Every site's stored state from site-001's, with its own name and addresses."""
    systems = os.path.join(state, 'systems')
    with open(os.path.join(systems, 'site-001.json'), encoding='utf-8') as handle:
        text = handle.read()
    dummy, lan1, gateway = site_addresses(0)
    for index in range(1, count):
        dummy, own_lan1, own_gateway = site_addresses(index)
        name = 'site-%03d' % (index + 1)
        own = text.replace('"site-001"', '"%s"' % name).replace('"%s"' % lan1, '"%s"' % own_lan1).replace('"%s"' % gateway, '"%s"' % own_gateway)
        with open(os.path.join(systems, name + '.json'), 'w', encoding='utf-8') as handle:
            handle.write(own)


def links_only(args, side, env, systems, interval):
    """Configure one site through the role, clone it to all, restart the lab and watch the links."""
    state, topology, inventory = side.state, side.topology, side.inventory
    play = os.path.join(args.output, 'prerequisites.yml')
    with open(play, 'w', encoding='utf-8') as handle:
        yaml.safe_dump([{'name': 'Configure one site', 'hosts': 'all', 'gather_facts': False,
                         'roles': [{'role': 'ipoffice.subscription.prerequisites'}]}], handle, sort_keys=False)
    with open(os.path.join(args.output, 'prerequisites.log'), 'w', encoding='utf-8') as log:
        proc = subprocess.run(['ansible-playbook', '-i', inventory, '--limit', 'site-001', play], stdout=log, stderr=subprocess.STDOUT,
                              env={key: value for key, value in env.items() if key != 'ANSIBLE_CALLBACKS_ENABLED'}, check=False)
    subprocess.run([sys.executable, side.labctl, 'stop', '--state', state], capture_output=True, check=False)
    if proc.returncode != 0:
        sys.exit('configuring site-001 failed: see %s' % os.path.join(args.output, 'prerequisites.log'))
    clone_state(state, args.systems)
    started = time.monotonic()
    lab = subprocess.run([sys.executable, side.labctl, 'start', '--state', state, '--topology', topology, '--timeout', '120'],
                         capture_output=True, text=True, check=False)
    if lab.returncode != 0:
        sys.exit('the lab did not restart:\n%s%s' % (lab.stdout, lab.stderr))
    connected, deadline = 0, time.monotonic() + 300
    while time.monotonic() < deadline:
        connected = sum(1 for row in control('/lab/links') if row['state'] == 'Connected')
        if connected == args.systems:
            break
        time.sleep(1)
    all_up = time.monotonic() - started
    sampler = HeartbeatSampler(systems, interval, args.sample_seconds)
    sampler.start()
    time.sleep(args.soak)
    health = sampler.stop()
    rss_kb = 0
    with open(os.path.join(state, 'lab.pid'), encoding='utf-8') as handle:
        pid = int(handle.read().strip())
    with open('/proc/%d/status' % pid, encoding='utf-8') as handle:
        rss_kb = int(next(line for line in handle if line.startswith('VmRSS')).split()[1])
    cpu = sum(int(value) for value in open('/proc/%d/stat' % pid, encoding='utf-8').read().rsplit(')', 1)[1].split()[11:13])
    result = dict(health, systems=args.systems, connected=connected, seconds_to_all_connected=round(all_up, 1), soak_s=args.soak,
                  lab_rss_mib=round(rss_kb / 1024.0, 1), lab_cpu_s=round(cpu / os.sysconf('SC_CLK_TCK'), 1))
    return result


def side_summary(side, interval):
    runs = side.runs
    converge, idempotent, floor_run = runs[0], runs[1], runs[3]
    return {
        'runs': runs, 'rebooted': side.rebooted,
        'ratios': {'idempotent_to_floor': round(idempotent['wall_s'] / floor_run['wall_s'], 2),
                   'converge_to_floor': round(converge['wall_s'] / floor_run['wall_s'], 2)},
        'lab_health': {
            'links_connected_max': max(run['health']['links_connected_max'] for run in runs),
            'heartbeat_age_max_s': max(run['health']['heartbeat_age_max_s'] for run in runs),
            'heartbeat_lag_max_s': max(run['health']['heartbeat_lag_max_s'] for run in runs),
            'heartbeat_round_trip_max_ms': max(run['health']['heartbeat_round_trip_max_ms'] for run in runs),
            'heartbeat_interval_s': interval}}


def judge(args, side, systems, prefix='', limits=False):
    """What the --strict run fails for (counts only, never a time): a failed run, a missing host, a write in the
    idempotent run, more logins than API module calls, and with limits the --max-*-per-host counts."""
    problems = []
    for run in side.runs:
        # converge fails its hosts for the reboot its DNS change waits for (first), and for nothing else but the link,
        # which cannot come up before that reboot.
        waiting = run['name'] == 'converge' and run['rc'] == 2 and all(
            entry['verdict'] != 'not_ready' or (entry['failed_checks'][:1] == ['reboot.pending'] and all(
                name.startswith('link.') for name in entry['failed_checks'][1:])) for entry in side.converge_report)
        if run['rc'] != 0 and not waiting:
            problems.append('%s run failed (rc %d): see %s' % (run['name'], run['rc'], run['log']))
        if len(run['hosts']) != args.systems:
            problems.append('%s run reported %d hosts, not %d' % (run['name'], len(run['hosts']), args.systems))
    idempotent = side.runs[1]
    for host in systems:
        row = idempotent['requests'].get(host, {'logins': 0, 'reads': 0, 'writes': 0})
        calls = api_invocations(idempotent['hosts'].get(host, {'modules': {}}))
        if row['writes']:
            problems.append('idempotent run wrote %d times on %s' % (row['writes'], host))
        if row['logins'] > calls:
            problems.append('idempotent run: %d logins on %s for %d API module calls' % (row['logins'], host, calls))
        if limits and args.max_logins_per_host is not None and row['logins'] > args.max_logins_per_host:
            problems.append('idempotent run: %d logins on %s (at most %d)' % (row['logins'], host, args.max_logins_per_host))
        if limits and args.max_reads_per_host is not None and row['reads'] > args.max_reads_per_host:
            problems.append('idempotent run: %d reads on %s (at most %d)' % (row['reads'], host, args.max_reads_per_host))
    return [prefix + problem for problem in problems]


def start_lab(side):
    side.enter()
    started = subprocess.run([sys.executable, side.labctl, 'start', '--state', side.state, '--topology', side.topology, '--fresh',
                              '--timeout', '120'],
                             capture_output=True, text=True, check=False)
    if started.returncode != 0:
        sys.exit('the %slab did not start:\n%s%s' % (side.label, started.stdout, started.stderr))


def run_step(args, side, step, env, systems, interval):
    """One of the four runs on one side; the converge run ends with the reboot the DNS change waits for."""
    if step == 'converge':
        side.runs.append(run_playbook(args, side, 'converge', side.playbook('site.yml'), side.inventory, env, systems, interval))
        side.converge_report = read_report(side.state)
        side.enter()
        side.rebooted = len(control('/lab/reboot', 'POST')['rebooted'])
    elif step == 'idempotent':
        side.runs.append(run_playbook(args, side, 'idempotent', side.playbook('site.yml'), side.inventory, env, systems, interval))
    elif step == 'validate':
        side.runs.append(run_playbook(args, side, 'validate', side.playbook('validate.yml'), side.inventory, env, systems, interval))
    else:
        # The median host of the idempotent run (run_once tasks count on one host only).
        hosts = side.runs[1]['hosts'].values()
        modules = per_host_stats([module_invocations(host) for host in hosts])['median']
        controller = per_host_stats([executed_tasks(host) - module_invocations(host) for host in hosts])['median']
        write_floor(side.floor, modules, max(0, controller))
        side.runs.append(run_playbook(args, side, 'floor', side.floor, side.floor_inventory, env, systems, interval))


def make_sides(args):
    """The sides to measure: the current tree alone, or REF's tree ('old') and the current tree ('new')."""
    if not args.compare_with:
        return [Side('new', REPO, args.output, collections_path(args.output), args.connection)]
    commit, export = export_ref(args.compare_with, args.output)
    sides = []
    for name, root, connection, honour_env in (('old', export, 'local', False), ('new', REPO, args.connection, True)):
        output = os.path.join(args.output, name)
        os.makedirs(output, exist_ok=True)
        side = Side(name, root, output, collections_path(output, root, honour_env), connection, NetNamespace.new(), name + ' ')
        side.commit = commit[:12] if name == 'old' else describe_tree()
        sides.append(side)
    return sides


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--systems', type=int, default=50, help='number of single IP500 V2 sites (default 50; 200 on request)')
    parser.add_argument('--forks', type=int, default=10, help='ansible-playbook --forks (default 10)')
    parser.add_argument('--output', help='folder for the topology, inventory, lab state, logs and summary.json (default: a new temp folder)')
    parser.add_argument('--strict', action='store_true', help='exit 1 if a run failed, the idempotent run wrote anything, logged in more '
                        'than once per API module call, or exceeded --max-logins-per-host / --max-reads-per-host')
    parser.add_argument('--max-logins-per-host', type=int, metavar='N', help='with --strict: at most N logins per host in the idempotent run '
                        '(of the new side with --compare-with)')
    parser.add_argument('--max-reads-per-host', type=int, metavar='N', help='with --strict: at most N reads per host in the idempotent run '
                        '(of the new side with --compare-with)')
    parser.add_argument('--compare-with', metavar='REF', help='also measure the collection at git commit REF (exported with git archive), '
                        'alternating old and new run by run, each side with a lab of its own')
    parser.add_argument('--connection', choices=('local', 'httpapi'), default='local',
                        help='connection of the current tree\'s inventory (default local; httpapi: ansible.netcommon.httpapi with '
                        'ansible_network_os ipoffice.subscription.ipoffice); REF\'s side always uses local')
    parser.add_argument('--links-only', action='store_true', help='measure only the lab holding N live links (no benchmark runs)')
    parser.add_argument('--soak', type=float, default=60.0, help='--links-only: how long to sample the heartbeats once every link is up')
    parser.add_argument('--sample-seconds', type=float, default=5.0, help='how often the lab health is sampled during a run')
    args = parser.parse_args()
    if not 1 <= args.systems <= 2000:
        parser.error('--systems must be 1..2000')
    if args.links_only and args.compare_with:
        parser.error('--links-only measures the lab alone: not with --compare-with')
    ensure_own_namespace()
    subreaper = become_subreaper()
    args.output = os.path.abspath(args.output or tempfile.mkdtemp(prefix='ipo-perf-'))
    os.makedirs(args.output, exist_ok=True)
    args.host_of_listener = {site_addresses(index)[0]: 'site-%03d' % (index + 1) for index in range(args.systems)}
    systems = sorted(args.host_of_listener.values())
    home = NetNamespace.current()
    args.sides = sides = make_sides(args)
    for side in sides:
        write_topology(side.topology, args.systems, side.root)
        with open(side.topology, encoding='utf-8') as handle:
            api_port = int(yaml.safe_load(handle).get('lab', {}).get('api_port', 7070))
        write_inventory(side.inventory, args.systems, side.state, side.root, side.connection, api_port)
        if side.floor_inventory != side.inventory:
            write_inventory(side.floor_inventory, args.systems, side.state, side.root, 'local', api_port)
    env = dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback'), ANSIBLE_CALLBACKS_ENABLED='fleet_counts',
               ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_RETRY_FILES_ENABLED='False', ANSIBLE_NOCOLOR='1')
    summary = {'systems': args.systems, 'forks': args.forks, 'machine': machine(), 'problems': []}
    summary['machine']['cpu_counted'] = 'RUSAGE_CHILDREN, subreaper' if subreaper else 'RUSAGE_CHILDREN (no subreaper: detached processes not counted)'
    if args.compare_with:
        print('fleet benchmark: %d systems, %d forks, old %s (local) against new %s (%s), output %s'
              % (args.systems, args.forks, sides[0].commit, sides[1].commit, args.connection, args.output), flush=True)
    else:
        print('fleet benchmark: %d systems, %d forks, output %s' % (args.systems, args.forks, args.output), flush=True)
    try:
        for side in sides:
            start_lab(side)
        with open(DEFAULT_TOPOLOGY, encoding='utf-8') as handle:
            interval = yaml.safe_load(handle)['world']['link']['heartbeat_seconds']
        if args.links_only:
            side = sides[0]
            result = links_only(args, side, side.env(env), systems, interval)
            result['load_after'] = ' '.join('%.2f' % value for value in os.getloadavg())
            result['machine'] = summary['machine']
            with open(os.path.join(args.output, 'links.json'), 'w', encoding='utf-8') as handle:
                json.dump(result, handle, indent=1, sort_keys=True)
            print('lab alone: %(connected)d of %(systems)d links connected %(seconds_to_all_connected).0f s after the start; over %(soak_s).0f s '
                  '(%(samples)d samples) the last heartbeat answer was at most %(heartbeat_age_max_s).0f s old (interval '
                  '%(heartbeat_interval_s)d s, lag %(heartbeat_lag_max_s).0f s), round trip at most %(heartbeat_round_trip_max_ms).0f ms; '
                  'lab process %(lab_rss_mib).0f MiB, %(lab_cpu_s).0f s CPU in all; load after %(load_after)s' % result, flush=True)
            return 0 if result['connected'] == args.systems and result['heartbeat_lag_max_s'] < interval else 1
        # Old and new alternate step by step, and who goes first alternates too (old, new; new, old; ...), so a load
        # that rises or falls through the invocation does not always weigh on the same side.
        for number, step in enumerate(('converge', 'idempotent', 'validate', 'floor')):
            for side in sides if number % 2 == 0 else sides[::-1]:
                run_step(args, side, step, env, systems, interval)
    finally:
        for side in sides:
            subprocess.run([sys.executable, side.labctl, 'stop', '--state', side.state], capture_output=True, check=False)
        home.enter()
        reap(set(), 0)
        for side in sides:
            if side.netns is not None:
                side.netns.close()
    summary['machine']['load_after'] = ' '.join('%.2f' % value for value in os.getloadavg())
    if args.compare_with:
        old, new = sides
        summary['compare_with'] = args.compare_with
        summary['connection'] = args.connection
        summary['sides'] = {}
        for side in sides:
            summary['sides'][side.name] = dict(side_summary(side, interval), commit=side.commit, connection=side.connection, root=side.root,
                                               collections_path=side.collections)
            summary['problems'].extend(judge(args, side, systems, side.name + ': ', limits=side.name == 'new'))
        summary['comparison'] = comparison(summary['sides']['old'], summary['sides']['new'], systems)
        by_run = {row['run']: row for row in summary['comparison']}
        summary['targets'] = {
            'converge_plus_validate_ratio': ratio(by_run['converge']['new_wall_s'] + by_run['validate']['new_wall_s'],
                                                  by_run['converge']['old_wall_s'] + by_run['validate']['old_wall_s']),
            'new_idempotent_logins_per_host': by_run['idempotent']['new_logins_per_host'],
            'new_idempotent_reads_per_host': by_run['idempotent']['new_reads_per_host'],
            'new_idempotent_writes_per_host': by_run['idempotent']['new_writes_per_host']}
        text = compare_report(summary)
    else:
        side = sides[0]
        summary.update(side_summary(side, interval))
        summary['problems'].extend(judge(args, side, systems, limits=True))
        text = report(summary)
    with open(os.path.join(args.output, 'summary.json'), 'w', encoding='utf-8') as handle:
        json.dump(summary, handle, indent=1, sort_keys=True)
    with open(os.path.join(args.output, 'summary.md'), 'w', encoding='utf-8') as handle:
        handle.write(text + '\n')
    print('\n' + text + '\nload after: %s' % summary['machine']['load_after'], flush=True)
    return 1 if args.strict and summary['problems'] else 0


if __name__ == '__main__':
    if not shutil.which('ansible-playbook'):
        sys.exit('ansible-playbook is not on PATH (activate the virtualenv)')
    sys.exit(main())
