# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The API modules' work, run inside the Ansible worker instead of a new Python process per task.

Each API module has an action plugin of its name (plugins/action/) built on ApiModuleAction. It runs the
module's own main() in the worker, with ControllerModule standing in for AnsibleModule (same argument
spec, same checks and messages, same no_log masking), so the module file stays the one description of
the module and its behaviour.

- Inventory host with ansible_connection ansible.netcommon.httpapi (and ansible_network_os
  ipoffice.subscription.ipoffice): the session is the persistent connection's (plugins/httpapi/ipoffice.py),
  one login per host per play; host, port, user, TLS options come from the connection.
- Local connection (also delegate_to localhost): the module logs in itself, as it did as a process.
- Any other connection: refused; the modules talk HTTPS to the IP Office from the controller.

The action plugin opens the persistent connection itself (_requires_connection is false): Ansible would
otherwise start a Python process per task only to find the connection running, and hand it the connection's
options again, password included, through the channel ANSIBLE_PERSISTENT_LOG_MESSAGES logs.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.connection import Connection, ConnectionError as RpcConnectionError
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
from ansible_collections.ipoffice.subscription.plugins.module_utils import envelope
from ansible_collections.ipoffice.subscription.plugins.module_utils import in_worker
from ansible_collections.ipoffice.subscription.plugins.plugin_utils import persistent_start

HTTPAPI = ('ansible.netcommon.httpapi', 'httpapi')
LOCAL = ('local', 'ansible.builtin.local', 'ansible.legacy.local')
NETWORK_OS = 'ipoffice.subscription.ipoffice'
# Connection options of the modules that the httpapi connection supplies; a task may not name others.
FROM_CONNECTION = ('host', 'port', 'username', 'password', 'validate_certs', 'ca_path')


# What the controller's main process imports here, each worker it forks inherits instead of importing it again.
# Ansible's strategy imports every task's action plugin in the main process (it reads BYPASS_HOST_LOOP) before it
# forks a worker per host and task; a worker for a host on the httpapi connection loads that connection and its
# httpapi plugin for every task, a set_fact or an assert too. Measured (docs/performance.md): 30 set_fact tasks on
# 20 httpapi hosts cost 50 CPU seconds when each worker imported them, 15 when the main process held them (10 on
# the local connection).
HELD_FOR_THE_WORKERS = ('ansible_collections.ansible.netcommon.plugins.connection.httpapi',
                        'ansible_collections.ipoffice.subscription.plugins.httpapi.ipoffice')


