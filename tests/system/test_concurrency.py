# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Concurrency: many forks configure the three Server Edition nodes through the
one Primary at the same time, each fork a different field of the same node
(IP routes added to the same list, DNS and time fields of the same System
object, which the collection writes back whole). No update may be lost, and
nothing else may change."""

from __future__ import annotations

import copy
import os
import subprocess

import yaml

from conftest import API_PASSWORD, SE_PRIMARY
from figures import record

NODES = {'se-primary': '127.0.30.1', 'se-secondary': '127.0.30.2', 'se-expansion': '127.0.30.3'}
GATEWAY = '127.0.30.254'  # in every node's LAN1 subnet
# Per node, four writers: each adds a route of its own and sets one more field of the node's System.
KINDS = ('dns_server', 'dns_backup', 'time_server', 'time_zone')


def _writers():
    writers = {}
    for index, (name, node) in enumerate(sorted(NODES.items())):
        for offset, kind in enumerate(KINDS):
            number = index * len(KINDS) + offset + 1
            writers['writer-%02d' % number] = {
                'writer_node': node, 'writer_kind': kind, 'writer_route': '10.%d.0.0' % number,
                'writer_value': {'dns_server': '127.0.53.%d' % (100 + number), 'dns_backup': '127.0.54.%d' % number,
                                 'time_server': '127.0.123.%d' % number, 'time_zone': 'Europe/Berlin'}[kind]}
    return writers


PLAY = [{
    'name': 'Many forks, one Primary', 'hosts': 'all', 'gather_facts': False,
    'module_defaults': {'group/ipoffice.subscription.api': {
        'host': SE_PRIMARY, 'username': 'apiadmin', 'password': '{{ writer_password }}', 'ca_path': '{{ writer_ca_path }}',
        'node_address': '{{ writer_node }}'}},
    'tasks': [
        {'name': 'Add this writer\'s route', 'ipoffice.subscription.ip_route': {
            'config': [{'ip_address': '{{ writer_route }}', 'ip_mask': '255.255.0.0', 'gateway': GATEWAY, 'destination': 'LAN1'}],
            'state': 'merged'}},
        {'name': 'DNS server', 'ipoffice.subscription.dns': {'server': '{{ writer_value }}'},
         'when': "writer_kind == 'dns_server'"},
        {'name': 'Backup DNS server', 'ipoffice.subscription.dns': {'backup_server': '{{ writer_value }}'},
         'when': "writer_kind == 'dns_backup'"},
        {'name': 'Time server', 'ipoffice.subscription.time': {'source': 'SNTP', 'server': '{{ writer_value }}'},
         'when': "writer_kind == 'time_server'"},
        {'name': 'Time zone', 'ipoffice.subscription.time': {'time_zone': '{{ writer_value }}'},
         'when': "writer_kind == 'time_zone'"},
    ]}]

FIELDS = {'dns_server': ('DNS', 'DNSServerIPAddress'), 'dns_backup': ('DNS', 'BackupDNSServerIPAddress'),
          'time_server': ('TimeSettings', 'TimeServerAddress'), 'time_zone': ('TimeSettings', 'TimeZone')}


def test_many_forks_through_one_primary_lose_no_update(fresh_lab, tmp_path):
    writers = _writers()
    names = dict((node, name) for name, node in NODES.items())
    before = dict((name, fresh_lab.system(name)['config']) for name in NODES)
    inventory = {'all': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}',
                                  'writer_password': API_PASSWORD, 'writer_ca_path': fresh_lab.ca_path},
                         'hosts': writers}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    (tmp_path / 'play.yml').write_text(yaml.safe_dump(PLAY, sort_keys=False))
    start = fresh_lab.last_seq()
    proc = subprocess.run(['ansible-playbook', '-i', str(tmp_path / 'inventory.yml'), '-f', str(len(writers)), str(tmp_path / 'play.yml')],
                          capture_output=True, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR='1'), timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert API_PASSWORD not in output

    # Every node holds exactly what it held before plus every writer's update: whole objects compared.
    lost = []
    for node, name in names.items():
        mine = dict((host, spec) for host, spec in writers.items() if spec['writer_node'] == node)
        expected_system = copy.deepcopy(before[name]['System'])
        for spec in mine.values():
            section, field = FIELDS[spec['writer_kind']]
            expected_system[section][field] = spec['writer_value']
            if spec['writer_kind'] == 'time_server':
                expected_system['TimeSettings']['TimeSettingConfigSource'] = 'SNTP'
        after = fresh_lab.system(name)['config']
        for section, value in expected_system.items():
            if isinstance(value, dict):
                lost.extend('%s %s.%s' % (name, section, field) for field in value
                            if (after['System'].get(section) or {}).get(field) != value[field])
            elif after['System'].get(section) != value:
                lost.append('%s %s' % (name, section))
        assert after['System'] == expected_system, name
        old = [route for route in after['IPRoute'] if route['@GUID'] in set(r['@GUID'] for r in before[name]['IPRoute'])]
        assert old == before[name]['IPRoute'], name
        new = sorted(((r['IPAddress'], r['IPMask'], r['GatewayIPAddress'], r['Destination']) for r in after['IPRoute'] if r not in old))
        lost.extend('%s route %s' % (name, spec['writer_route']) for spec in mine.values()
                    if (spec['writer_route'], '255.255.0.0', GATEWAY, 'LAN1') not in new)
        assert new == sorted((spec['writer_route'], '255.255.0.0', GATEWAY, 'LAN1') for spec in mine.values()), name
        for section in ('ServiceUser', 'RightsGroup'):
            assert after[section] == before[name][section], (name, section)

    writes = [entry for entry in fresh_lab.requests(start) if entry['write'] and entry['applied']]
    assert len(writes) == 2 * len(writers)  # one route and one System field each, none written twice
    record('concurrency', hosts=len(writers), forks=len(writers), nodes=len(NODES), writes=len(writes), lost=len(lost))
