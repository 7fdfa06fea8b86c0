# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""No lockout from the collection itself: a wrong password is sent once per
module invocation and never retried, and a play stops for that host at the
first rejection, so one play costs one failed login per host. What the
collection cannot promise: the device counts failures across plays, so N plays
with the same wrong password reach a lockout threshold of N (the lab's is 3),
as any client would; the last test shows exactly that and the message then."""

from __future__ import annotations

import os
import subprocess

import yaml

from conftest import API_PASSWORD, REPO
from figures import record

WRONG = 'Wrong-Passw0rd-1'
FLEET = {'ip500-single': '127.0.10.1', 'scn': '127.0.20.1', 'se-primary': '127.0.30.1'}


def _play(lab, tmp_path, hosts, wrong_for):
    """The first play of playbooks/site.yml (the prerequisites role) on some hosts of the lab inventory."""
    with open(os.path.join(REPO, 'playbooks', 'site.yml')) as handle:
        site = yaml.safe_load(handle)
    (tmp_path / 'prerequisites.yml').write_text(yaml.safe_dump([site[0]], sort_keys=False))
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
        inventory = yaml.safe_load(handle)
    inventory['all']['children'] = {'lab': {'hosts': dict(
        (host, dict({'ipoffice_host': FLEET[host]}, **({'ipoffice_password': WRONG} if host == wrong_for else {}))) for host in hosts)}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    start = lab.last_seq()
    proc = subprocess.run(['ansible-playbook', '-i', str(tmp_path / 'inventory.yml'), '-f', str(len(hosts)),
                           str(tmp_path / 'prerequisites.yml')],
                          capture_output=True, text=True, env=dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1'),
                          timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert WRONG not in output and API_PASSWORD not in output
    return proc.returncode, output, lab.requests(start)


def _logins(log, listener):
    return [entry for entry in log if entry['listener'] == listener and entry['resource'] == 'authenticate' and entry['method'] == 'GET']


def _locked(lab, listener):
    return [item for item in lab.control('GET', '/lab/listeners') if item['address'] == listener][0]['locked_accounts']


def _good_login(lab, listener):
    from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
    api.Client(host=listener, username='apiadmin', password=API_PASSWORD, ca_path=lab.ca_path, timeout=10, retries=0).login()


def test_wrong_password_costs_one_login_per_play_and_the_fleet_goes_on(fresh_lab, tmp_path):
    rc, output, log = _play(fresh_lab, tmp_path, sorted(FLEET), wrong_for='ip500-single')
    assert rc != 0
    bad = _logins(log, FLEET['ip500-single'])
    assert [(entry['http_status'], entry['user']) for entry in bad] == [(401, 'apiadmin')]
    # Stopped at the first rejection: nothing else reached that host's API.
    assert [entry for entry in log if entry['listener'] == FLEET['ip500-single']] == bad
    assert "rejected the user name or password of service user 'apiadmin'" in output
    assert 'failed=1' in [line for line in output.splitlines() if line.startswith('ip500-single ')][-1]
    # The rest of the fleet completed the play.
    completed = []
    for host in ('scn', 'se-primary'):
        recap = [line for line in output.splitlines() if line.startswith(host + ' ')][-1]
        assert 'failed=0' in recap and 'changed=0' not in recap, recap
        assert all(entry['http_status'] == 200 for entry in _logins(log, FLEET[host]))
        completed.append(host)
    assert fresh_lab.system('scn-2')['config']['System']['Subscription']['CustomerID'] == 'LAB-0001'
    assert fresh_lab.system('se-primary')['config']['System']['Subscription']['CustomerID'] == 'LAB-0001'
    assert fresh_lab.system('ip500-single')['config']['System']['Subscription']['CustomerID'] == ''
    locked = _locked(fresh_lab, FLEET['ip500-single'])
    assert locked == []
    _good_login(fresh_lab, FLEET['ip500-single'])
    record('lockout', case='fleet, one host wrong', wrong_logins=len(bad), locked='yes' if locked else 'no',
           other_hosts='%d of 2 completed' % len(completed))


def test_each_play_with_the_wrong_password_sends_it_once_so_the_device_counts_plays(fresh_lab, tmp_path):
    threshold = fresh_lab.control('GET', '/lab/settings')['lockout_threshold']
    listener = FLEET['ip500-single']
    wrong_logins, locked_after = 0, None
    for play in range(1, threshold + 1):
        rc, output, log = _play(fresh_lab, tmp_path, ['ip500-single'], wrong_for='ip500-single')
        assert rc != 0
        assert [entry['http_status'] for entry in _logins(log, listener)] == [401], play
        wrong_logins += len(_logins(log, listener))
        # Below the threshold the account stays usable; the play that reaches it locks it, as any client's would.
        locked = bool(_locked(fresh_lab, listener))
        assert locked == (play == threshold), play
        if locked and locked_after is None:
            locked_after = play
    rc, output, log = _play(fresh_lab, tmp_path, ['ip500-single'], wrong_for=None)
    assert rc != 0 and [entry['http_status'] for entry in _logins(log, listener)] == [403]
    assert '403:AccountLocked' in output and 'not locked' in output
    record('lockout', case='%d plays, wrong password' % threshold, wrong_logins=wrong_logins, locked='after play %d' % locked_after,
           other_hosts='-')
