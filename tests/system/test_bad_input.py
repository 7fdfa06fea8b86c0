# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad input, one table: every module and every role refuses a wrong value
before any request (or, where the rule needs the node's own LAN, after reads
but before any write), with a message that names the option and the value.

All module rows run in ONE playbook (each task ignore_errors and registered),
all role rows in ONE playbook with one inventory host per bad value. Rows that
must not make any request point at the Server Edition Primary's listener, so
the lab's log of that listener must stay empty; the few rows that read first
each get a listener of their own, whose log must hold reads only."""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml

from conftest import REPO, SCN_APP_SERVER, SE_PRIMARY, SINGLE_APP_SERVER, connection
from figures import record

OFFLINE = SE_PRIMARY  # no request at all may reach this listener
NOWHERE = '/nonexistent/ipoffice-bad-input'


class Row(object):
    """One bad value: where (module or role), option, value, the words its message must hold, listener.

    Module rows with the same `task` run as one task: those modules collect every problem of their input, so
    each row's option and value must still appear in the one message (a value not refused would not be named)."""

    def __init__(self, where, option, value, args=None, words=(), listener=OFFLINE, shown=None, task=None, option_word=None,
                 starts=False):
        self.where, self.option, self.value, self.args = where, option, value, args or {}
        self.listener, self.task = listener, task
        # A role's message starts with the role variable the user set, never with a module option.
        self.starts = starts
        self.shown = shown if shown is not None else (repr(value) if value == '' else str(value))
        self.words = [option_word or self.option, self.shown] + list(words)

    @property
    def reads_first(self):
        return self.listener != OFFLINE


# --- module rows: the task's arguments besides the connection -------------------------------------------

def _routes(*items):
    return {'config': [dict({'gateway': '127.0.30.254', 'destination': 'LAN1'}, **item) for item in items], 'node_address': SE_PRIMARY}


def _users(*items):
    return {'config': [dict({'name': 'bad-input-user-%d' % index, 'password': 'Bad-Input-Passw0rd'}, **item)
                       for index, item in enumerate(items)]}


CONNECTION_ROWS = dict(host='https://127.0.30.1/', port=70000, ca_path=NOWHERE + '/ca.pem', timeout=0, retries=11, node_address='node-1')
ROUTES = _routes({'ip_address': '10.1'}, {'ip_address': '10.0.0.0', 'ip_mask': '255.0.255.0'}, {'ip_address': '10.0.1.0', 'ip_mask': '33'},
                 {'ip_address': '10.0.2.0', 'ip_mask': '24', 'gateway': '127.0.30.256'}, {'ip_address': '10.0.3.0', 'ip_mask': '24', 'metric': 256})
USERS = _users({'name': ''}, {'name': 'x' * 32}, {'rights_groups': ['Bad|Group']}, {'password': ''}, {'password': '   '})
# A gateway must be another host on the node's LAN (127.0.11.1/24 on the lab's single IP500 V2).
GATEWAYS = dict(_routes({'gateway': '127.0.99.254'}, {'ip_address': '10.0.1.0', 'ip_mask': '24', 'gateway': '127.0.11.1'},
                        {'ip_address': '10.0.2.0', 'ip_mask': '24', 'gateway': '127.0.11.0'},
                        {'ip_address': '10.0.3.0', 'ip_mask': '24', 'gateway': '127.0.11.255'}), node_address='127.0.11.1')
DNS_CHECK = {'server': '127.0.53', 'port': 0, 'server_address': 'admin.lab1.avaya-sub.com:443', 'names': ['storage googleapis.com'],
             'timeout': 61}
# time_check's time_zone is the node's own setting under test: a wrong one is a finding of the check, not bad input.
TIME_CHECK = {'server': '127.0.123.123:123', 'time_zone': 'Europe/London', 'port': 0, 'max_offset_seconds': -1}
PORT_CHECK = {'address': 'com.example', 'ports': [443, 443], 'attempts': 0, 'server_name': 'admin.lab1.avaya-sub.com'}
TLS_CHECK = {'address': '127.0.44.1', 'port': 70000, 'server_name': 'admin.lab1.avaya-sub.com', 'client_cert': NOWHERE + '/probe.pem',
             'client_key': NOWHERE + '/probe.key', 'path': 'link/v1'}
