# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A write whose answer was lost: read before anything is written again, and
say what happened (module_base.write_and_confirm, resource.write_outcome)."""

from __future__ import annotations

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
from ansible_collections.ipoffice.subscription.plugins.module_utils import module_base, resource, schema

BEFORE = schema.normalise('System', {'@GUID': 'G', 'DNS': {'DNSServerIPAddress': '10.0.0.1', 'DNSDomain': 'a.example'}})
CHANGES = {('DNS', 'DNSServerIPAddress'): '10.0.0.2'}
INTENDED = resource.apply_changes(BEFORE, CHANGES)
MIXED = resource.apply_changes(INTENDED, {('DNS', 'DNSDomain'): 'b.example'})


class FakeModule(object):
    def __init__(self):
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


class FakeClient(object):
    def __init__(self):
        self.stats = {'writes': 0}


def _script(*outcomes):
    """write() plays these in turn: an exception is raised, anything else returned."""
    calls = []
    pending = list(outcomes)

    def write():
        calls.append('write')
        item = pending.pop(0)
        if isinstance(item, Exception):
            raise item
        return item
    return write, calls


def _lost(what='PUT systems was sent, then connection to 192.0.2.1:7070 lost: reset'):
    return api.WriteOutcomeUnknown(what + '; the write may or may not have been applied', what=what)


def _reader(*states, calls=None):
    pending = list(states)

    def read_back():
        if calls is not None:
            calls.append('read')
        item = pending.pop(0)
        if isinstance(item, Exception):
            raise item
        return resource.write_outcome('System', BEFORE, item, CHANGES)
    return read_back


def test_write_outcome_tells_applied_not_applied_and_a_mix():
    assert resource.write_outcome('System', BEFORE, INTENDED, CHANGES) == resource.APPLIED
    assert resource.write_outcome('System', BEFORE, BEFORE, CHANGES) == resource.NOT_APPLIED
    assert resource.write_outcome('System', BEFORE, MIXED, CHANGES) == [
        "DNS.DNSDomain changed from 'a.example' to 'b.example' although the task did not set it"]


def test_write_outcome_of_write_only_fields_cannot_be_read():
    problems = resource.write_outcome('ServiceUser', {'Name': 'x'}, {'Name': 'x'}, {('Password',): 'secret'})
    assert problems != resource.NOT_APPLIED and 'read cannot tell' in problems[0]


def test_a_clean_write_is_not_read_back():
    module, client = FakeModule(), FakeClient()
    write, calls = _script('answer')
    reads = []
    assert module_base.write_and_confirm(module, client, write, _reader(calls=reads)) == 'answer'
    assert calls == ['write'] and reads == [] and module.warnings == []


def test_lost_answer_read_back_applied_is_not_sent_again():
    module, client = FakeModule(), FakeClient()
    write, calls = _script(_lost())
    assert module_base.write_and_confirm(module, client, write, _reader(INTENDED)) is None
    assert calls == ['write'] and client.stats['writes'] == 1
    assert module.warnings == ['PUT systems was sent, then connection to 192.0.2.1:7070 lost: reset; read back: applied, '
                               'so it was not sent again']


def test_lost_answer_read_back_as_before_is_sent_once_more():
    module, client = FakeModule(), FakeClient()
    order = []
    write, calls = _script(_lost(), 'answer')
    answer = module_base.write_and_confirm(module, client, lambda: order.append('write') or write(), _reader(BEFORE, calls=order))
    assert answer == 'answer' and order == ['write', 'read', 'write']
    assert module.warnings[0].endswith('read back: not applied (exactly as before), so it was sent once more: applied')


def test_lost_twice_and_not_applied_fails_saying_nothing_was_changed():
    module, client = FakeModule(), FakeClient()
    write, calls = _script(_lost(), _lost('PUT systems was sent, then no answer from 192.0.2.1:7070 within 2 s'))
    with pytest.raises(api.IPOfficeError) as err:
        module_base.write_and_confirm(module, client, write, _reader(BEFORE, BEFORE))
    assert calls == ['write', 'write']  # never a third
    assert str(err.value).endswith('within 2 s; read back: not applied: nothing was changed. Nothing more was written; '
                                   're-run when the system answers again')
    assert client.stats['writes'] == 0


def test_a_mix_is_never_written_over():
    module, client = FakeModule(), FakeClient()
    write, calls = _script(_lost())
    with pytest.raises(api.IPOfficeError, match='neither as before nor as intended: DNS.DNSDomain changed'):
        module_base.write_and_confirm(module, client, write, _reader(MIXED))
    assert calls == ['write']


def test_a_failed_read_back_stops_all_writing():
    module, client = FakeModule(), FakeClient()
    write, calls = _script(_lost())
    with pytest.raises(api.IPOfficeError, match='the read that should tell whether it was applied failed too: HTTP 500'):
        module_base.write_and_confirm(module, client, write, _reader(api.IPOfficeError('HTTP 500')))
    assert calls == ['write']


def test_lost_twice_after_earlier_writes_of_the_task_never_says_nothing_was_changed():
    module, client = FakeModule(), FakeClient()
    client.stats['writes'] = 2  # two routes of the same task were written before this one
    write, calls = _script(_lost(), _lost('POST iproutes was sent, then connection to 192.0.2.1:7070 lost: reset'))
    with pytest.raises(api.IPOfficeError) as err:
        module_base.write_and_confirm(module, client, write, _reader(BEFORE, BEFORE))
    assert 'nothing was changed' not in str(err.value)
    assert 'read back: not applied; 2 earlier writes of this task were applied. Nothing more was written' in str(err.value)
