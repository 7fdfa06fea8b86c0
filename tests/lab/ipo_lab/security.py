"""Security databases, sessions and account lockout.

Each node (IP500 V2, Server Edition server) has its own security database: its
ServiceUser and RightsGroup objects. An Application Server has one more, the
"Shell IPO" database, that checks logins there. Passwords are stored as salted
SHA-256 digests; the plain password of a logged-in session stays in memory
only, because the guide says the Primary (or the Application Server) reaches
the other nodes with the same credentials, and the lab checks exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time

RIGHT_READ = 'Management API Read'
RIGHT_WRITE = 'Management API Write'


def hash_password(password):
    salt = os.urandom(8).hex()
    return 'sha256$%s$%s' % (salt, hashlib.sha256((salt + password).encode('utf-8')).hexdigest())


def check_password(stored, password):
    """True when the password matches the stored digest; an empty stored password never matches."""
    if not stored or not password or stored.count('$') != 2:
        return False
    salt, digest = stored.split('$')[1:]
    candidate = hashlib.sha256((salt + password).encode('utf-8')).hexdigest()
    return hmac.compare_digest(candidate, digest)


def split_names(value):
    return [part.strip() for part in value.split('|') if part.strip()]


class SecurityDB:
    """A view over one security database: lists of ServiceUser and RightsGroup objects."""

    def __init__(self, key, users, groups):
        self.key = key
        self.users = users
        self.groups = groups

    def user(self, name):
        for user in self.users():
            if user['Name'] == name:
                return user
        return None

    def rights(self, user):
        """The external rights the user's rights groups grant together."""
        member_of = set(split_names(user['RightsGroups']))
        rights = set()
        for group in self.groups():
            if group['Name'] in member_of:
                rights.update(split_names(group['ExternalRights']))
        return rights

    def accepts(self, name, password):
        """True when this database would let the user in (used for node-to-node access)."""
        user = self.user(name)
        return user is not None and user['AccountStatus'] == 'Enabled' and check_password(user['Password'], password)


class Session:
    __slots__ = ('sid', 'token', 'listener', 'account', 'user', 'password', 'last_used', 'expired')

    def __init__(self, listener, user, password, account=None):
        self.sid = secrets.token_hex(16).upper()
        self.token = secrets.token_hex(16).upper()
        self.listener = listener
        # (security database, user): the account whose concurrent sessions are limited.
        self.account = account or (listener, user)
        self.user = user
        self.password = password
        self.last_used = time.monotonic()
        self.expired = False

    def __repr__(self):
        return 'Session(listener=%r, user=%r, expired=%r)' % (self.listener, self.user, self.expired)


class Sessions:
    """Sessions per listener; a cookie pair is valid only on the listener that issued it."""

    def __init__(self, idle_timeout):
        self.idle_timeout = idle_timeout
        self.by_sid = {}

    def create(self, listener, user, password, account=None):
        self._purge()
        session = Session(listener, user, password, account)
        self.by_sid[session.sid] = session
        return session

    def open_count(self, account):
        """Sessions of one account that are still open: neither logged out nor idle past the timeout."""
        now = time.monotonic()
        return sum(1 for session in self.by_sid.values()
                   if session.account == account and not session.expired and now - session.last_used <= self.idle_timeout)

    def lookup(self, listener, sid, token):
        """Returns (state, session): state is ok, missing, unknown or expired."""
        if not sid or not token:
            return 'missing', None
        session = self.by_sid.get(sid)
        if session is None or session.listener != listener or not hmac.compare_digest(session.token, token):
            return 'unknown', None
        now = time.monotonic()
        if session.expired or now - session.last_used > self.idle_timeout:
            session.expired = True
            return 'expired', session
        session.last_used = now
        return 'ok', session

    def expire(self, listener=None):
        count = 0
        for session in self.by_sid.values():
            if listener is None or session.listener == listener:
                if not session.expired:
                    count += 1
                session.expired = True
        return count

    def remove(self, sid):
        self.by_sid.pop(sid, None)

    def clear(self):
        self.by_sid.clear()

    def _purge(self):
        # Expired sessions are kept a while so a late call still gets 461 (not 401), then dropped.
        horizon = time.monotonic() - self.idle_timeout - 3600
        for sid in [sid for sid, session in self.by_sid.items() if session.last_used < horizon]:
            del self.by_sid[sid]


class Lockouts:
    """Failed logins per (database, user): threshold failures within window seconds lock the account for seconds.

    IP Office's default (Web Manager R12.3 security settings): 3 failures within
    10 minutes block the account for 1 minute. A successful login does not
    wipe the failures counted in the window.
    """

    def __init__(self, threshold, seconds, window=600.0):
        self.threshold = threshold
        self.seconds = seconds
        self.window = window
        self.failures = {}
        self.until = {}

    def locked(self, database, user):
        key = (database, user)
        until = self.until.get(key)
        if until is None:
            return False
        if time.monotonic() >= until:
            del self.until[key]
            self.failures.pop(key, None)
            return False
        return True

    def failure(self, database, user):
        key = (database, user)
        now = time.monotonic()
        recent = [moment for moment in self.failures.get(key, []) if now - moment <= self.window] + [now]
        self.failures[key] = recent
        if len(recent) >= self.threshold:
            self.until[key] = now + self.seconds
            self.failures[key] = []
            return True
        return False

    def success(self, database, user):
        """Failures stay counted within the window: the device's rule counts failures, not a streak."""

    def unlock(self, database=None, user=None):
        keys = [key for key in set(self.until) | set(self.failures)
                if (database is None or key[0] == database) and (user is None or key[1] == user)]
        for key in keys:
            self.until.pop(key, None)
            self.failures.pop(key, None)
        return len(keys)

    def listing(self, database=None):
        now = time.monotonic()
        return [
            {'database': key[0], 'user': key[1], 'seconds_left': round(until - now, 1)}
            for key, until in sorted(self.until.items())
            if until > now and (database is None or key[0] == database)
        ]

    def clear(self):
        self.failures.clear()
        self.until.clear()
