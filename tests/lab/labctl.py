#!/usr/bin/env python
"""Start, stop and inspect the IP Office Management API lab.

    labctl.py start [--state DIR] [--topology FILE] [--fresh] [--timeout S]
    labctl.py stop [--state DIR]
    labctl.py status [--state DIR] [--links]
    labctl.py run [--state DIR] [--topology FILE] [--fresh]     (foreground; what start launches)

See tests/lab/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_STATE = os.path.join(REPO, 'tests', 'output', 'lab')
DEFAULT_TOPOLOGY = os.path.join(HERE, 'topology.yml')

sys.path.insert(0, HERE)

from ipo_lab import topology  # noqa: E402  (needs the path above)


def pid_file(state):
    return os.path.join(state, 'lab.pid')


def read_pid(state):
    try:
        with open(pid_file(state), encoding='utf-8') as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def is_lab_process(pid):
    """True when pid is alive and is a lab server (not some other process that reused the number)."""
    if pid is None:
        return False
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
            if handle.read().rsplit(')', 1)[1].split()[0] == 'Z':
                return False
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv = handle.read().split(b'\0')
    except (OSError, IndexError):
        return False
    return any(arg.endswith(b'labctl.py') for arg in argv) and b'run' in argv


def remove_pid(state):
    try:
        os.unlink(pid_file(state))
    except FileNotFoundError:
        pass


def control_ok(spec):
    url = 'http://%s:%d/lab/health' % (spec.control_address, spec.control_port)
    # No proxy: the lab is on loopback, whatever the environment says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1) as response:
            return json.load(response).get('ok') is True
    except (OSError, ValueError, urllib.error.URLError):
        return False


def tls_ok(address, port, ca_file):
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with socket.create_connection((address, port), timeout=1) as sock:
            with context.wrap_socket(sock, server_hostname=address):
                return True
    except (OSError, ssl.SSLError):
        return False


def wait_ready(process, spec, state, deadline):
    """Wait until the control API answers and every listener completes a TLS handshake with the lab CA."""
    ca_file = os.path.join(state, 'ca.pem')
    pending = topology.listen_addresses(spec)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if os.path.exists(ca_file) and control_ok(spec):
            pending = [address for address in pending if not tls_ok(address, spec.api_port, ca_file)]
            if not pending:
                return True
        time.sleep(0.1)
    return False


def tail(path, lines=15):
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return ''.join(handle.readlines()[-lines:])
    except OSError:
        return ''


def summary(spec, state, pid):
    out = ['IP Office lab running (pid %d)' % pid]
    for deployment in spec.deployments:
        if deployment.kind == topology.APP_SERVER:
            hosted = ', '.join('%s (LAN1 %s%s)' % (s.name, s.lan1, '' if s.registered else ', not registered') for s in deployment.systems)
            out.append('  %-14s Application Server https://%s:%d  hosts %s' % (deployment.name, deployment.address, spec.api_port, hosted))
        else:
            nodes = ', '.join('%s https://%s:%d' % (s.name, s.listen, spec.api_port) for s in deployment.systems)
            out.append('  %-14s Server Edition     %s' % (deployment.name, nodes))
    out.append('  CA file:  %s' % os.path.join(state, 'ca.pem'))
    out.append('  control:  http://%s:%d/lab/' % (spec.control_address, spec.control_port))
    out.append('  state:    %s' % state)
    return '\n'.join(out)


def start(args):
    state = os.path.abspath(args.state)
    os.makedirs(state, exist_ok=True)
    pid = read_pid(state)
    if is_lab_process(pid):
        print('labctl: the lab is already running (pid %d, state %s); run "labctl.py stop" first' % (pid, state), file=sys.stderr)
        return 1
    remove_pid(state)
    try:
        spec = topology.load(args.topology)
    except (OSError, topology.TopologyError) as exc:
        print('labctl: %s' % exc, file=sys.stderr)
        return 2
    command = [sys.executable, os.path.abspath(__file__), 'run', '--state', state, '--topology', os.path.abspath(args.topology)]
    if args.fresh:
        command.append('--fresh')
    log_path = os.path.join(state, 'lab.log')
    with open(log_path, 'a', encoding='utf-8') as log:
        # A session of its own: the lab outlives this command and ignores the terminal's signals.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True, cwd=state)
    if not wait_ready(process, spec, state, time.monotonic() + args.timeout):
        if process.poll() is None:
            reason = 'did not become ready within %ss' % args.timeout
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        else:
            reason = 'exited with code %d' % process.returncode
        print('labctl: the lab %s; last lines of %s:\n%s' % (reason, log_path, tail(log_path, 5)), file=sys.stderr)
        return 1
    with open(pid_file(state), 'w', encoding='utf-8') as handle:
        handle.write('%d\n' % process.pid)
    try:
        print(summary(spec, state, process.pid))
    except BrokenPipeError:
        pass  # e.g. "labctl.py start | head": the lab runs all the same
    return 0


def stop(args):
    state = os.path.abspath(args.state)
    pid = read_pid(state)
    if not is_lab_process(pid):
        remove_pid(state)
        print('lab not running')
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while is_lab_process(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_lab_process(pid):
        os.kill(pid, signal.SIGKILL)
        while is_lab_process(pid):
            time.sleep(0.1)
    remove_pid(state)
    print('lab stopped (pid %d)' % pid)
    return 0


def status(args):
    state = os.path.abspath(args.state)
    pid = read_pid(state)
    if is_lab_process(pid):
        info = {}
        try:
            with open(os.path.join(state, 'lab.json'), encoding='utf-8') as handle:
                info = json.load(handle)
        except (OSError, ValueError):
            pass
        print('lab running (pid %d), %d listeners, control %s, state %s' % (
            pid, len(info.get('listeners', [])), info.get('control_url', '?'), state))
        if getattr(args, 'links', False) and info.get('control_url'):
            print_links(info['control_url'])
        return 0
    print('lab not running (state %s)' % state)
    return 3


def print_links(control_url):
    """One line per system: the subscription link as the lab sees it."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(control_url + 'links', timeout=5) as response:
            rows = json.load(response)
    except (OSError, ValueError, urllib.error.URLError) as exc:
        print('  links: cannot read (%s)' % exc)
        return
    print('  %-16s %-26s %-14s %-5s %s' % ('system', 'type', 'link', 'port', 'reason / grace'))
    for row in rows:
        detail = row.get('reason') or ''
        if row.get('state') in ('ErrorMode', 'Expired'):
            detail = '%s; %s grace days left, %s alarms' % (detail, row.get('grace_days_left'), row.get('alarms'))
        print('  %-16s %-26s %-14s %-5s %s' % (row['name'], row['type'], row.get('state'), row.get('port') or '', detail))


