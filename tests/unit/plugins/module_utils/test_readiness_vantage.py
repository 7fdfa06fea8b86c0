# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where the network checks ran: every check names it, a controller's verdict
says plainly what it describes, and a probe host that cannot run the checks
fails the node, naming the probe host and the cause."""

from __future__ import annotations

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, readiness

from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.test_readiness import CONNECTED, NODE, all_checks

PROBE = {'host': 'probe-site-1', 'address': '192.0.2.50', 'port': 22, 'connection': 'paramiko', 'user': 'probe',
         'controller': False, 'reach': {}}
CONTROLLER = {'host': 'localhost', 'address': '127.0.0.1', 'connection': 'local', 'controller': True}


def test_each_check_names_its_vantage_point():
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(), vantage_spec=PROBE)
    assert report['verdict'] == readiness.READY
    assert report['vantage_point'] == {'kind': 'probe_host', 'host': 'probe-site-1', 'address': '192.0.2.50',
                                       'text': 'probe host probe-site-1 (192.0.2.50)'}
    by_name = dict((item['check'], item['vantage_point']) for item in report['checks'])
    assert by_name['dns.ok'] == by_name['time.ok'] == 'probe host probe-site-1 (192.0.2.50)'
    assert by_name['prerequisite.dns_server'] == by_name['link.first_connection'] == readiness.FROM_THE_SYSTEM
    assert 'network checks from probe host probe-site-1 (192.0.2.50)' in report['notes']


def test_a_port_other_than_22_is_part_of_the_address():
    where = readiness.vantage_point(dict(PROBE, port=2222))
    assert where['text'] == 'probe host probe-site-1 (192.0.2.50 port 2222)'


def test_checks_from_the_controller_say_what_the_verdict_describes():
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(), vantage_spec=CONTROLLER)
    doc = readiness.document([report], 'now')
    assert doc['fleet']['checked_from_controller'] == ['site-1']
    assert doc['fleet']['vantage_points'] == ['the controller (localhost)']
    lines = readiness.text_lines(doc)
    assert lines[-2] == ("checked from the controller: site-1 - their network checks ran on the controller, so the verdict "
                         "describes the controller's network, not the site's: set validate_probe_host to a host in the "
                         "site's network (docs/validate.md)")
    page = readiness.to_html(doc)
    assert '<p class="vantage" id="vantage">1 system checked from the controller: their network checks ran on the ' \
           'controller, so the verdict describes the controller&#39;s network, not the site&#39;s' in page
    assert '<td class="from">the controller (localhost)</td>' in page


def test_nothing_is_said_about_a_vantage_point_nobody_gave():
    report = readiness.system_report('h', NODE, CONNECTED, all_checks())
    doc = readiness.document([report], 'now')
    assert report['vantage_point'] is None and 'vantage_point' not in report['checks'][0]
    assert doc['fleet']['checked_from_controller'] == [] and doc['fleet']['vantage_points'] == []
    assert not any(line.startswith('checked from') for line in readiness.text_lines(doc))


@pytest.mark.parametrize('reach, cause, fix', [
    ({'unreachable': True, 'msg': 'Failed to connect to the host via ssh: ssh: connect to host 192.0.2.50 port 22: '
                                  'Connection refused'},
     'SSH to 192.0.2.50:22 cannot be reached (Ansible: Failed to connect', 'sshd listens'),
    ({'unreachable': True, 'msg': 'Invalid/incorrect username/password. Authentication failed.'},
     'it refused the SSH key of user probe', 'authorized_keys'),
    ({'unreachable': True, 'msg': 'Failed to connect to the host via ssh: Permission denied (publickey).'},
     'it refused the SSH key of user probe', 'ansible_ssh_private_key_file'),
    ({'unreachable': True, 'msg': 'host key mismatch for 192.0.2.50'},
     'its SSH host key does not match the one known_hosts holds for 192.0.2.50:22', 'host key checking stays on'),
    ({'unreachable': True, 'msg': 'Task failed: Failed to connect to the host via ssh: @@@@@@\r\n@    WARNING: REMOTE HOST '
                                  'IDENTIFICATION HAS CHANGED!     @\r\n@@@@@@\r\nHost key for [192.0.2.50]:22 has changed and '
                                  'you have requested strict checking.\r\nHost key verification failed.'},
     'its SSH host key does not match the one known_hosts holds for 192.0.2.50:22 (Ansible: Host key for [192.0.2.50]:22 '
     'has changed and you have requested strict checking.)', 'update known_hosts'),
    ({'unreachable': True, 'msg': 'Failed to connect to the host via ssh: No ED25519 host key is known for 192.0.2.50 '
                                  'and you have requested strict checking.\r\nHost key verification failed.'},
     'its SSH host key is not in known_hosts', 'fingerprint'),
    # paramiko without a terminal to ask whether to trust an unknown key (what ansible-core 2.19 says).
    ({'unreachable': True, 'msg': 'Task failed: stdin is not interactive'},
     'its SSH host key is not in known_hosts (Ansible: stdin is not interactive)', 'fingerprint'),
    ({'failed': True, 'rc': 127, 'msg': 'MODULE FAILURE: No start of json char found\nSee stdout/stderr for the exact error',
      'module_stderr': '/bin/sh: 1: /usr/bin/python3: not found\n'},
     'it has no Python interpreter (/bin/sh: 1: /usr/bin/python3: not found)', 'install Python 3'),
    # ansible-core 2.19 over ssh: the shell's complaint on stdout, the multiplexer's goodbye on stderr.
    ({'failed': True, 'rc': 127, 'msg': "The module interpreter '/usr/bin/python3' was not found.",
      'module_stdout': '/bin/sh: 1: /usr/bin/python3: not found\r\n', 'module_stderr': 'Shared connection to 192.0.2.50 closed.\r\n'},
     "it has no Python interpreter (The module interpreter '/usr/bin/python3' was not found.)", 'install Python 3'),
    ({'unreachable': True, 'msg': 'Task failed: Failed to authenticate: Authentication failed.'},
     'it refused the SSH key of user probe (Ansible: Failed to authenticate: Authentication failed.)', 'authorized_keys'),
])
def test_a_probe_host_that_cannot_run_the_checks_fails_the_node_naming_host_and_cause(reach, cause, fix):
    spec = dict(PROBE, reach=reach)
    skipped = {'item': NODE, 'skipped': True, 'false_condition': 'validate_probe_problem is not defined'}
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(dns=skipped, ports=skipped, tls=skipped,
                                                                      quality=skipped, time=skipped), vantage_spec=spec)
    assert report['verdict'] == readiness.NOT_READY and report['failed_checks'] == ['probe.reachable']
    network = [item for item in report['checks'] if not item['check'].startswith(('prerequisite.', 'link.'))]
    assert [item['check'] for item in network] == ['probe.reachable']
    failure = network[0]
    assert failure['status'] == checks.FAIL and failure['vantage_point'] == 'probe host probe-site-1 (192.0.2.50)'
    assert failure['summary'].startswith('the network checks could not run on probe host probe-site-1 (192.0.2.50): ' + cause)
    assert fix in failure['hint']
    assert report['notes'][0].startswith('the network checks could not run on probe host probe-site-1')
    assert not [item for item in report['checks'] if item['status'] == checks.PASS and item['check'].split('.')[0] in
                ('dns', 'ports', 'tls', 'quality', 'time')]


def test_a_skipped_group_says_why_when_the_role_said_so():
    skipped = {'item': NODE, 'skipped': True, 'false_condition': 'item.node_address in validate_resolved'}
    groups = all_checks(ports=skipped)
    groups[1]['skipped_because'] = 'DNS gave no single address for the subscription server'
    report = readiness.system_report('h', NODE, CONNECTED, groups, vantage_spec=PROBE)
    ports = [item for item in report['checks'] if item['check'] == 'ports.not_run'][0]
    assert ports['status'] == checks.NOT_MEASURED
    assert ports['summary'] == 'not run: DNS gave no single address for the subscription server'


def test_a_probe_host_lost_during_the_checks_fails_them_with_ansibles_message():
    lost = {'item': NODE, 'unreachable': True, 'msg': 'Failed to connect to the host via ssh: Connection reset'}
    report = readiness.system_report('h', NODE, CONNECTED, all_checks(tls=lost, quality=lost), vantage_spec=PROBE)
    assert report['verdict'] == readiness.NOT_READY and report['failed_checks'] == ['tls.error', 'quality.error']
    error = [item for item in report['checks'] if item['check'] == 'tls.error'][0]
    assert 'Connection reset' in error['summary'] and error['vantage_point'] == 'probe host probe-site-1 (192.0.2.50)'
