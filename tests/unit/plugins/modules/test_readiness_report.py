# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""readiness_report's file writer: never through a link, never half a report, nothing left behind."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.ipoffice.subscription.plugins.modules import readiness_report


def test_a_link_at_the_reports_name_is_replaced_never_written_through(tmp_path):
    victim = tmp_path / 'victim'
    victim.write_text('not yours')
    report = tmp_path / 'readiness.json'
    os.symlink(str(victim), str(report))
    readiness_report._write(str(report), '{"fleet": {}}\n')
    assert victim.read_text() == 'not yours'
    assert not os.path.islink(str(report)) and report.read_text() == '{"fleet": {}}\n'
    assert stat.S_IMODE(os.stat(str(report)).st_mode) == 0o644
    assert sorted(os.listdir(str(tmp_path))) == ['readiness.json', 'victim']


def test_the_temporary_file_is_new_and_unpredictable_so_a_planted_link_is_left_alone(tmp_path):
    victim = tmp_path / 'victim'
    victim.write_text('not yours')
    # The name the writer used to use, and a few more guesses.
    for name in ('readiness.json.tmp', '.readiness.json.tmp', 'readiness.json.tmp.1'):
        os.symlink(str(victim), str(tmp_path / name))
    for dummy in range(3):
        readiness_report._write(str(tmp_path / 'readiness.json'), 'report\n')
    assert victim.read_text() == 'not yours'
    assert sorted(os.listdir(str(tmp_path))) == ['.readiness.json.tmp', 'readiness.json', 'readiness.json.tmp',
                                                 'readiness.json.tmp.1', 'victim']


def test_a_failed_write_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    report = tmp_path / 'readiness.json'
    report.write_text('old\n')

    def refuse(*args):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(readiness_report.os, 'fsync', refuse)
    with pytest.raises(OSError):
        readiness_report._write(str(report), 'new\n')
    assert report.read_text() == 'old\n' and os.listdir(str(tmp_path)) == ['readiness.json']
