# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What code under test asked of its sockets, for timing claims proven by counts and order instead of a stopwatch:
every wait it set (settimeout) and every receive with its outcome, in order. The sockets stay real."""

from __future__ import annotations

import socket


class SocketSpy(object):
    """Installed with monkeypatch: sockets created afterwards (by anyone) record into self.calls."""

    def __init__(self, monkeypatch):
        self.calls = []
        spy = self

        def outcome(receive):
            def recording(sock, *args, **kwargs):
                try:
                    data = receive(sock, *args, **kwargs)
                except socket.timeout:
                    spy.calls.append(('recv', 'timeout'))
                    raise
                except OSError as exc:
                    spy.calls.append(('recv', exc.errno))
                    raise
                spy.calls.append(('recv', len(data[0] if isinstance(data, tuple) else data)))
                return data
            return recording

        class Recording(socket.socket):
            def settimeout(self, value):
                spy.calls.append(('settimeout', value))
                return super(Recording, self).settimeout(value)

            recv = outcome(socket.socket.recv)
            recvfrom = outcome(socket.socket.recvfrom)

        monkeypatch.setattr(socket, 'socket', Recording)

    def waits(self):
        """Every timeout the code set, in order."""
        return [value for what, value in self.calls if what == 'settimeout']

    def receives(self):
        """Every receive: the bytes it got, 'timeout', or the errno it failed with."""
        return [value for what, value in self.calls if what == 'recv']

    def ran_out_once(self, timeout):
        """True when the code spent one budget of `timeout`: each wait shorter than the one before and at most the
        timeout, every receive ran out, and it stopped after the last one (no wait was set again)."""
        waits, receives = self.waits(), self.receives()
        return (bool(waits) and 0 < waits[0] <= timeout and all(later < earlier for earlier, later in zip(waits, waits[1:]))
                and receives == ['timeout'] * len(waits))
