# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where a check module runs (plugin_utils/api_action.py, CheckModuleAction): in the Ansible worker on the
controller, as a module process when the host's Python is another interpreter (or become, async, or any
connection but local: tests/system/test_probe.py runs them on probe hosts over SSH). A module process leaves
its AnsiballZ file behind with ANSIBLE_KEEP_REMOTE_FILES; the worker writes none."""

from __future__ import annotations

import os
import sys

import pytest

CHECK = {'name': 'check', 'register': 'check', 'ipoffice.subscription.dns_check': {
    'server': '192.0.2.53', 'server_address': 'admin.uk1.avaya-sub.com', 'port': 5353, 'validate_only': True}}
BAD = {'name': 'bad', 'register': 'bad', 'ignore_errors': True, 'ipoffice.subscription.dns_check': {
    'server': '192.0.2.53', 'server_address': 'admin.uk1.avaya-sub.com', 'port': 70000, 'validate_only': True}}


def _wrapper(tmp_path):
    """Another interpreter: a script that runs this Python."""
    path = tmp_path / 'other-python'
    path.write_text('#!/bin/sh\nexec %s "$@"\n' % sys.executable)
    path.chmod(0o755)
    return str(path)


def _module_files(remote):
    return sorted(os.path.join(folder, name) for folder, dummy, names in os.walk(remote) for name in names
                  if name == 'AnsiballZ_dns_check.py')


@pytest.mark.parametrize('where', ['worker', 'process'])
def test_a_check_module_runs_in_the_worker_on_the_controller_and_as_a_process_elsewhere(run_playbook, tmp_path, where):
    remote = tmp_path / 'remote'
    interpreter = '{{ ansible_playbook_python }}' if where == 'worker' else _wrapper(tmp_path)
    run = run_playbook([CHECK, BAD], capture=('check', 'bad'), play_vars={'ansible_python_interpreter': interpreter},
                       env={'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': str(remote)})
    assert run.rc == 0, run.output[-4000:]
    results = run.results
    # Same result either way: the input check passes, and a bad port is refused naming the option.
    assert results['check']['failed'] is False and results['check']['msg'] == 'the options are valid; nothing was sent (validate_only)'
    assert results['bad']['failed'] is True and results['bad']['msg'].startswith('port ')
    assert len(_module_files(remote)) == (0 if where == 'worker' else 2), _module_files(remote)
