# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The write lock, the session slots and the private folder they live in (module_utils/locks.py)."""

from __future__ import annotations

import fcntl
import os
import stat

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import locks


@pytest.fixture
def private(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_RUNTIME_DIR', str(tmp_path))
    return tmp_path / ('ipoffice-subscription-%d' % os.geteuid())


def test_the_folder_is_made_for_the_user_alone(private):
    path = locks.private_dir()
    assert path == str(private)
    info = os.lstat(path)
    assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.geteuid()


def test_a_folder_others_can_enter_is_refused(private):
    private.mkdir(mode=0o700)
    os.chmod(private, 0o777)
    with pytest.raises(locks.LockError, match='can be entered by other users'):
        locks.private_dir()


def test_a_link_planted_at_the_folder_name_is_refused(private, tmp_path):
    target = tmp_path / 'elsewhere'
    target.mkdir(mode=0o700)
    private.symlink_to(target)
    with pytest.raises(locks.LockError, match='not a folder'):
        locks.private_dir()


def test_a_link_planted_at_a_lock_file_is_not_followed(private, tmp_path):
    lock = locks.WriteLock('192.0.2.1', 7070)
    victim = tmp_path / 'victim'
    victim.write_text('keep me')
    os.symlink(str(victim), lock.path)
    with pytest.raises(locks.LockError, match='cannot open the lock file'):
        with lock:
            pass
    assert victim.read_text() == 'keep me'


def test_the_write_lock_is_exclusive_per_endpoint_and_names_its_holder(private):
    with locks.WriteLock('192.0.2.1', 7070) as held:
        other = os.open(held.path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
        # Another endpoint has a lock of its own.
        with locks.WriteLock('192.0.2.2', 7070):
            pass
        waiting = locks.WriteLock('192.0.2.1', 7070, wait=0.2)
        with pytest.raises(locks.LockError, match='process %d' % os.getpid()):
            with waiting:
                pass
    with locks.WriteLock('192.0.2.1', 7070):
        pass  # released on leaving


def test_no_more_sessions_than_slots_for_one_account(private):
    held = [locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 2).acquire() for _count in range(2)]
    assert len(set(slot.path for slot in held)) == 2
    with pytest.raises(locks.LockError, match='all 2 sessions'):
        locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 2, wait=0.2).acquire()
    # Another account, or another endpoint, has slots of its own.
    locks.SessionSlot('192.0.2.1', 7070, 'readonly', 2, wait=0.2).acquire().release()
    locks.SessionSlot('192.0.2.2', 7070, 'apiadmin', 2, wait=0.2).acquire().release()
    held[0].release()
    again = locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 2, wait=0.2).acquire()
    assert again.path == held[0].path
    again.release()
    held[1].release()


def test_a_slot_that_cannot_be_had_in_time_names_the_processes_holding_them(private):
    held = [locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 2).acquire() for _count in range(2)]
    try:
        with pytest.raises(locks.LockError) as err:
            locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 2, wait=0.1).acquire()
        assert 'held by process %d, process %d' % (os.getpid(), os.getpid()) in str(err.value)
        # Naming the holder keeps the session a slot keeps for the next module.
        held[0].keep({'JSESSIONID': 'A1'}, 'right-password')
        assert held[0].kept_session('right-password') == {'JSESSIONID': 'A1'}
    finally:
        for slot in held:
            slot.release()


def test_the_holder_of_a_slot_is_read_never_through_a_link(private, tmp_path):
    victim = tmp_path / 'victim'
    victim.write_text('{"holder": "process 1"}')
    private.mkdir(mode=0o700)
    slot = locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 1)
    os.symlink(str(victim), '%s-0.slot' % slot.prefix)
    assert locks._slot_holder('%s-0.slot' % slot.prefix) is None


def test_a_kept_session_is_given_only_for_the_same_password(private):
    with locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 1) as slot:
        slot.keep({'JSESSIONID': 'A1', 'SDK-Token': 'T1'}, 'right-password')
        with open(slot.path) as handle:
            stored = handle.read()
        assert 'right-password' not in stored
        assert stat.S_IMODE(os.stat(slot.path).st_mode) == 0o600
    with locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 1) as slot:
        assert slot.kept_session('wrong-password') is None
        assert slot.kept_session('right-password') == {'JSESSIONID': 'A1', 'SDK-Token': 'T1'}
        slot.forget()
    with locks.SessionSlot('192.0.2.1', 7070, 'apiadmin', 1) as slot:
        assert slot.kept_session('right-password') is None
