"""The request log: one JSON line per API request, in STATE/requests.jsonl and in memory.

Entries never hold a password, an Authorization header, a cookie value or a
body: only what a test needs to prove which calls a client made.
"""

from __future__ import annotations

import datetime
import json

FIELDS = ('seq', 'time', 'listener', 'system', 'systems', 'method', 'path', 'resource', 'query', 'entities', 'user',
          'http_status', 'app_status', 'write', 'applied', 'changed', 'fault', 'open_sessions', 'panel')


class RequestLog:
    def __init__(self, path, keep=200000):
        self.path = path
        self.keep = keep
        self.entries = []
        self.seq = 0
        # One run, one log: seq starts at 1 again, so an old file would only confuse a reader.
        self.handle = open(path, 'w', encoding='utf-8')

    def add(self, entry):
        self.seq += 1
        entry = dict(entry)
        entry['seq'] = self.seq
        entry['time'] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds')
        entry = dict((name, entry.get(name)) for name in FIELDS)
        self.handle.write(json.dumps(entry, sort_keys=False) + '\n')
        self.handle.flush()
        self.entries.append(entry)
        if len(self.entries) > self.keep:
            del self.entries[:len(self.entries) - self.keep]
        return entry

    def since(self, seq):
        return [entry for entry in self.entries if entry['seq'] > seq]

    def clear(self):
        """Forget the entries in memory; seq keeps counting and the file keeps the whole run."""
        self.entries = []

    def close(self):
        self.handle.close()
