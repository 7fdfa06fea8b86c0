# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What keeps the forks of one controller from tripping over each other at one API endpoint.

- The write lock: tasks that write through one endpoint take turns, so two
  forks never read, change and write back the same object at once.
- Session slots: an IP Office allows 5 concurrent sessions per account (Web
  Manager R12.3); the collection holds at most 4 per account and endpoint,
  whatever the forks, so one stays free for a person in Web Manager. A module
  takes a slot before it logs in and gives it back when it has logged out.
  Where the device refuses the logout (some builds answer 405 and let the
  session run out), the slot keeps that session for the next module of the
  same account, so sessions that cannot be closed never pile up; it is used
  only with the same password (kept as a salted digest, never in clear).

Everything lives in a folder only the user can enter (created with mode 0700,
its owner and mode checked on every use, never followed through a symbolic
link): another local user can neither hold a lock nor read a session.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time

WAIT_SECONDS = 600
POLL_SECONDS = 0.05


class LockError(Exception):
    """A lock or slot that could not be had; the message says which and, when known, who holds it."""


def private_dir():
    """The user's own folder for locks and slots: created 0700, refused when another user could get in."""
    base = os.environ.get('XDG_RUNTIME_DIR') or tempfile.gettempdir()
    path = os.path.join(base, 'ipoffice-subscription-%d' % os.geteuid())
    try:
        os.mkdir(path, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise LockError('cannot create the lock folder %s: %s' % (path, exc.strerror))
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise LockError('%s is not a folder (a symbolic link or a file stands there): remove it; nothing was changed' % path)
    if info.st_uid != os.geteuid():
        raise LockError('the lock folder %s belongs to user id %d, not to this user (%d): remove it; nothing was changed'
                        % (path, info.st_uid, os.geteuid()))
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise LockError('the lock folder %s can be entered by other users (mode %o): it must be 0700; nothing was changed'
                        % (path, stat.S_IMODE(info.st_mode)))
    return path


def _network():
    """The network namespace this process sees: the same address may be another device in another one."""
    try:
        return os.stat('/proc/self/ns/net').st_ino
    except OSError:
        return 0


def _key(*parts):
    return hashlib.sha256(':'.join(str(part) for part in parts + (_network(),)).encode('utf-8')).hexdigest()[:16]


def _open(path):
    """A lock file in the private folder, never through a link."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0), 0o600)


def _holder(handle):
    try:
        os.lseek(handle, 0, os.SEEK_SET)
        text = os.read(handle, 200).decode('utf-8', 'replace').strip()
    except OSError:
        return None
    return text or None


def _note_holder(handle):
    os.ftruncate(handle, 0)
    os.lseek(handle, 0, os.SEEK_SET)
    os.write(handle, ('process %d' % os.getpid()).encode('utf-8'))


class WriteLock(object):
    """The endpoint's write lock, held while a task reads, writes and verifies."""

    def __init__(self, host, port, wait=WAIT_SECONDS):
        self.where = '%s:%s' % (host, port)
        self.path = os.path.join(private_dir(), 'write-%s.lock' % _key(host, port))
        self.wait = wait
        self.handle = None

    def __enter__(self):
        try:
            self.handle = _open(self.path)
        except OSError as exc:
            raise LockError('cannot open the lock file %s that keeps forks writing through %s apart: %s; nothing was changed'
                            % (self.path, self.where, exc.strerror))
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    holder = _holder(self.handle)
                    os.close(self.handle)
                    self.handle = None
                    raise LockError('another task writing through %s (%s) held %s for %d s; nothing was changed'
                                    % (self.where, holder or 'holder unknown', self.path, self.wait))
                time.sleep(POLL_SECONDS)
        _note_holder(self.handle)
        return self

    def __exit__(self, *exc_info):
        if self.handle is not None:
            os.close(self.handle)  # closing releases the lock
            self.handle = None
        return False


class SessionSlot(object):
    """One of the account's session slots at an endpoint, and the session it may keep."""

    def __init__(self, host, port, username, slots, wait=WAIT_SECONDS):
        self.where = '%s:%s' % (host, port)
        self.username = username
        self.folder = private_dir()
        self.prefix = os.path.join(self.folder, 'session-%s' % _key(host, port, username))
        self.slots = slots
        self.wait = wait
        self.handle = None
        self.path = None

    def acquire(self):
        deadline = time.monotonic() + self.wait
        while True:
            for index in range(self.slots):
                path = '%s-%d.slot' % (self.prefix, index)
                try:
                    handle = _open(path)
                except OSError as exc:
                    raise LockError('cannot open the session slot %s for %s at %s: %s' % (path, self.username, self.where, exc.strerror))
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(handle)
                    continue
                self.handle, self.path = handle, path
                self._write(self._read())  # notes this process as the holder, keeping a kept session
                return self
            if time.monotonic() > deadline:
                holders = [holder for holder in (_slot_holder('%s-%d.slot' % (self.prefix, index)) for index in range(self.slots))
                           if holder]
                raise LockError('all %d sessions this controller may hold for %s at %s stayed in use for %d s (IP Office allows '
                                '5 per account; held by %s); nothing was changed'
                                % (self.slots, self.username, self.where, self.wait, ', '.join(holders) or 'holders unknown'))
            time.sleep(POLL_SECONDS)

    def release(self):
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
        return False

    # -- a session kept because the device refuses logouts --------------------------

    def _read(self):
        os.lseek(self.handle, 0, os.SEEK_SET)
        data = b''
        while True:
            chunk = os.read(self.handle, 65536)
            if not chunk:
                break
            data += chunk
        try:
            return json.loads(data.decode('utf-8')) if data.strip() else {}
        except ValueError:
            return {}

    def kept_session(self, password):
        """The cookies of the session this slot keeps for this password, or None."""
        record = self._read()
        cookies = record.get('cookies')
        if not cookies or not isinstance(cookies, dict) or record.get('digest') != _digest(record.get('salt', ''), self.username, password):
            return None
        return dict(cookies)

    def keep(self, cookies, password):
        """Keep a session that the device would not log out, for the next module of this account."""
        salt = os.urandom(16).hex()
        self._write({'cookies': dict(cookies), 'salt': salt, 'digest': _digest(salt, self.username, password)})

    def forget(self):
        self._write({})

    def _write(self, record):
        # Every record names the process holding the slot, so one that waits in vain can say who holds them.
        os.ftruncate(self.handle, 0)
        os.lseek(self.handle, 0, os.SEEK_SET)
        os.write(self.handle, json.dumps(dict(record, holder='process %d' % os.getpid())).encode('utf-8'))


def _slot_holder(path):
    """The process noted in a slot file (read without its lock, never through a link), or None."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0))
    except OSError:
        return None
    try:
        record = json.loads(os.read(handle, 65536).decode('utf-8') or '{}')
    except (OSError, ValueError):
        return None
    finally:
        os.close(handle)
    holder = record.get('holder') if isinstance(record, dict) else None
    return holder if isinstance(holder, str) else None


def _digest(salt, username, password):
    return hashlib.sha256(('%s\0%s\0%s' % (salt, username, password)).encode('utf-8')).hexdigest()
