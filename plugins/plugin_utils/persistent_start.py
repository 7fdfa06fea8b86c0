# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Starts a host's persistent connection process by forking the Ansible worker.

Ansible's task executor starts it through ansible_connection_cli_stub.py, a new Python interpreter per host that
imports ansible-core and the connection plugins before it forks the process that holds the connection: about
0.5 CPU seconds per host, 20 to 26 seconds of wall time for 50 hosts on two cores (docs/performance.md). The
worker has all of that imported already (api_action.HELD_FOR_THE_WORKERS), so a fork of it runs the same
ConnectionProcess, with the same socket path, lock and messages, without the new interpreter.

The forked process holds none of the worker's files: every descriptor but the pipe that carries its start-up
result and the log file is pointed at /dev/null, as the stub's own process has only those.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sys

from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure
from ansible.executor.task_executor import start_connection
from ansible.module_utils.service import fork_process
from ansible.utils.display import Display

try:  # ansible-core's own process class; where a release moves it, Ansible's way of starting it remains
    from ansible.cli.scripts.ansible_connection_cli_stub import ConnectionProcess, file_lock
except ImportError:
    ConnectionProcess = file_lock = None

display = Display()


def lock_path_of(socket_path):
    """The lock file Ansible's stub takes before it looks for, or starts, the connection of socket_path."""
    return os.path.join(os.path.dirname(socket_path), '.ansible_pc_lock_%s' % os.path.basename(socket_path))


def start(play_context, options, task_uuid, socket_path, playbook_pid):
    """Start the persistent connection of play_context at socket_path, unless it runs already; its socket path.

    In a fork of this worker; where the ansible-core release has no ConnectionProcess to import, through Ansible's
    own start_connection (the stub). Raises AnsibleConnectionFailure with the connection's own error when it could
    not start (as start_connection raises it)."""
    if ConnectionProcess is None:
        return start_connection(play_context, options, task_uuid)
    os.makedirs(os.path.dirname(socket_path), mode=0o700, exist_ok=True)
    with file_lock(lock_path_of(socket_path)):
        if os.path.exists(socket_path):
            return socket_path
        original_path = os.getcwd()
        reader, writer = os.pipe()
        pid = fork_process()
        if pid == 0:
            _serve(writer, reader, ConnectionProcess, (play_context, socket_path, original_path, task_uuid, playbook_pid),
                   options)
        os.close(writer)
        with os.fdopen(reader, 'r') as stream:
            data = stream.read()
        os.waitpid(pid, 0)  # the first of fork_process's children; the connection's process is its grandchild
    if not data:
        raise AnsibleConnectionFailure('the persistent connection process for %s ended before it started; run '
                                       'with -vvvv and ANSIBLE_LOG_PATH set to see its log' % play_context.remote_addr)
    result = json.loads(data)
    show_messages(result.get('messages', ()), play_context.remote_addr)
    if 'error' in result:
        if display.verbosity > 2 and result.get('exception'):
            display.display('The full traceback is:\n' + result['exception'], color=C.COLOR_ERROR)
        raise AnsibleConnectionFailure(result['error'])
    if not os.path.exists(socket_path):  # a start that failed before it could name its error
        raise AnsibleConnectionFailure('the persistent connection process for %s did not open its socket %s; run with '
                                       '-vvvv and ANSIBLE_LOG_PATH set to see its log' % (play_context.remote_addr, socket_path))
    return socket_path


def show_messages(messages, host):
    """Pass on the start-up messages as ansible-core's start_connection does."""
    for level, message in messages:
        if level == 'log':
            display.display(message, log_only=True)
        elif level in ('debug', 'v', 'vv', 'vvv', 'vvvv', 'vvvvv', 'vvvvvv'):
            getattr(display, level)(message, host=host)
        elif hasattr(display, level):
            getattr(display, level)(message)
        else:
            display.vvvv(message, host=host)


def _serve(writer, reader, process_class, process_args, options):
    """The forked connection process: run the connection until it closes, then end without returning."""
    rc = 1
    try:
        os.close(reader)
        _leave_the_worker(keep=(writer,))
        process = process_class(os.fdopen(writer, 'w'), *process_args)
        process.start(options)
        process.run()
        rc = 0
    except BaseException:  # pylint: disable=broad-exception-caught
        pass  # nowhere left to report to: the start-up result went through the pipe, or its absence says it
    finally:
        logging.shutdown()
        os._exit(rc)  # never the worker's exit handlers: they belong to the worker


def _leave_the_worker(keep):
    """Make this fork a process of its own: no worker display queue, signals and files of its own."""
    display._final_q = None  # pylint: disable=protected-access  # write to the log, as the stub's process does
    sys.stdout = io.StringIO()  # ConnectionProcess.start reads what the connection printed from here
    sys.stderr = io.StringIO()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    log_files = set()
    for handler in logging.root.handlers:
        try:
            log_files.add(handler.stream.fileno())
        except (AttributeError, OSError, ValueError):
            pass  # a handler without a file of its own (io.UnsupportedOperation is both of the last two)
    fd_dir = '/proc/self/fd' if os.path.isdir('/proc/self/fd') else '/dev/fd'
    # /dev/null over each, not close: an object of the worker's that still names the number then closes
    # /dev/null, never a socket of the connection that reused it.
    devnull = os.open(os.devnull, os.O_RDWR)
    for name in os.listdir(fd_dir):
        fd = int(name)
        if fd > 2 and fd != devnull and fd not in keep and fd not in log_files:
            try:
                os.dup2(devnull, fd)
            except OSError:
                pass
    os.close(devnull)
