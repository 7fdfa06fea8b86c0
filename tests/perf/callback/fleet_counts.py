# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Aggregate callback of the fleet benchmark (tests/perf/fleet_bench.py).

Counts per host what a play ran: tasks by outcome, and module invocations
(one per loop item) by module name. Writes them as JSON to the file named in
IPOFFICE_PERF_COUNTS when the run ends.
"""

from __future__ import annotations

DOCUMENTATION = '''
name: fleet_counts
type: aggregate
short_description: per host task and module invocation counts for the fleet benchmark
description:
  - Writes per host counts of tasks and module invocations to the file named by E(IPOFFICE_PERF_COUNTS).
'''

import collections
import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'fleet_counts'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.hosts = collections.defaultdict(
            lambda: {'ok': 0, 'changed': 0, 'failed': 0, 'skipped': 0, 'unreachable': 0, 'modules': collections.Counter()})
        # Wall time from each task's start to the next one's, by task name: where a run spends its time.
        self.task_seconds = collections.Counter()
        self.current = None
        # The longest duration_ms a check module reported, by module: a healthy check never waits for a timeout.
        self.check_ms = {}

    def _task_boundary(self, name):
        now = time.monotonic()
        if self.current is not None:
            self.task_seconds[self.current[0]] += now - self.current[1]
        self.current = (name, now) if name is not None else None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_boundary(task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._task_boundary(task.get_name())

    def _count(self, result, outcome):
        host = self.hosts[result._host.get_name()]
        host[outcome] += 1
        if outcome == 'skipped':
            return
        if result._result.get('changed'):
            host['changed'] += 1
        action = getattr(result._task, 'resolved_action', None) or result._task.action
        items = result._result.get('results')
        for item in items if isinstance(items, list) else [result._result]:
            if isinstance(item, dict) and isinstance(item.get('duration_ms'), (int, float)):
                self.check_ms[action] = max(self.check_ms.get(action, 0.0), item['duration_ms'])
        if isinstance(items, list):
            host['modules'][action] += len([item for item in items if not item.get('skipped')])
        else:
            host['modules'][action] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        # A connection that could not be made (an httpapi login refused, a plugin missing): tried, so counted.
        self._count(result, 'unreachable')

    def v2_runner_on_skipped(self, result):
        self._count(result, 'skipped')

    def v2_playbook_on_stats(self, stats):
        self._task_boundary(None)
        path = os.environ.get('IPOFFICE_PERF_COUNTS')
        if not path:
            return
        hosts = {name: dict(counts, modules=dict(counts['modules'])) for name, counts in self.hosts.items()}
        tasks = {name: round(seconds, 2) for name, seconds in self.task_seconds.items()}
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump({'hosts': hosts, 'task_seconds': tasks, 'check_ms_max': self.check_ms}, handle, indent=1, sort_keys=True)
