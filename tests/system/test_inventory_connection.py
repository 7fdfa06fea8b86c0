# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An inventory that forgets `ansible_connection: local` gets a message that says
so, from each role, before any request, instead of an SSH attempt that ends
UNREACHABLE."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from conftest import REPO


@pytest.mark.parametrize('playbook, role', [('site.yml', 'prerequisites'), ('validate.yml', 'validate'),
                                            ('monitor.yml', 'monitor')])
def test_an_inventory_without_the_local_connection_is_told_what_to_set(fresh_lab, tmp_path, playbook, role):
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml'), encoding='utf-8') as handle:
        inventory = yaml.safe_load(handle)
    del inventory['all']['vars']['ansible_connection']
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    start = fresh_lab.last_seq()
    env = dict(os.environ, IPOFFICE_LAB_STATE=fresh_lab.state, ANSIBLE_NOCOLOR='1')
    run = subprocess.run(['ansible-playbook', '-i', str(path), os.path.join(REPO, 'playbooks', playbook)],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert run.returncode != 0
    # (Ansible's error context quotes the task file, whose comment says UNREACHABLE.)
    assert 'UNREACHABLE!' not in run.stdout and 'unreachable=0' in run.stdout, run.stdout[-3000:]
    assert ' unreachable=1 ' not in run.stdout
    for host in ('ip500-single', 'scn', 'se-primary'):
        assert ('%s would be reached over the ssh connection, but the %s role' % (host, role)) in run.stdout, run.stdout[-3000:]
    assert 'set ansible_connection: local' in run.stdout
    assert fresh_lab.requests(start) == []