QUALITY_CHECK = {'address': '127.0.44.1', 'port': 443, 'server_name': 'admin.lab1.avaya-sub.com', 'samples': 0, 'throughput_bytes': 10,
                 'customer_id': 'LAB 0001', 'ca_path': NOWHERE + '/com-ca.pem'}
# Modules without a connection of their own (the check modules and readiness_report).
OFFLINE_MODULES = ('dns_check', 'time_check', 'port_check', 'tls_check', 'link_quality_check', 'readiness_report')

MODULE_ROWS = [
    # connection options (every API module shares them), all in one task
    Row('system_info', 'host', CONNECTION_ROWS['host'], CONNECTION_ROWS, task='connection'),
    Row('system_info', 'port', 70000, CONNECTION_ROWS, task='connection'),
    Row('system_info', 'ca_path', CONNECTION_ROWS['ca_path'], CONNECTION_ROWS, task='connection'),
    Row('system_info', 'timeout', 0, CONNECTION_ROWS, task='connection'),
    Row('system_info', 'retries', 11, CONNECTION_ROWS, task='connection'),
    Row('system_info', 'node_address', 'node-1', CONNECTION_ROWS, task='connection'),
    Row('subscription_status', 'port', 0, {'port': 0}),
    # dns
    Row('dns', 'server', '8.8.8', {'server': '8.8.8', 'backup_server': '300.1.1.1', 'domain': 'exa mple.com'}, task='dns'),
    Row('dns', 'backup_server', '300.1.1.1', task='dns'),
    Row('dns', 'domain', 'exa mple.com', task='dns'),
    # values that parse but cannot work: no server answers at 0.0.0.0 or a broadcast address; a domain with the root's dot
    Row('dns', 'server', '0.0.0.0', {'server': '0.0.0.0', 'backup_server': '255.255.255.255', 'domain': 'example.com.'}, task='dns2',
        words=['names no server']),
    Row('dns', 'backup_server', '255.255.255.255', task='dns2', words=['broadcast address']),
    Row('dns', 'domain', 'example.com.', task='dns2', words=['without a trailing dot']),
    # time
    Row('time', 'server', 'https://time.google.com', {'source': 'SNTP', 'server': 'https://time.google.com', 'time_zone': 'Mars/Base',
                                                      'local_offset_minutes': 900}, task='time'),
    Row('time', 'time_zone', 'Mars/Base', task='time'),
    Row('time', 'local_offset_minutes', 900, task='time'),
    Row('time', 'time_zone', 'europe/london', {'time_zone': 'europe/london'}),
    # names zoneinfo loads but no site should use, a broadcast time server, a host name with the root's dot
    Row('time', 'server', '255.255.255.255', {'server': '255.255.255.255', 'time_zone': 'US/Eastern'}, task='time2',
        words=['broadcast address']),
    Row('time', 'time_zone', 'US/Eastern', task='time2', words=['give America/New_York']),
    Row('time', 'time_zone', 'Etc/GMT+1', {'server': 'time.google.com.', 'time_zone': 'Etc/GMT+1'}, task='time3', words=['sign reversed']),
    Row('time', 'server', 'time.google.com.', task='time3', words=['without a trailing dot']),
    Row('time', 'time_zone', 'right/Europe/London', {'time_zone': 'right/Europe/London'}, words=['give Europe/London']),
    # ip_route: addresses, masks, gateways, metric in one task; a LAN name; a gateway outside the LAN (reads first)
    Row('ip_route', 'config[0].ip_address', '10.1', ROUTES, task='routes'),
    Row('ip_route', 'config[1].ip_mask', '255.0.255.0', task='routes'),
    Row('ip_route', 'config[2].ip_mask', '33', task='routes'),
    Row('ip_route', 'config[3].gateway', '127.0.30.256', task='routes'),
    Row('ip_route', 'config[4].metric', 256, task='routes'),
    Row('ip_route', 'config[0].destination', 'LAN3', _routes({'destination': 'LAN3'}), words=['LAN1, LAN2'], option_word='destination'),
    Row('ip_route', 'config[0].gateway', '127.0.99.254', GATEWAYS, words=['not in the subnet of LAN1'], listener=SINGLE_APP_SERVER,
        task='gateways'),
    Row('ip_route', 'config[1].gateway', '127.0.11.1', words=["node's own LAN1 address"], listener=SINGLE_APP_SERVER, task='gateways'),
    Row('ip_route', 'config[2].gateway', '127.0.11.0', words=['network address of LAN1'], listener=SINGLE_APP_SERVER, task='gateways'),
    Row('ip_route', 'config[3].gateway', '127.0.11.255', words=['broadcast address of LAN1'], listener=SINGLE_APP_SERVER, task='gateways'),
    # subscription: customer IDs and the server address
    Row('subscription', 'customer_id', 'LAB_0001', {'customer_id': 'LAB_0001', 'server_address': 'http://admin.lab1.avaya-sub.com'}, task='s1'),
    Row('subscription', 'server_address', 'http://admin.lab1.avaya-sub.com', task='s1'),
    Row('subscription', 'customer_id', '-LAB', {'customer_id': '-LAB', 'server_address': '127.0.44.1'}, task='s2'),
    Row('subscription', 'server_address', '127.0.44.1', task='s2'),
    Row('subscription', 'server_address', 'admin.lab1.avaya-sub.com:8443', {'server_address': 'admin.lab1.avaya-sub.com:8443'}),
    # a customer ID YAML read as a number is refused, never rewritten; a host name with the root's dot
    Row('subscription', 'customer_id', 12345, {'customer_id': 12345, 'server_address': 'admin.lab1.avaya-sub.com.'}, task='s3',
        words=['YAML read it as the number', 'put the customer ID in quotes']),
    Row('subscription', 'server_address', 'admin.lab1.avaya-sub.com.', task='s3', words=['without a trailing dot']),
    # service_user: names, passwords, rights groups in one task; a rights group unknown to the node (reads first)
    Row('service_user', 'config[0].name', '', USERS, task='users'),
    Row('service_user', 'config[1].name', 'x' * 32, task='users'),
    Row('service_user', 'config[2].rights_groups', 'Bad|Group', task='users'),
    Row('service_user', 'config[3].password', '', task='users', shown='must not be empty'),
    Row('service_user', 'config[4].password', '   ', task='users', shown='must not be empty or white space alone'),
    Row('service_user', 'config[0].rights_groups', 'No Such Group', dict(_users({'rights_groups': ['No Such Group']}), node_address='127.0.21.1'),
        words=['is not a rights group'], listener=SCN_APP_SERVER),
    # dns_check
    Row('dns_check', 'server', '127.0.53', DNS_CHECK, task='dns_check'),
    Row('dns_check', 'port', 0, task='dns_check'),
    Row('dns_check', 'server_address', 'admin.lab1.avaya-sub.com:443', task='dns_check'),
    Row('dns_check', 'names[0]', 'storage googleapis.com', task='dns_check'),
    Row('dns_check', 'timeout', 61.0, task='dns_check'),
    # time_check
    Row('time_check', 'server', '127.0.123.123:123', TIME_CHECK, task='time_check'),
    Row('time_check', 'port', 0, task='time_check'),
    Row('time_check', 'max_offset_seconds', -1.0, task='time_check'),
    # port_check
    Row('port_check', 'address', 'com.example', PORT_CHECK, task='port_check'),
    Row('port_check', 'ports', '[443, 443]', task='port_check'),
    Row('port_check', 'attempts', 0, task='port_check'),
    Row('port_check', 'ports[0]', 0, {'address': '127.0.44.1', 'ports': [0, 443]}),
    # tls_check: ports, file paths, URL paths
    Row('tls_check', 'port', 70000, TLS_CHECK, task='tls_check'),
    Row('tls_check', 'client_cert', TLS_CHECK['client_cert'], task='tls_check'),
    Row('tls_check', 'client_key', TLS_CHECK['client_key'], task='tls_check'),
    Row('tls_check', 'path', 'link/v1', task='tls_check'),
    # link_quality_check
    Row('link_quality_check', 'samples', 0, QUALITY_CHECK, task='quality'),
    Row('link_quality_check', 'throughput_bytes', 10, task='quality'),
    Row('link_quality_check', 'customer_id', 'LAB 0001', task='quality'),
    Row('link_quality_check', 'ca_path', QUALITY_CHECK['ca_path'], task='quality'),
    # readiness_report: a negative warning window, a report folder that cannot be made
    Row('readiness_report', 'expiry_warning_days', -1, {'hosts': [{'host': 'bad-input'}], 'dest': '/tmp/ipoffice-bad-input',
                                                        'expiry_warning_days': -1}),
    Row('readiness_report', 'dest', '/proc/ipoffice-bad-input', {'hosts': [{'host': 'bad-input'}], 'dest': '/proc/ipoffice-bad-input'}),
]


