#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleet benchmark: what a rollout to N sites costs, next to what Ansible itself costs.

    fleet_bench.py [--systems 50] [--forks 10] [--output DIR] [--strict]

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

--strict exits 1 when the idempotent run wrote anything on any system, made
more logins on a system than API module invocations, or a run failed
(scripts/test's perf stage). Times are reported, never asserted.

It must run in a network namespace with only loopback up; run as root outside
one, it re-executes itself under `unshare -n`. The lab uses fixed addresses and
the control port 7099: never two labs in one namespace.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import http.client
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LABCTL = os.path.join(REPO, 'tests', 'lab', 'labctl.py')
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


# --- topology and inventory -------------------------------------------------------

def site_addresses(index):
    """(API address, LAN1 address, LAN1 gateway) of site number index (0-based): 127.1.X.Y, 127.2.X.Y."""
    third, fourth = 10 + index // 200, index % 200 + 1
    return '127.1.%d.%d' % (third, fourth), '127.2.%d.%d' % (third, fourth), '127.2.%d.254' % third


def write_topology(path, count):
    """The default topology's users and world with N single IP500 V2 deployments instead of its own."""
    with open(DEFAULT_TOPOLOGY, encoding='utf-8') as handle:
        topology = yaml.safe_load(handle)
    deployments = []
    for index in range(count):
        api, lan1, dummy = site_addresses(index)
        name = 'site-%03d' % (index + 1)
        deployments.append({'name': name, 'kind': 'application-server', 'address': api,
                            'systems': [{'name': name, 'type': 'IP500 V2', 'lan1': lan1 + '/24', 'registered': True}]})
    topology['deployments'] = deployments
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(topology, handle, sort_keys=False)


def write_inventory(path, count, state):
    """Like playbooks/inventory/lab.yml, for the generated sites."""
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml'), encoding='utf-8') as handle:
        variables = yaml.safe_load(handle)['all']['vars']
    variables['ipoffice_ca_path'] = os.path.join(state, 'ca.pem')
    variables.pop('ipoffice_default_gateways', None)
    hosts = {}
    for index in range(count):
        api, dummy, gateway = site_addresses(index)
        hosts['site-%03d' % (index + 1)] = {'ipoffice_host': api, 'ipoffice_default_gateway': gateway}
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


def run_playbook(args, name, playbook, inventory, env, systems, interval):
    log_path = os.path.join(args.output, '%s.log' % name)
    counts_path = os.path.join(args.output, '%s.counts.json' % name)
    env = dict(env, IPOFFICE_PERF_COUNTS=counts_path)
    since = last_seq()
    sampler = HeartbeatSampler(systems, interval, args.sample_seconds)
    sampler.start()
    # A run takes minutes (an hour for 200 systems): say where to follow it.
    print('  %-10s started %s  (follow: tail -f %s)' % (name, time.strftime('%H:%M:%S'), log_path), flush=True)
    started = time.monotonic()
    with open(log_path, 'w', encoding='utf-8') as log:
        proc = subprocess.run(['ansible-playbook', '-i', inventory, '-f', str(args.forks), playbook],
                              stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    wall = time.monotonic() - started
    health = sampler.stop()
    until = last_seq()
    with open(counts_path, encoding='utf-8') as handle:
        counted = json.load(handle)
    counts = counted['hosts']
    shown = os.path.relpath(playbook, REPO) if playbook.startswith(REPO) else os.path.basename(playbook)
    result = {'name': name, 'playbook': shown, 'task_seconds': counted['task_seconds'], 'check_ms_max': counted['check_ms_max'],
              'rc': proc.returncode, 'wall_s': round(wall, 2), 'log': log_path, 'hosts': counts, 'health': health,
              'requests': {host: dict(row) for host, row in requests_per_host(since, until, args.host_of_listener).items()}}
    print('  %-10s rc=%d  %7.1f s  (log %s)' % (name, proc.returncode, wall, log_path), flush=True)
    return result


def per_host_stats(values):
    values = sorted(values) or [0]
    return {'min': values[0], 'median': values[len(values) // 2], 'max': values[-1]}


def executed_tasks(host_counts):
    return host_counts['ok'] + host_counts['failed']


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


def report(summary):
    lines = []
    info = summary['machine']
    lines.append('fleet benchmark: %d systems, %d forks; %s, %d cores, %.1f GiB; Python %s; %s; load before %s'
                 % (summary['systems'], summary['forks'], info['cpu'], info['nproc'], info['memory_gib'], info['python'],
                    info['ansible'], info['load_before']))
    lines.append('')
    lines.append('| run | playbook | rc | wall s | tasks/host | module calls/host | API module calls/host | logins/host | reads/host | writes/host '
                 '| heartbeat age max s | lag max s |')
    lines.append('|---|---|---|---|---|---|---|---|---|---|---|---|')
    for run in summary['runs']:
        hosts = run['hosts'].values()
        requests = run['requests'].values()
        tasks = per_host_stats([executed_tasks(host) for host in hosts])
        calls = per_host_stats([api_invocations(host) for host in hosts])
        modules = per_host_stats([module_invocations(host) for host in hosts])

        def stat(key):
            value = per_host_stats([row[key] for row in requests]) if requests else {'min': 0, 'median': 0, 'max': 0}
            return '%d' % value['max'] if value['min'] == value['max'] else '%d-%d' % (value['min'], value['max'])
        lines.append('| %s | %s | %d | %.1f | %d | %d | %d | %s | %s | %s | %.0f | %.0f |'
                     % (run['name'], run['playbook'], run['rc'], run['wall_s'], tasks['median'], modules['median'], calls['median'],
                        stat('logins'), stat('reads'), stat('writes'), run['health']['heartbeat_age_max_s'],
                        run['health']['heartbeat_lag_max_s']))
    lines.append('')
    ratios = summary['ratios']
    lines.append('ratios: idempotent/floor %.2f (target <= 1.5), converge/floor %.2f (target <= 2.0)'
                 % (ratios['idempotent_to_floor'], ratios['converge_to_floor']))
    health = summary['lab_health']
    lines.append('lab health: %d links connected at most; last heartbeat answer at most %.0f s old, lag %.0f s over the %d s interval '
                 '(lab clock resolution 1 s); heartbeat round trip at most %.0f ms'
                 % (health['links_connected_max'], health['heartbeat_age_max_s'], health['heartbeat_lag_max_s'],
                    health['heartbeat_interval_s'], health['heartbeat_round_trip_max_ms']))
    for run in summary['runs'][:3]:
        checks = sorted(run['check_ms_max'].items())
        lines.append('longest check of %s (ms): %s' % (run['name'], ', '.join('%s %.0f' % (name.rsplit('.', 1)[-1], ms) for name, ms in checks)))
        slowest = sorted(run['task_seconds'].items(), key=lambda item: -item[1])[:6]
        lines.append('slowest tasks of %s: %s' % (run['name'], '; '.join('%s %.1f s' % item for item in slowest)))
    if summary['problems']:
        lines.append('problems:')
        lines.extend('  - ' + problem for problem in summary['problems'])
    else:
        lines.append('idempotent run: no writes on any system; logins never more than API module calls')
    return '\n'.join(lines)


def collections_path(output):
    """ANSIBLE_COLLECTIONS_PATH: the caller's, else a link tree to this checkout."""
    given = os.environ.get('ANSIBLE_COLLECTIONS_PATH')
    if given:
        return given
    base = os.path.join(output, 'collections')
    link = os.path.join(base, 'ansible_collections', 'ipoffice', 'subscription')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    return base


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


def links_only(args, state, topology, inventory, env, systems, interval):
    """Configure one site through the role, clone it to all, restart the lab and watch the links."""
    play = os.path.join(args.output, 'prerequisites.yml')
    with open(play, 'w', encoding='utf-8') as handle:
        yaml.safe_dump([{'name': 'Configure one site', 'hosts': 'all', 'gather_facts': False,
                         'roles': [{'role': 'ipoffice.subscription.prerequisites'}]}], handle, sort_keys=False)
    with open(os.path.join(args.output, 'prerequisites.log'), 'w', encoding='utf-8') as log:
        proc = subprocess.run(['ansible-playbook', '-i', inventory, '--limit', 'site-001', play], stdout=log, stderr=subprocess.STDOUT,
                              env={key: value for key, value in env.items() if key != 'ANSIBLE_CALLBACKS_ENABLED'}, check=False)
    subprocess.run([sys.executable, LABCTL, 'stop', '--state', state], capture_output=True, check=False)
    if proc.returncode != 0:
        sys.exit('configuring site-001 failed: see %s' % os.path.join(args.output, 'prerequisites.log'))
    clone_state(state, args.systems)
    started = time.monotonic()
    lab = subprocess.run([sys.executable, LABCTL, 'start', '--state', state, '--topology', topology, '--timeout', '120'],
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--systems', type=int, default=50, help='number of single IP500 V2 sites (default 50; 200 on request)')
    parser.add_argument('--forks', type=int, default=10, help='ansible-playbook --forks (default 10)')
    parser.add_argument('--output', help='folder for the topology, inventory, lab state, logs and summary.json (default: a new temp folder)')
    parser.add_argument('--strict', action='store_true', help='exit 1 if the idempotent run wrote anything or logged in more than once per API module call')
    parser.add_argument('--links-only', action='store_true', help='measure only the lab holding N live links (no benchmark runs)')
    parser.add_argument('--soak', type=float, default=60.0, help='--links-only: how long to sample the heartbeats once every link is up')
    parser.add_argument('--sample-seconds', type=float, default=5.0, help='how often the lab health is sampled during a run')
    args = parser.parse_args()
    if not 1 <= args.systems <= 2000:
        parser.error('--systems must be 1..2000')
    ensure_own_namespace()
    args.output = os.path.abspath(args.output or tempfile.mkdtemp(prefix='ipo-perf-'))
    os.makedirs(args.output, exist_ok=True)
    state = os.path.join(args.output, 'lab')
    topology, inventory, floor = (os.path.join(args.output, name) for name in ('topology.yml', 'inventory.yml', 'floor.yml'))
    write_topology(topology, args.systems)
    write_inventory(inventory, args.systems, state)
    args.host_of_listener = {site_addresses(index)[0]: 'site-%03d' % (index + 1) for index in range(args.systems)}
    systems = sorted(args.host_of_listener.values())
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(args.output), IPOFFICE_LAB_STATE=state,
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback'), ANSIBLE_CALLBACKS_ENABLED='fleet_counts',
               ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_RETRY_FILES_ENABLED='False', ANSIBLE_NOCOLOR='1')
    summary = {'systems': args.systems, 'forks': args.forks, 'machine': machine(), 'runs': [], 'problems': []}
    print('fleet benchmark: %d systems, %d forks, output %s' % (args.systems, args.forks, args.output), flush=True)
    started = subprocess.run([sys.executable, LABCTL, 'start', '--state', state, '--topology', topology, '--fresh', '--timeout', '120'],
                             capture_output=True, text=True, check=False)
    if started.returncode != 0:
        sys.exit('the lab did not start:\n%s%s' % (started.stdout, started.stderr))
    try:
        with open(DEFAULT_TOPOLOGY, encoding='utf-8') as handle:
            interval = yaml.safe_load(handle)['world']['link']['heartbeat_seconds']
        if args.links_only:
            result = links_only(args, state, topology, inventory, env, systems, interval)
            result['load_after'] = ' '.join('%.2f' % value for value in os.getloadavg())
            result['machine'] = summary['machine']
            with open(os.path.join(args.output, 'links.json'), 'w', encoding='utf-8') as handle:
                json.dump(result, handle, indent=1, sort_keys=True)
            print('lab alone: %(connected)d of %(systems)d links connected %(seconds_to_all_connected).0f s after the start; over %(soak_s).0f s '
                  '(%(samples)d samples) the last heartbeat answer was at most %(heartbeat_age_max_s).0f s old (interval '
                  '%(heartbeat_interval_s)d s, lag %(heartbeat_lag_max_s).0f s), round trip at most %(heartbeat_round_trip_max_ms).0f ms; '
                  'lab process %(lab_rss_mib).0f MiB, %(lab_cpu_s).0f s CPU in all; load after %(load_after)s' % result, flush=True)
            return 0 if result['connected'] == args.systems and result['heartbeat_lag_max_s'] < interval else 1
        playbooks = os.path.join(REPO, 'playbooks')
        runs = summary['runs']
        runs.append(run_playbook(args, 'converge', os.path.join(playbooks, 'site.yml'), inventory, env, systems, interval))
        converge_report = read_report(state)
        summary['rebooted'] = len(control('/lab/reboot', 'POST')['rebooted'])
        runs.append(run_playbook(args, 'idempotent', os.path.join(playbooks, 'site.yml'), inventory, env, systems, interval))
        runs.append(run_playbook(args, 'validate', os.path.join(playbooks, 'validate.yml'), inventory, env, systems, interval))
        # The median host of the idempotent run (run_once tasks count on one host only).
        modules = per_host_stats([module_invocations(host) for host in runs[1]['hosts'].values()])['median']
        controller = per_host_stats([executed_tasks(host) - module_invocations(host) for host in runs[1]['hosts'].values()])['median']
        write_floor(floor, modules, max(0, controller))
        runs.append(run_playbook(args, 'floor', floor, inventory, env, systems, interval))
    finally:
        subprocess.run([sys.executable, LABCTL, 'stop', '--state', state], capture_output=True, check=False)
    converge, idempotent, floor_run = runs[0], runs[1], runs[3]
    summary['ratios'] = {'idempotent_to_floor': round(idempotent['wall_s'] / floor_run['wall_s'], 2),
                         'converge_to_floor': round(converge['wall_s'] / floor_run['wall_s'], 2)}
    summary['lab_health'] = {
        'links_connected_max': max(run['health']['links_connected_max'] for run in runs),
        'heartbeat_age_max_s': max(run['health']['heartbeat_age_max_s'] for run in runs),
        'heartbeat_lag_max_s': max(run['health']['heartbeat_lag_max_s'] for run in runs),
        'heartbeat_round_trip_max_ms': max(run['health']['heartbeat_round_trip_max_ms'] for run in runs),
        'heartbeat_interval_s': interval}
    summary['machine']['load_after'] = ' '.join('%.2f' % value for value in os.getloadavg())
    problems = summary['problems']
    for run in runs:
        # converge fails its hosts for the reboot its DNS change waits for (first), and for nothing else but the link,
        # which cannot come up before that reboot.
        waiting = run['name'] == 'converge' and run['rc'] == 2 and all(
            entry['verdict'] != 'not_ready' or (entry['failed_checks'][:1] == ['reboot.pending'] and all(
                name.startswith('link.') for name in entry['failed_checks'][1:])) for entry in converge_report)
        if run['rc'] != 0 and not waiting:
            problems.append('%s run failed (rc %d): see %s' % (run['name'], run['rc'], run['log']))
        if len(run['hosts']) != args.systems:
            problems.append('%s run reported %d hosts, not %d' % (run['name'], len(run['hosts']), args.systems))
    for host in systems:
        row = idempotent['requests'].get(host, {'logins': 0, 'reads': 0, 'writes': 0})
        calls = api_invocations(idempotent['hosts'].get(host, {'modules': {}}))
        if row['writes']:
            problems.append('idempotent run wrote %d times on %s' % (row['writes'], host))
        if row['logins'] > calls:
            problems.append('idempotent run: %d logins on %s for %d API module calls' % (row['logins'], host, calls))
    with open(os.path.join(args.output, 'summary.json'), 'w', encoding='utf-8') as handle:
        json.dump(summary, handle, indent=1, sort_keys=True)
    text = report(summary)
    with open(os.path.join(args.output, 'summary.md'), 'w', encoding='utf-8') as handle:
        handle.write(text + '\n')
    print('\n' + text + '\nload after: %s' % summary['machine']['load_after'], flush=True)
    return 1 if args.strict and problems else 0


if __name__ == '__main__':
    if not shutil.which('ansible-playbook'):
        sys.exit('ansible-playbook is not on PATH (activate the virtualenv)')
    sys.exit(main())