def _panel_value(step):
    """A manual step of the readiness report as the front panel takes it (ipo_lab/panel.py)."""
    value = step['value']
    if step['setting'] == 'default_route':
        return {'gateway': value['Gateway IP Address'], 'destination': value.get('Destination', 'LAN1')}
    if step['setting'] == 'comadmin':
        return {'account_status': value.get('Account Status', 'Enabled')}
    return value


def panel(args):
    """Do what the readiness report lists as manual steps, as a person in Web Manager would, then reboot."""
    state = os.path.abspath(args.state)
    with open(os.path.join(state, 'lab.json'), encoding='utf-8') as handle:
        control_url = json.load(handle)['control_url']
    with open(args.from_report, encoding='utf-8') as handle:
        report = json.load(handle)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(path, body):
        request = urllib.request.Request(control_url + path, data=json.dumps(body).encode('utf-8'), method='POST',
                                         headers={'Content-Type': 'application/json'})
        with opener.open(request, timeout=10) as response:
            return json.load(response)

    done = 0
    for system in report.get('systems', []):
        steps = [step for step in system.get('manual_steps') or [] if step.get('status') == 'open' and step['setting'] != 'backup_dns_server']
        if not steps:
            continue
        values = dict((step['setting'], _panel_value(step)) for step in steps if step['setting'] != 'reboot')
        outcome = {'reboot_pending': any(step['setting'] == 'reboot' for step in steps)}
        if values:
            print('front panel of %s: %s' % (system['system'], ', '.join(sorted(values))))
            outcome = dict(post('systems/%s/panel' % system['system'], values), reboot_pending=True)
        done += len(steps)
        if outcome.get('reboot_pending'):
            print('rebooting %s for the settings that need it' % system['system'])
            post('systems/%s/reboot' % system['system'], {})
    print('%d manual step%s entered' % (done, '' if done == 1 else 's'))
    return 0


def run(args):
    from ipo_lab import server
    return server.main(os.path.abspath(args.state), os.path.abspath(args.topology), args.fresh)


def main(argv=None):
    parser = argparse.ArgumentParser(description='IP Office Management API lab')
    commands = parser.add_subparsers(dest='command', required=True)
    for name, helptext in (('start', 'start in the background and wait until ready'), ('stop', 'stop the background lab'),
                           ('status', 'say whether the lab runs'), ('run', 'run in the foreground'),
                           ('panel', "enter a readiness report's open manual steps on the lab's front panel, and reboot")):
        command = commands.add_parser(name, help=helptext)
        command.add_argument('--state', default=DEFAULT_STATE, help='state folder (default: tests/output/lab)')
        if name == 'status':
            command.add_argument('--links', action='store_true', help="also show every system's subscription link")
        if name in ('start', 'run'):
            command.add_argument('--topology', default=DEFAULT_TOPOLOGY, help='topology file (default: tests/lab/topology.yml)')
            command.add_argument('--fresh', action='store_true', help='discard stored system state')
        if name == 'start':
            command.add_argument('--timeout', type=float, default=20.0, help='seconds to wait for readiness (default 20)')
        if name == 'panel':
            command.add_argument('--from-report', required=True, help='readiness.json whose open manual steps to enter')
    args = parser.parse_args(argv)
    return {'start': start, 'stop': stop, 'status': status, 'run': run, 'panel': panel}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
