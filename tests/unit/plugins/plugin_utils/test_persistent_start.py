# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""persistent_start: the forked connection process keeps none of the worker's files but its result pipe and
the log, and uses ansible-core's own lock file."""

from __future__ import annotations

import io
import json
import logging
import os

from ansible_collections.ipoffice.subscription.plugins.plugin_utils import persistent_start


def _targets_after_leaving(extra_handler=None):
    """Fork, open a pipe and a file as a worker holds them, leave the worker, and report what each points at."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(reader)
            worker_pipe = os.pipe()
            worker_file = os.open(__file__, os.O_RDONLY)
            if extra_handler is not None:
                logging.root.addHandler(extra_handler)
            persistent_start._leave_the_worker(keep=(writer,))  # pylint: disable=protected-access
            seen = dict((name, os.readlink('/proc/self/fd/%d' % fd)) for name, fd in
                        (('pipe read end', worker_pipe[0]), ('pipe write end', worker_pipe[1]), ('file', worker_file),
                         ('result pipe', writer)))
            os.write(writer, json.dumps(seen).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, 'rb') as stream:
        data = stream.read()
    status = os.waitpid(pid, 0)[1]
    assert os.WEXITSTATUS(status) == 0, data
    return json.loads(data)


def test_every_file_of_the_worker_but_the_result_pipe_points_at_dev_null():
    seen = _targets_after_leaving()
    assert seen['pipe read end'] == seen['pipe write end'] == seen['file'] == os.devnull
    assert seen['result pipe'].startswith('pipe:')


def test_a_log_handler_without_a_file_does_not_stop_the_process():
    seen = _targets_after_leaving(logging.StreamHandler(io.StringIO()))
    assert seen['file'] == os.devnull and seen['result pipe'].startswith('pipe:')


def test_the_lock_file_is_the_one_ansible_cores_stub_takes():
    # ansible_connection_cli_stub.main: unfrackpath("%s/.ansible_pc_lock_%s" % os.path.split(socket_path))
    assert persistent_start.lock_path_of('/run/pc/5a1b2c3d4e') == '/run/pc/.ansible_pc_lock_5a1b2c3d4e'
