# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ControllerModule: an API module's main() in the worker gets the same argument checks, messages and
no_log masking as from AnsibleModule; and the client takes its session from a session source."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
from ansible_collections.ipoffice.subscription.plugins.module_utils import in_worker
from ansible_collections.ipoffice.subscription.plugins.modules import dns
from ansible_collections.ipoffice.subscription.plugins.plugin_utils import api_action


def _run(args, check_mode=False, source=None, main=dns.main):
    module_class = api_action.ControllerModule.for_task('dns', args, check_mode)
    with pytest.raises(api_action._ModuleExit) as done:  # pylint: disable=protected-access
        with in_worker.in_controller(module_class, source):
            main()
    assert in_worker._InController.current is None  # pylint: disable=protected-access
    return done.value.result


def test_an_unknown_option_is_refused_with_ansibles_own_message():
    result = _run({'server': '192.0.2.53', 'state': 'rendered', 'colour': 'blue'})
    assert result['failed'] and result['msg'].startswith('Unsupported parameters for (dns) module: colour.')


def test_a_wrong_choice_is_refused_before_any_request():
    result = _run({'server': '192.0.2.53', 'state': 'sideways'})
    assert result['failed'] and 'value of state must be one of' in result['msg']


def test_the_modules_own_input_check_runs_and_offline_states_need_no_connection():
    assert _run({'server': '8.8.8', 'state': 'rendered'})['msg'].startswith("server must be an IPv4 address")
    rendered = _run({'server': '192.0.2.53', 'state': 'rendered'})
    assert not rendered.get('failed') and '192.0.2.53' in repr(rendered['rendered'])


def test_no_log_values_are_masked_in_the_result():
    result = _run({'server': '192.0.2.53', 'host': '192.0.2.10', 'username': 'u', 'password': 'Pw-123456',
                   'timeout': 0})
    assert result['failed'] and 'Pw-123456' not in repr(result)
    assert result['invocation']['module_args']['password'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def test_through_a_session_source_the_password_is_not_needed():
    opened = []

    class Source(object):
        def open(self, stale=None):
            opened.append(stale)
            raise api.AuthenticationError('refused by the test source')

    result = _run({'server': '192.0.2.53', 'host': '192.0.2.10', 'username': 'u'}, source=Source())
    # The check of the connection options let it through without a password, and the session was asked for.
    assert result['failed'] and result['msg'] == 'refused by the test source' and opened == [None]


def test_the_client_renews_a_session_from_its_source_once():
    opened = []

    class Source(object):
        def open(self, stale=None):
            opened.append(stale)
            return {'cookies': {'JSESSIONID': 'S%d' % len(opened)}, 'serial': len(opened), 'fresh': stale is not None}

    client = api.Client('192.0.2.10', 'u', None, session_source=Source())
    client.login()
    client.login()  # as after a 461: the source is told which session expired
    assert opened == [None, 1]
    assert client.session_cookies() == {'JSESSIONID': 'S2'}
    assert (client.stats['reused_sessions'], client.stats['logins']) == (1, 1)
    client.logout()
    assert client.session_cookies() == {} and opened == [None, 1]  # the connection, not the module, logs out


def test_task_arguments_reach_the_module_as_plain_data():
    import yaml

    class Tagged(str):
        """Stands in for a templated string of ansible-core, a str subclass."""

    args = api_action.plain({'config': [{'name': Tagged('COMAdmin'), 'port': True}], 'node_address': Tagged('192.0.2.1')})
    assert not isinstance(args['node_address'], Tagged) and not isinstance(args['config'][0]['name'], Tagged)
    assert args['config'][0]['port'] is True
    assert yaml.safe_dump(args)  # what api_profile_learn does with what it was given


def test_an_action_plugin_imports_its_module_and_the_httpapi_connection_for_the_workers_to_inherit():
    # Ansible's strategy imports the action plugin in the main process before it forks the workers: what that
    # import brings in, no worker imports again. A fresh interpreter shows what the import alone brings.
    probe = ('import sys\n'
             'from ansible_collections.ipoffice.subscription.plugins.action import time_check, system_info\n'
             'print(" ".join(sorted(name for name in sys.modules if ".plugins." in name)))\n')
    paths = [path for path in sys.path if path]
    done = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True, check=True,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(paths)))
    held = done.stdout.split()
    netcommon = any(os.path.isdir(os.path.join(path, 'ansible_collections', 'ansible', 'netcommon')) for path in paths)
    for name in ('ansible_collections.ipoffice.subscription.plugins.modules.time_check',
                 'ansible_collections.ipoffice.subscription.plugins.modules.system_info',
                 'ansible_collections.ipoffice.subscription.plugins.httpapi.ipoffice'):
        assert name in held
    # Where ansible.netcommon is installed, its httpapi connection too (the compat stage's ansible-core-only
    # environments have none: the import is left out there, and nothing fails).
    assert ('ansible_collections.ansible.netcommon.plugins.connection.httpapi' in held) is netcommon
    # Only an action plugin's own module: not every module of the collection.
    assert 'ansible_collections.ipoffice.subscription.plugins.modules.dns' not in held