def _module_tasks(rows):
    """[(task arguments, [rows])]: rows with the same task share the arguments of the first of them."""
    tasks, by_key = [], {}
    for index, row in enumerate(rows):
        key = (row.where, row.task or index)
        if key not in by_key:
            by_key[key] = (row.where, row.args, row.listener, [])
            tasks.append(by_key[key])
        by_key[key][3].append(row)
    return tasks


# --- role rows: one inventory host each, one bad variable -------------------------------------------------

ROLE_ROWS = [
    # prerequisites: the form checks run offline, before the first read
    Row('prerequisites', 'prerequisites_time_zone', 'Mars/Base', starts=True),
    Row('prerequisites', 'prerequisites_time_server', 'time.google.com:123', starts=True),
    Row('prerequisites', 'prerequisites_dns_server', '8.8.8', starts=True),
    Row('prerequisites', 'prerequisites_dns_fallback_server', '8.8.8.8.8', {'prerequisites_dns_server': ''}, starts=True),
    Row('prerequisites', 'prerequisites_customer_id', 'LAB_0001', starts=True),
    Row('prerequisites', 'prerequisites_subscription_server', 'https://admin.lab1.avaya-sub.com/portal', starts=True),
    Row('prerequisites', 'prerequisites_default_gateway', 'router.example', {'prerequisites_default_gateways': {}}, starts=True),
    Row('prerequisites', 'prerequisites_default_gateways', '127.0.30.2544', {'prerequisites_default_gateways': {SE_PRIMARY: '127.0.30.2544'}},
        starts=True),
    # values that parse but cannot work, each refused before any request and named by the role variable
    Row('prerequisites', 'prerequisites_dns_server', '0.0.0.0', words=['names no server'], starts=True),
    Row('prerequisites', 'prerequisites_time_server', '255.255.255.255', words=['broadcast address'], starts=True),
    Row('prerequisites', 'prerequisites_time_zone', 'GB', words=['give Europe/London'], starts=True),
    Row('prerequisites', 'prerequisites_customer_id', 12345, words=['YAML read it as the number', 'in quotes'], starts=True),
    Row('prerequisites', 'prerequisites_subscription_server', 'admin.lab1.avaya-sub.com.', words=['without a trailing dot'], starts=True),
    Row('prerequisites', 'prerequisites_comadmin_password', '   ', shown='must not be empty or white space alone', starts=True),
    Row('prerequisites', 'prerequisites_default_route_lan', 'LAN3'),
    Row('prerequisites', 'prerequisites_reboot_policy', 'now'),
    # the gateway must be on the node's LAN, which only the node knows: reads first, writes nothing
    Row('prerequisites', 'prerequisites_default_gateway', '127.0.99.254', {'prerequisites_default_gateways': {}},
        words=['not in the subnet of LAN1'], listener=SINGLE_APP_SERVER, starts=True),
    # a gateway that is the node itself, or its subnet's network or broadcast address (one per node of the SCN)
    Row('prerequisites', 'prerequisites_default_gateways', '127.0.21.1',
        {'prerequisites_default_gateways': {'127.0.21.1': '127.0.21.1', '127.0.21.2': '127.0.21.0', '127.0.21.3': '127.0.21.255'}},
        words=["is the node's own LAN1 address", '127.0.21.0 is the network address of LAN1', '127.0.21.255 is the broadcast address'],
        listener=SCN_APP_SERVER, starts=True),
    # validate: types and choices by the argument spec, ranges by the check modules' own input check (validate_only)
    Row('validate', 'validate_ports', '[443, 443]', {'validate_ports': [443, 443]}),
    Row('validate', 'validate_ports', '[0, 8443]', {'validate_ports': [0, 8443]}),
    Row('validate', 'validate_dns_port', 70000),
    Row('validate', 'validate_time_port', 0),
    Row('validate', 'validate_check_timeout', 0),
    Row('validate', 'validate_max_round_trip_ms', -200, starts=True),
    Row('validate', 'validate_min_throughput_kbps', 0, starts=True),
    Row('validate', 'validate_wait_timeout', 'five minutes'),
    Row('validate', 'validate_wait_for_link', 'perhaps'),
    # monitor
    Row('monitor', 'monitor_expiry_warning_days', -1),
    Row('monitor', 'monitor_expiry_warning_days', 'a month'),
    Row('monitor', 'monitor_fail_on_findings', 'sometimes'),
]


