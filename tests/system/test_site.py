# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The main job (playbooks/site.yml with the lab inventory), as the README runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess

from conftest import API_PASSWORD, REPO, changed_tasks, only_the_reports_changed
from linklab import link, wait_state

NODES = ('ip500-single', 'scn-1', 'scn-2', 'scn-3', 'se-primary', 'se-secondary', 'se-expansion')


def _site(lab, *args):
    # The model systems: the documented one (doc) waits for a person, tests/system/test_real_systems.py.
    env = dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1')
    return subprocess.run(['ansible-playbook', '-i', os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml'),
                           os.path.join(REPO, 'playbooks', 'site.yml'), '--limit', '!doc'] + list(args),
                          capture_output=True, text=True, env=env, timeout=900, check=False)


def _recap(output):
    return dict((host, dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', rest)))
                for host, rest in re.findall(r'^(\S+)\s+:\s+(ok=.*)$', output, re.M))


def test_check_mode_plans_everything_and_writes_nothing(fresh_lab):
    start = fresh_lab.last_seq()
    run = _site(fresh_lab, '--check', '--diff')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert all(counts['changed'] > 0 for counts in _recap(run.stdout).values())
    assert not [r for r in fresh_lab.requests(start) if r['write']]


def test_site_configures_every_prerequisite_waits_for_the_reboot_then_changes_nothing(fresh_lab):
    first = _site(fresh_lab)
    # The DNS server acts only after a reboot, which the collection never makes: the first run cannot end ready.
    assert first.returncode == 2, first.stdout[-3000:] + first.stderr[-2000:]
    for name in NODES:
        system = fresh_lab.system(name)['config']['System']
        assert system['DNS']['DNSServerIPAddress'] == '127.0.53.53', name
        assert system['TimeSettings']['TimeSettingConfigSource'] == 'SNTP', name
        assert system['TimeSettings']['TimeZone'] == 'Europe/London', name
        routes = [r for r in fresh_lab.system(name)['config']['IPRoute'] if r['IPAddress'] == '0.0.0.0']
        assert len(routes) == 1 and routes[0]['GatewayIPAddress'].endswith('.254'), name
        # Server Edition: only the Primary holds the subscription link.
        expected = '' if name in ('se-secondary', 'se-expansion') else 'LAB-0001'
        assert system['Subscription']['CustomerID'] == expected, name
        assert fresh_lab.system(name)['reboot_pending'] is True, name
    assert API_PASSWORD not in first.stdout + first.stderr
    # The report says which nodes wait for a reboot, and calls none of them ready.
    report = json.load(open(os.path.join(fresh_lab.state, 'readiness', 'readiness.json')))
    for entry in report['systems']:
        assert entry['reboot_pending'] is True and entry['verdict'] != 'ready', entry['system']
        if entry['holds_subscription_link'] is not False:
            assert 'reboot.pending' in entry['failed_checks'], entry['system']
    assert 'ip500-single (127.0.11.1): NOT READY - reboot.pending' in first.stdout

    # The maintenance window: a person reboots the systems.
    rebooted = fresh_lab.control('POST', '/lab/reboot')['rebooted']
    assert sorted(rebooted) == sorted(NODES)
    start = fresh_lab.last_seq()
    second = _site(fresh_lab)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    # The main job ends with the readiness report: every link-holding node ready, SE Secondary/Expansion without a link.
    for line in ('ip500-single (127.0.11.1): ready', 'scn-1 (127.0.21.1): ready', 'scn-2 (127.0.21.2): ready',
                 'scn-3 (127.0.21.3): ready', 'se-primary (127.0.30.1): ready',
                 'se-secondary (127.0.30.2): no link of its own expected', 'fleet: 5 of 5 systems ready, 0 not ready, 2 without'):
        assert line in second.stdout, line
    report = json.load(open(os.path.join(fresh_lab.state, 'readiness', 'readiness.json')))
    assert report['fleet']['all_ready'] is True and len(report['systems']) == 7
    # What the main job configured has a real effect: every node that holds a link connects to COM.
    for name in ('ip500-single', 'scn-1', 'scn-2', 'scn-3', 'se-primary'):
        wait_state(fresh_lab, name, 'Connected', timeout=30)
    for name in ('se-secondary', 'se-expansion'):
        assert link(fresh_lab, name)['LinkState'] == 'NotApplicable'
    # Nothing changes on the systems; only the reports (removed at the start, written anew at the end).
    assert only_the_reports_changed(second.stdout), changed_tasks(second.stdout)
    assert not [r for r in fresh_lab.requests(start) if r['write']]


def _report_checks(lab, system):
    report = json.load(open(os.path.join(lab.state, 'readiness', 'readiness.json')))
    entry = [item for item in report['systems'] if item['system'] == system][0]
    return dict((item['check'], item) for item in entry['checks'])


def test_tags_run_one_step_and_the_report_names_every_check_left_out(fresh_lab):
    before = fresh_lab.system('ip500-single')['config']
    start = fresh_lab.last_seq()
    run = _site(fresh_lab, '--limit', 'ip500-single', '--tags', 'dns')
    output = run.stdout + run.stderr
    # Only the DNS server was written: every other prerequisite is as it was.
    after = fresh_lab.system('ip500-single')['config']
    assert after['System']['DNS']['DNSServerIPAddress'] == '127.0.53.53' != before['System']['DNS']['DNSServerIPAddress']
    for section in ('TimeSettings', 'Subscription'):
        assert after['System'][section] == before['System'][section], section
    assert after['IPRoute'] == before['IPRoute'] and after['ServiceUser'] == before['ServiceUser']
    assert [entry for entry in fresh_lab.requests(start) if entry['write']], 'nothing was written'
    # The validate role's DNS task ran (the tag selects it): with no server address written yet it had nothing to
    # resolve, and says that. The checks the tags left out are named, never silently missing.
    checks = _report_checks(fresh_lab, 'ip500-single')
    assert checks['dns.not_run']['summary'] == 'not run: no DNS server or no subscription server address is set', checks
    for name in ('ports', 'tls', 'quality', 'time'):
        assert checks[name + '.not_run']['status'] == 'not_measured', name
        assert checks[name + '.not_run']['summary'] == "not run: left out by the play's --tags or --skip-tags", name
    assert run.returncode == 2 and 'ip500-single (127.0.11.1): NOT READY' in run.stdout, output[-3000:]

    # --skip-tags: every step but the customer ID and server address.
    run = _site(fresh_lab, '--limit', 'ip500-single', '--skip-tags', 'subscription')
    after = fresh_lab.system('ip500-single')['config']
    assert after['System']['Subscription'] == before['System']['Subscription']
    assert after['System']['TimeSettings']['TimeZone'] == 'Europe/London'
    assert [route for route in after['IPRoute'] if route['IPAddress'] == '0.0.0.0' and route['GatewayIPAddress'] == '127.0.11.254']
    assert run.returncode == 2, (run.stdout + run.stderr)[-3000:]