def hold_for_the_workers(names):
    """Import names in this process; one that is not installed (netcommon, for local-only use) is left out."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


hold_for_the_workers(HELD_FOR_THE_WORKERS)


def plain(value):
    """Task arguments as a module process gets them: plain dicts, lists and strings, without Ansible's tags
    (a tagged string is a str subclass that, for one, yaml.safe_dump cannot write)."""
    if isinstance(value, dict):
        return dict((plain(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


class _ModuleExit(Exception):
    """exit_json/fail_json of a module running in the controller: carries its result."""

    def __init__(self, result):
        super(_ModuleExit, self).__init__('module exit')
        self.result = result


class ControllerModule(object):
    """What the API modules use of AnsibleModule, for a run inside the worker.

    The arguments are checked by ansible-core's own ModuleArgumentSpecValidator, the one AnsibleModule uses,
    so defaults, types, fallbacks, aliases, choices and their messages are the same."""

    @classmethod
    def for_task(cls, name, args, check_mode=False, diff=False):
        """What module_base.build_module calls in place of AnsibleModule(argument_spec=..., ...) for this task."""
        return functools.partial(cls, task=(name, args, check_mode, diff))

    def __init__(self, argument_spec, task, supports_check_mode=False, mutually_exclusive=None, required_together=None,
                 required_one_of=None, required_if=None, required_by=None, **_ignored):
        self.argument_spec = argument_spec
        self._name, args, self.check_mode, self._diff = task
        self._warnings = []
        self.no_log_values = set()
        self.params = dict(args)
        validator = ModuleArgumentSpecValidator(argument_spec, mutually_exclusive=mutually_exclusive,
                                                required_together=required_together, required_one_of=required_one_of,
                                                required_if=required_if, required_by=required_by)
        outcome = validator.validate(self.params)
        self.params.update(outcome.validated_parameters)
        self.no_log_values.update(outcome._no_log_values)  # pylint: disable=protected-access
        if outcome.errors.errors:  # AnsibleValidationErrorMultiple is true even when it holds none
            msg = outcome.errors.msg
            if isinstance(outcome.errors[0], UnsupportedError):
                msg = 'Unsupported parameters for (%s) module: %s' % (self._name, msg)
            self.fail_json(msg=msg)
        if self.check_mode and not supports_check_mode:
            self.exit_json(skipped=True, msg='remote module (%s) does not support check mode' % self._name)

    def warn(self, warning):
        if warning not in self._warnings:  # a task planned again (module_base.run) says it once
            self._warnings.append(warning)

    def _finish(self, result):
        result.setdefault('invocation', {'module_args': self.params})
        if self._warnings:
            result['warnings'] = list(self._warnings)
        # As from a module process: plain JSON data, every no_log value masked.
        raise _ModuleExit(json.loads(json.dumps(remove_values(result, self.no_log_values))))

    def exit_json(self, **kwargs):
        self._finish(dict(kwargs))

    def fail_json(self, msg, **kwargs):
        self._finish(dict(kwargs, msg=msg, failed=True))


class PersistentSession(object):
    """The session the httpapi connection (plugins/httpapi/ipoffice.py) holds for this inventory host, and the
    configuration reads it keeps for the tasks of one play (scope: the play's id)."""

    def __init__(self, socket_path, scope):
        self._connection = Connection(socket_path)
        self._scope = scope

    def open(self, stale=None):
        """{'cookies', 'serial', 'fresh'}; stale: the serial of a session this task found expired."""
        answer = self._rpc('ipoffice_session', stale)
        error = answer.get('error')
        if error:
            kind = getattr(api, error.get('type', ''), None)
            if not (isinstance(kind, type) and issubclass(kind, api.IPOfficeError)) or kind is api.ApiError:
                kind = api.IPOfficeError
            raise kind(error.get('message', 'login failed'), **(error.get('details') or {}))
        return answer

    def shared_read(self, path):
        """The answer an earlier task of this play read at path, if no write came after it; else None."""
        data = self._rpc('ipoffice_shared_read', self._scope, path)
        return envelope.Answer.from_data(data) if data else None

    def share_read(self, path, answer):
        self._rpc('ipoffice_share_read', self._scope, path, answer.to_data())

    def forget_reads(self):
        self._rpc('ipoffice_forget_reads')

    def _rpc(self, name, *args):
        try:
            return getattr(self._connection, name)(*args)
        except RpcConnectionError as exc:
            raise api.TransportError('the httpapi connection did not answer %s: %s' % (name, exc))


@contextlib.contextmanager
def _environment(overlay):
    """The task's environment keyword, for the modules' IPOFFICE_* fallbacks (a module process gets it too)."""
    saved = dict((name, os.environ.get(name)) for name in overlay)
    os.environ.update(overlay)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class WorkerModuleAction(ActionBase):
    """Runs the module of the same name (plugins/modules/) in the worker."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset()  # every argument is the module's: its own spec checks them

    def __init_subclass__(cls, **kwargs):
        # An action plugin (plugins/action/NAME.py) is imported in the main process: its module then is too, for
        # the workers to inherit (see HELD_FOR_THE_WORKERS).
        super().__init_subclass__(**kwargs)
        if '.plugins.action.' in cls.__module__:
            hold_for_the_workers([cls.__module__.replace('.plugins.action.', '.plugins.modules.')])

    def _host_vars(self, task_vars):
        """The variables of the host the task runs for: the delegated host's, with delegate_to."""
        if self._task.delegate_to:
            return task_vars.get('ansible_delegated_vars', {}).get(self._task.delegate_to, {})
        return task_vars

    def _module_args(self):
        return plain(dict((key, value) for key, value in self._task.args.items() if not key.startswith('_ansible_')))

    def _environment_overlay(self):
        overlay = {}
        environments = self._task.environment or []
        for environment in environments if isinstance(environments, list) else [environments]:
            if environment:
                overlay.update(self._templar.template(environment))
        return dict((str(name), str(value)) for name, value in overlay.items())

    def _run_here(self, args, source):
        name = self._task.resolved_action.split('.')[-1]
        module = importlib.import_module('ansible_collections.ipoffice.subscription.plugins.modules.%s' % name)
        module_class = ControllerModule.for_task(name, args, bool(self._task.check_mode), bool(self._task.diff))
        try:
            with _environment(self._environment_overlay()), in_worker.in_controller(module_class, source):
                module.main()
        except _ModuleExit as done:
            return done.result
        raise AnsibleActionFail('%s ended without a result' % self._task.resolved_action)


class CheckModuleAction(WorkerModuleAction):
    """A check module (dns_check, port_check, tls_check, link_quality_check, time_check): in the worker when it
    runs on the controller itself, as a module process anywhere else.

    The checks measure from where the module runs. On the controller (local connection, no become, the
    controller's own Python) the worker is that place, so the module's main() runs here and saves a Python
    process per task. A probe host in the customer's network (docs/validate.md), become, async, or another
    interpreter (one that enters another network namespace, say) gets the module as a process there, as Ansible
    runs it."""

    _supports_async = True  # as a module process

    def run(self, tmp=None, task_vars=None):
        result = super(CheckModuleAction, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        if self._runs_on_the_controller(task_vars):
            result.update(self._run_here(self._module_args(), None))
            return result
        # As ansible.builtin.normal runs a module.
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(module_name=self._task.resolved_action, task_vars=task_vars,
                                                         wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result

    def _runs_on_the_controller(self, task_vars):
        if getattr(self._connection, 'transport', None) != 'local' or self._play_context.become or self._task.async_val:
            return False
        interpreter = self._templar.template(self._host_vars(task_vars).get('ansible_python_interpreter') or '')
        return interpreter in ('', sys.executable) or os.path.realpath(interpreter) == os.path.realpath(sys.executable)


class ApiModuleAction(WorkerModuleAction):
    """Runs the API module of the same name in the worker (see the module docstring)."""

    _requires_connection = False  # see the module docstring: _persistent_connection() opens it

    def run(self, tmp=None, task_vars=None):
        result = super(ApiModuleAction, self).run(tmp, task_vars)
        del tmp  # not used: nothing goes to a remote host
        task_vars = task_vars or {}
        # The host's connection as Ansible would choose it (the delegated host's, with delegate_to).
        host_vars = self._host_vars(task_vars)
        transport = self._templar.template(host_vars.get('ansible_connection', self._task.connection))
        if transport in HTTPAPI:
            source, args = self._through_httpapi(self._module_args(), host_vars, transport)
        elif transport in LOCAL:
            source, args = None, self._module_args()
        else:
            raise AnsibleActionFail('%s talks HTTPS to the IP Office from the controller: use ansible_connection '
                                    'ansible.netcommon.httpapi (ansible_network_os %s) or local for this host, or '
                                    'delegate_to: localhost, not %s (docs/connection.md); nothing was changed'
                                    % (self._task.resolved_action, NETWORK_OS, transport))
        result.update(self._run_here(args, source))
        return result

    def _persistent_connection(self, host_vars, transport):
        """The httpapi connection of this host, with its options, and its socket: the running one, else a new one.

        Done as Ansible's task executor does it for a module, but without starting a process to find a running
        connection and without sending the connection's options (its password) to it again."""
        self._play_context.connection = transport
        playbook_pid = to_text(os.getppid())
        connection = self._shared_loader_obj.connection_loader.get(
            transport, self._play_context, None, task_uuid=self._task._uuid, ansible_playbook_pid=playbook_pid)
        if connection is None:
            raise AnsibleActionFail('the connection plugin %s was not found: install the ansible.netcommon collection '
                                    '(docs/connection.md)' % transport)
        task_keys = self._task.dump_attrs()
        task_keys['timeout'] = self._play_context.timeout
        if self._play_context.password:
            task_keys['password'] = self._play_context.password
        del task_keys['retries']
        connection.set_options(task_keys=task_keys,
                               var_options=connection._resolve_option_variables(host_vars, self._templar))  # pylint: disable=protected-access
        ssh = self._shared_loader_obj.connection_loader.get('ssh', class_only=True)
        path = ssh._create_control_path(self._play_context.remote_addr, self._play_context.port,  # pylint: disable=protected-access
                                        self._play_context.remote_user, self._play_context.connection, playbook_pid)
        socket_path = os.path.realpath(os.path.expanduser(path % dict(directory=os.path.expanduser(C.PERSISTENT_CONTROL_PATH_DIR))))
        if not os.path.exists(socket_path):
            self._play_context.timeout = connection.get_option('persistent_command_timeout')
            socket_path = persistent_start.start(self._play_context, connection.get_options(), self._task._uuid, socket_path, playbook_pid)
        return connection, socket_path

    def _through_httpapi(self, args, host_vars, transport):
        network_os = self._templar.template(host_vars.get('ansible_network_os'))
        if network_os not in (NETWORK_OS, 'ipoffice'):
            raise AnsibleActionFail('%s uses the httpapi connection with ansible_network_os %r; the IP Office modules need '
                                    'ansible_network_os: %s' % (self._task.get_name(), network_os, NETWORK_OS))
        named = sorted(option for option in FROM_CONNECTION if args.get(option) is not None)
        if named:
            raise AnsibleActionFail(
                'this host uses the httpapi connection, which supplies %s; the task also gives %s. Leave them to the '
                'inventory (ansible_host, ansible_httpapi_port, ansible_user, ansible_password, ansible_httpapi_*), or '
                'run the task with ansible_connection: local; nothing was changed' % (', '.join(FROM_CONNECTION), ', '.join(named)))
        connection, socket_path = self._persistent_connection(host_vars, transport)
        if not connection.get_option('use_ssl'):
            raise AnsibleActionFail('the IP Office Management API is HTTPS only: set ansible_httpapi_use_ssl: true')
        get = connection.get_option
        args.update(host=get('host'), port=get('port') or api.CONNECTION_ARGUMENT_SPEC['port']['default'],
                    username=get('remote_user'), validate_certs=get('validate_certs'), ca_path=get('ca_path'))
        # The socket stays out of the task's arguments, where it would make the strategy close the connection at
        # the end of each play: one session then serves every play of the run (site.yml has two). The connection
        # closes, and logs out, once idle for persistent_connect_timeout.
        return PersistentSession(socket_path, self._task.get_play()._uuid), args  # pylint: disable=protected-access