def _lab_logs(lab):
    """Lengths of the lab's logs of the world around the systems: DNS, SNTP, COM."""
    return dict((name, len(lab.control('GET', path))) for name, path in (
        ('dns', '/lab/dns/queries?since=0'), ('sntp', '/lab/sntp/queries?since=0'), ('com', '/lab/com/connections?since=0')))


def _assert_requests(lab, start, rows):
    """No write anywhere; nothing at all on the offline listener; reads only on a reads-first row's own listener.
    Returns (the number of requests, the number of writes) each row's listener saw, as the figures record them."""
    entries = lab.requests(start)
    assert [e for e in entries if e['write']] == [], 'a bad value led to a write'
    assert [e for e in entries if e['listener'] == OFFLINE] == [], 'a row that must fail offline made a request'
    # Rows of one task share its listener; each reads-first task needs one of its own.
    listeners = [row.listener for row in _first_of_each_task(rows) if row.reads_first]
    assert len(listeners) == len(set(listeners)), 'each reads-first task needs a listener of its own'
    for entry in entries:
        assert entry['listener'] in listeners, entry  # reads, logins and logouts only (no write, above)
    return dict((row.listener, (len([e for e in entries if e['listener'] == row.listener]),
                                len([e for e in entries if e['listener'] == row.listener and e['write']]))) for row in rows)


