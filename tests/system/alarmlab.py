# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for the tests of alarms and of monitoring real releases: bring the lab's documented
system (doc-1) up as a person would, an inventory whose reports go to the test's own folder, a
syslog receiver, and ansible-rulebook running the collection's alarm rulebook."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import yaml

from conftest import API_PASSWORD, REPO
from linklab import CUSTOMER, LAB_DNS, LAB_HOSTS, LAB_SNTP, SERVER, wait_state

# What the lab inventory asks for on doc-1, as a person enters it on the front panel (Web Manager).
DOC_PANEL = {
    'default_route': {'gateway': '127.0.41.254', 'destination': 'LAN1'},
    'dns_server': LAB_DNS, 'time_source': 'SNTP', 'time_server': LAB_SNTP, 'time_zone': 'Europe/London',
    'customer_id': CUSTOMER, 'license_server': SERVER,
}
# The lab topology's syslog server for every system's alarms (tests/lab/topology.yml, lab.alarm_syslog).
TOPOLOGY_SYSLOG = ('127.0.51.4', 514)


def doc_link_up(lab):
    """doc-1 (a documented release) gets its prerequisites from a person on the front panel, reboots, connects."""
    lab.control('POST', '/lab/systems/doc-1/panel', DOC_PANEL)
    lab.control('POST', '/lab/systems/doc-1/reboot')
    wait_state(lab, 'doc-1', 'Connected', timeout=30)


def inventory(tmp_path, hosts, report_dir):
    """The lab inventory for some hosts, with the monitoring report and its history in report_dir."""
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
        data = yaml.safe_load(handle)
    data['all']['vars']['monitor_report_dir'] = str(report_dir)
    data['all']['children'] = {'lab': {'hosts': dict((host, dict(LAB_HOSTS[host])) for host in hosts)}}
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(data))
    return path


def monitor(lab, tmp_path, host, *args, report_dir=None):
    """Run playbooks/monitor.yml on one lab host; (process, monitoring.json or None, output)."""
    report_dir = report_dir or tmp_path / 'monitoring'
    env = dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1')
    proc = subprocess.run(['ansible-playbook', '-i', str(inventory(tmp_path, [host], report_dir)),
                           os.path.join(REPO, 'playbooks', 'monitor.yml')] + list(args),
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert API_PASSWORD not in output
    path = report_dir / 'monitoring.json'
    return proc, (json.loads(path.read_text()) if path.exists() else None), output


def history(report_dir):
    path = report_dir / 'history.jsonl'
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(what, probe, timeout):
    """Poll probe() until it returns something true; fail naming what did not happen, with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s did not happen within %.0f s; last: %r' % (what, timeout, value))
        time.sleep(0.2)


class SyslogReceiver(object):
    """A customer's syslog server in the test: every datagram that reaches address:port, in order."""

    def __init__(self, address, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.settimeout(0.2)
        self.received = []

    def drain(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                return self.received
            self.received.append((data, peer[0]))

    def wait(self, count, timeout=20):
        return wait_for('%d syslog datagrams' % count, lambda: len(self.drain()) >= count and self.received, timeout)

    def close(self):
        self.sock.close()


class Rulebook(object):
    """ansible-rulebook running extensions/eda/rulebooks/monitor_alarms.yml against the lab inventory."""

    def __init__(self, lab, folder, hosts, listen=TOPOLOGY_SYSLOG, host_map=None):
        self.folder = folder
        self.report_dir = folder / 'monitoring'
        self.stats_file = folder / 'source-stats.json'
        self.log = folder / 'ansible-rulebook.log'
        variables = {'ipoffice_alarm_listen_address': listen[0], 'ipoffice_alarm_listen_port': listen[1],
                     'ipoffice_alarm_hosts': host_map or {}, 'ipoffice_alarm_stats_file': str(self.stats_file)}
        (folder / 'vars.yml').write_text(yaml.safe_dump(variables))
        env = dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1')
        with open(self.log, 'w') as out:
            # A session of its own: stop() ends the rulebook and the playbook runs it started, and nothing else.
            self.proc = subprocess.Popen(
                ['ansible-rulebook', '-r', 'ipoffice.subscription.monitor_alarms', '-i', str(inventory(folder, hosts, self.report_dir)),
                 '--vars', str(folder / 'vars.yml'), '-v'], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(folder),
                start_new_session=True)
        wait_for('the event source listening', lambda: self.running() and self.stats().get('listening', {}).get('udp'), 120)

    def running(self):
        if self.proc.poll() is not None:
            raise AssertionError('ansible-rulebook ended (exit %s):\n%s' % (self.proc.returncode, self.output()[-4000:]))
        return True

    def output(self):
        return self.log.read_text(errors='replace')

    def stats(self):
        try:
            return json.loads(self.stats_file.read_text())
        except (OSError, ValueError):
            return {}

    def history(self):
        return history(self.report_dir)

    def wait_history(self, count, timeout=240):
        """Wait until the monitor runs the rules started have written `count` history lines in all."""
        return wait_for('%d monitor history lines' % count, lambda: self.running() and len(self.history()) >= count and self.history(),
                        timeout)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
