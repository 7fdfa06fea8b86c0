# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small SNTP server on a real UDP socket on 127.0.0.1, for the unit tests of the SNTP client and of time_check."""

from __future__ import annotations

import socket
import struct
import threading
import time

from ansible_collections.ipoffice.subscription.plugins.module_utils import sntp


def reply(transmit, receive_at, transmit_at, leap=0, version=4, mode=4, stratum=2, reference=b'\xc0\x00\x02\x01'):
    """A server answer echoing the request's transmit timestamp."""
    return struct.pack('!BBbb4s4s4s8s8s8s8s', (leap << 6) | (version << 3) | mode, stratum, 6, -20, b'\0' * 4,
                       b'\0' * 4, reference, sntp.to_ntp(transmit_at - 10), transmit,
                       sntp.to_ntp(receive_at), sntp.to_ntp(transmit_at))


class TinySntp(object):
    """A one-thread SNTP server on 127.0.0.1: answers with its clock plus skew, or stays silent, or first sends a
    stray packet that answers another request. clock: the server's clock (called for the receive, then the transmit
    time of each answer), so a test can give exact times. requests: how many requests it received."""

    def __init__(self, skew=0.0, silent=False, stray_first=False, clock=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.skew, self.silent, self.stray_first = skew, silent, stray_first
        self.clock = clock or (lambda: time.time() + self.skew)
        self.requests = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            data, peer = self.sock.recvfrom(512)
        except OSError:
            return
        self.requests += 1
        if self.silent:
            return
        if self.stray_first:
            stray = self.clock(), self.clock()
            self.sock.sendto(reply(b'\x01' * 8, stray[0], stray[1]), peer)
        received = self.clock()
        self.sock.sendto(reply(data[40:48], received, self.clock()), peer)

    def close(self):
        self.sock.close()
        self.thread.join(5)