def _first_of_each_task(rows):
    return [task_rows[0] for _where, _args, _listener, task_rows in _module_tasks(rows)]


def _check_message(row, failed, message):
    assert failed, '%s %s=%r was accepted' % (row.where, row.option, row.value)
    for word in row.words:
        assert word in message, '%s %s: %r not in the message: %s' % (row.where, row.option, word, message)


def test_every_module_refuses_bad_input_before_any_write(fresh_lab, run_playbook):
    grouped = _module_tasks(MODULE_ROWS)
    tasks = []
    for index, (where, args, listener, _rows) in enumerate(grouped):
        if where not in OFFLINE_MODULES:
            args = dict(connection(fresh_lab, listener, retries=0), **args)
        tasks.append({'name': 'Bad input %d: %s' % (index, where), 'ipoffice.subscription.' + where: args,
                      'register': 'bad_input_%d' % index, 'ignore_errors': True})
    tasks.append({'name': 'Collect', 'ansible.builtin.set_fact': {
        'bad_input_results': '{{ [%s] }}' % ', '.join('bad_input_%d' % i for i in range(len(grouped)))}})
    start, world = fresh_lab.last_seq(), _lab_logs(fresh_lab)
    run = run_playbook(tasks, capture=['bad_input_results'])
    results = run.results.get('bad_input_results')
    assert results and len(results) == len(grouped), run.output[-3000:]
    for (_where, _args, _listener, rows), result in zip(grouped, results):
        assert 'Traceback' not in json.dumps(result), result
        for row in rows:
            _check_message(row, result.get('failed'), result.get('msg', ''))
    counts = _assert_requests(fresh_lab, start, MODULE_ROWS)
    # The check modules refused before any lookup, probe or connection.
    assert _lab_logs(fresh_lab) == world
    assert len(MODULE_ROWS) >= 40 and len(set(row.where for row in MODULE_ROWS)) == 13
    for row in MODULE_ROWS:
        record('bad_input', where=row.where, option=row.option, value=row.shown, requests=counts[row.listener][0],
               writes=counts[row.listener][1])


