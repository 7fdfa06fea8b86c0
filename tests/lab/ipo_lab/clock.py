"""The lab clock: real time plus an offset that the control API moves forward.

Everything in the lab that counts days (grace period, daily alarms,
subscription expiry, the SNTP server's answers, COM's view of the time) reads
this clock, so a test can move 31 days in one control call. The offset only
grows (or is reset): time in the lab never runs backwards.
"""

from __future__ import annotations

import datetime
import time

DAY = 86400.0


def iso(timestamp):
    """A lab timestamp as ISO 8601 UTC with seconds, or "" for none."""
    if not timestamp:
        return ''
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class LabClock:
    def __init__(self):
        self.offset = 0.0
        self.listeners = []

    def now(self):
        return time.time() + self.offset

    def today(self):
        return datetime.datetime.fromtimestamp(self.now(), datetime.timezone.utc).date()

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError('the lab clock only moves forward')
        self.offset += seconds
        self._changed()

    def reset(self):
        self.offset = 0.0
        self._changed()

    def on_change(self, callback):
        """callback() runs after every advance or reset (e.g. to re-check expiry dates at once)."""
        self.listeners.append(callback)

    def _changed(self):
        for callback in self.listeners:
            callback()

    def describe(self):
        return {'now': iso(self.now()), 'now_epoch': round(self.now(), 3), 'offset_seconds': self.offset,
                'offset_days': round(self.offset / DAY, 4)}