# A task delegated to the controller shows as [host -> localhost]: the host is the part before the arrow.
_FAILURE = re.compile(r'^(?:fatal|failed): \[([^\]\s]+)(?: -> [^\]]+)?\](?:: FAILED!)?(?: \(item=.*?\))? => (\{.*\})$', re.M)


def test_every_role_refuses_bad_input_before_any_write(fresh_lab, tmp_path):
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
        base = yaml.safe_load(handle)['all']['vars']
    groups = {'prerequisites': {}, 'validate': {}, 'monitor': {}}
    for index, row in enumerate(ROLE_ROWS):
        host_vars = {'ipoffice_host': row.listener, row.option: row.value if row.option not in row.args else row.args[row.option]}
        host_vars.update((key, value) for key, value in row.args.items() if key != row.option)
        groups[row.where]['bad%02d' % index] = host_vars
    # lab_identity: the system whose identity lab.yml's validate_client_cert names (the checks never run here).
    inventory = {'all': {'vars': dict(base, validate_report_dir=str(tmp_path / 'readiness'), monitor_report_dir=str(tmp_path / 'monitoring'),
                                      lab_identity='ip500-single'),
                         'children': dict((name, {'hosts': hosts}) for name, hosts in groups.items())}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    # One play: a playbook stops at a play whose hosts all failed, so a play per role would hide the later roles.
    plays = [{'name': 'Bad input', 'hosts': 'all', 'gather_facts': False, 'tasks': [
        {'name': 'Run the role under test', 'ansible.builtin.include_role': {'name': 'ipoffice.subscription.{{ group_names[0] }}'}}]}]
    (tmp_path / 'play.yml').write_text(yaml.safe_dump(plays, sort_keys=False))
    env = dict(os.environ, IPOFFICE_LAB_STATE=fresh_lab.state, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0',
               ANSIBLE_DISPLAY_OK_HOSTS='0', ANSIBLE_DISPLAY_SKIPPED_HOSTS='0')
    start, world = fresh_lab.last_seq(), _lab_logs(fresh_lab)
    proc = subprocess.run(['ansible-playbook', '-i', str(tmp_path / 'inventory.yml'), str(tmp_path / 'play.yml')],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    messages = {}
    for host, body in _FAILURE.findall(proc.stdout):
        messages.setdefault(host, []).append(json.loads(body).get('msg', ''))
    for index, row in enumerate(ROLE_ROWS):
        host = 'bad%02d' % index
        _check_message(row, host in messages, ' '.join(messages.get(host, [])) or output[-2000:])
        if row.starts:
            assert any(message.startswith(row.option) for message in messages[host]), (row.option, messages[host])
    assert proc.returncode != 0 and 'Traceback' not in output
    counts = _assert_requests(fresh_lab, start, ROLE_ROWS)
    assert _lab_logs(fresh_lab) == world
    for row in ROLE_ROWS:
        record('bad_input', where='role ' + row.where, option=row.option, value=row.shown, requests=counts[row.listener][0],
               writes=counts[row.listener][1])
