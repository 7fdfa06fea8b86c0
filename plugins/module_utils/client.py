# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one client of the IP Office Management API, built on ansible.module_utils.urls.

- Login: GET .../security/authenticate with Basic auth and the two X-User-*
  headers; every cookie it sets (JSESSIONID, SDK-Token) goes back on each call.
- A rejected password is never retried: IP Office locks accounts.
- An expired session (461:SessionTimeout as HTTP 461, or HTTP 200 with an
  SMAError) is renewed once and the call retried once.
- 5xx and connection errors are retried a bounded number of times with
  backoff, honouring Retry-After. A write is retried only when it surely was
  not applied (503, a 461 session timeout, or the connection was refused);
  when it was sent and no clear answer came (connection lost, no answer in
  time, 500/502/504) the caller gets WriteOutcomeUnknown and must read before
  writing again (module_base.write_and_confirm does).
- TLS verification is on unless the user turns it off; TLS 1.2 at least.
"""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
import time

from http.cookies import SimpleCookie
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import Request, make_context

from ansible_collections.ipoffice.subscription.plugins.module_utils import envelope, schema, validators

API_ROOT = '/WebManagement/ws/sdk'
AUTH_PATH = API_ROOT + '/security/authenticate'
ADMIN_PATH = API_ROOT + '/admin/v1/'

HEADERS = {
    'X-User-Client': 'Avaya-WebAdmin',
    'X-User-Agent': 'Avaya-SDKUser',
    'Content-Type': 'application/json',
    'Accept': 'application/json',
}

# The one argument spec for connection options; modules add their own to it.
CONNECTION_ARGUMENT_SPEC = dict(
    host=dict(type='str', fallback=(env_fallback, ['IPOFFICE_HOST'])),
    port=dict(type='int', default=7070, fallback=(env_fallback, ['IPOFFICE_PORT'])),
    username=dict(type='str', fallback=(env_fallback, ['IPOFFICE_USERNAME'])),
    password=dict(type='str', no_log=True, fallback=(env_fallback, ['IPOFFICE_PASSWORD'])),
    validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['IPOFFICE_VALIDATE_CERTS'])),
    ca_path=dict(type='path', fallback=(env_fallback, ['IPOFFICE_CA_PATH'])),
    timeout=dict(type='int', default=30, fallback=(env_fallback, ['IPOFFICE_TIMEOUT'])),
    retries=dict(type='int', default=3, fallback=(env_fallback, ['IPOFFICE_RETRIES'])),
    node_address=dict(type='str', fallback=(env_fallback, ['IPOFFICE_NODE_ADDRESS'])),
    api_profile=dict(type='raw', default='auto', fallback=(env_fallback, ['IPOFFICE_API_PROFILE'])),
)

MAX_RETRY_AFTER = 60
# IP Office allows 5 concurrent sessions per account (Web Manager R12.3): the collection keeps one free.
SESSIONS_PER_ACCOUNT = 4
_RETRYABLE_HTTP = (500, 502, 503, 504)
# OpenSSL's reasons when the server speaks only TLS older than the client's minimum (TLS 1.2).
_TLS_VERSION_REFUSED = ('TLSV1_ALERT_PROTOCOL_VERSION', 'UNSUPPORTED_PROTOCOL', 'NO_PROTOCOLS_AVAILABLE', 'VERSION_TOO_LOW')


def connection_argument_spec():
    """A fresh copy, so a module can add to it without touching the shared one."""
    return dict((key, dict(value)) for key, value in CONNECTION_ARGUMENT_SPEC.items())


def check_connection_params(params, password_needed=True):
    """Messages for bad connection options, before any request."""
    problems = [
        validators.check_host('host', params.get('host')),
        validators.check_port('port', params.get('port')),
        validators.check_positive('timeout', params.get('timeout'), maximum=3600),
        validators.check_range('retries', params.get('retries'), 0, 10),
        validators.check_readable_file('ca_path', params.get('ca_path')),
    ]
    if not params.get('username'):
        problems.append('username is required: the service user with the "Management API Group" rights')
    if password_needed and not params.get('password'):
        problems.append('password is required for username %r' % params.get('username'))
    if params.get('node_address') is not None and not validators.is_ip_address(params['node_address']):
        problems.append('node_address must be the LAN1 IP address of a node: got %r' % params['node_address'])
    return [p for p in problems if p]


class IPOfficeError(Exception):
    """Any failure the module reports as a plain message."""

    def __init__(self, message, **details):
        super(IPOfficeError, self).__init__(message)
        self.details = details


class AuthenticationError(IPOfficeError):
    """The device refused the credentials or the account: never retried."""


class SessionLimitError(IPOfficeError):
    """The device has as many sessions open for the account as it allows: not a wrong password."""


class TransportError(IPOfficeError):
    """The device could not be reached or did not answer."""


class ApiError(IPOfficeError):
    """The device answered status 0 with an error node."""

    def __init__(self, message, errors, http_status=None):
        super(ApiError, self).__init__(message, errors=[e.as_dict() for e in errors], http_status=http_status)
        self.errors = errors


class WriteOutcomeUnknown(IPOfficeError):
    """A write was sent but no clear answer came: it may or may not have been applied.

    what: what happened, in a few words, for the module's message."""

    def __init__(self, message, what):
        super(WriteOutcomeUnknown, self).__init__(message)
        self.what = what


class PlanFromSharedRead(Exception):
    """A task was about to write after a read shared from an earlier task of the play: module_base.run plans it
    again from the device's own reads. Not an IPOfficeError: nothing failed, and no handler may take it for one."""


class _Sent(object):
    """What came back from one HTTP exchange."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.attempts = 1


class Client(object):
    """A session with one IP Office (or its Primary / Application Server)."""

    def __init__(self, host, username, password, port=7070, validate_certs=True, ca_path=None,
                 timeout=30, retries=3, node_address=None, sleep=time.sleep, clock=time.monotonic, session_slot=None,
                 session_source=None):
        # locks.SessionSlot: one of the few sessions this controller may hold for the account (or None).
        self.session_slot = session_slot
        # Where the session comes from when another process holds it (the httpapi connection): an object with
        # open(stale) -> {'cookies', 'serial', 'fresh'}; None: this client logs in and out itself.
        self.session_source = session_source
        self._session_serial = None
        # A session source that keeps reads for the play (the httpapi connection) shares configuration reads
        # between its tasks; a write is only ever planned from the device's own reads (PlanFromSharedRead).
        self.shares_reads = hasattr(session_source, 'shared_read')
        self.share_reads = self.shares_reads  # False from this task's first write, or once it plans again
        self._slot_tried = False
        self._logout_refused = False
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.node_address = node_address
        self.timeout = timeout
        self.retries = retries
        self._sleep = sleep
        self._clock = clock
        self._cookies = {}
        self.logged_in = False
        # Counted so tests and reports can show what a task cost.
        self.stats = {'requests': 0, 'logins': 0, 'retries': 0, 'relogins': 0, 'writes': 0, 'reused_sessions': 0,
                      'shared_reads': 0}
        netloc = '[%s]' % host if ':' in host else host
        self.base_url = 'https://%s:%d' % (netloc, port)
        context = make_context(cafile=ca_path, validate_certs=validate_certs)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._request = Request(headers=dict(HEADERS), timeout=timeout, validate_certs=validate_certs,
                                use_proxy=False, follow_redirects='none', use_netrc=False, context=context)

    @classmethod
    def from_params(cls, params, session_slot=None, session_source=None):
        return cls(host=params['host'], port=params['port'], username=params['username'],
                   password=params['password'], validate_certs=params['validate_certs'],
                   ca_path=params.get('ca_path'), timeout=params['timeout'],
                   retries=params['retries'], node_address=params.get('node_address'), session_slot=session_slot,
                   session_source=session_source)

    @property
    def where(self):
        return '%s:%d' % (self.host, self.port)

    # -- transport -------------------------------------------------------

    def _exchange(self, method, path, body=None, auth=False):
        """One HTTP exchange; HTTP error statuses are answers, not exceptions."""
        headers = {}
        if self._cookies:
            headers['Cookie'] = '; '.join('%s=%s' % item for item in sorted(self._cookies.items()))
        kwargs = {}
        if auth:
            kwargs = dict(url_username=self.username, url_password=self._password, force_basic_auth=True)
        self.stats['requests'] += 1
        try:
            resp = self._request.open(method, self.base_url + path, data=body, headers=headers, **kwargs)
            sent = _Sent(resp.status, resp.headers, resp.read())
        except HTTPError as exc:
            try:
                data = exc.read()
            except Exception:  # pylint: disable=broad-except
                data = b''
            sent = _Sent(exc.code, exc.headers, data)
        self._remember_cookies(sent.headers)
        return sent

    def _remember_cookies(self, headers):
        if headers is None:
            return
        for header in headers.get_all('Set-Cookie') or []:
            jar = SimpleCookie()
            try:
                jar.load(header)
            except Exception:  # pylint: disable=broad-except
                continue
            for name, morsel in jar.items():
                self._cookies[name] = morsel.value

    def _classify(self, exc):
        """A connection-level failure -> (message, surely_not_applied).

        urllib wraps failures while connecting or sending in URLError; a failure
        while waiting for the answer comes bare, and then the device may have
        acted on the request.
        """
        reason = getattr(exc, 'reason', exc) if isinstance(exc, URLError) else exc
        not_sent = isinstance(exc, URLError)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return ('the TLS certificate of %s could not be verified (%s). Give the CA that issued it in ca_path; '
                    'validate_certs=false turns checking off and is not recommended'
                    % (self.where, reason.verify_message or reason), True)
        if isinstance(reason, ssl.SSLError) and getattr(reason, 'reason', None) in _TLS_VERSION_REFUSED:
            return ('TLS with %s failed: the server offers no TLS version this client accepts; TLS 1.2 or later is required, '
                    'also with validate_certs=false (%s)' % (self.where, reason), True)
        if isinstance(reason, ssl.SSLError) and not_sent:
            return 'TLS with %s failed: %s' % (self.where, reason), True
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return 'no answer from %s within %s s' % (self.where, self.timeout), not_sent
        if isinstance(reason, ConnectionRefusedError):
            return 'cannot connect to %s: connection refused' % self.where, True
        if isinstance(reason, socket.gaierror):
            return 'cannot resolve host %r: %s' % (self.host, reason), True
        if not_sent:
            return 'cannot connect to %s: %s' % (self.where, getattr(reason, 'strerror', None) or reason), True
        return 'connection to %s lost: %s' % (self.where, reason or type(reason).__name__), False

    def _retry_delay(self, attempt, sent=None):
        if sent is not None and sent.headers is not None and sent.headers.get('Retry-After'):
            value = sent.headers.get('Retry-After').strip()
            if value.isdigit():
                return min(int(value), MAX_RETRY_AFTER)
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, min(parsed.timestamp() - time.time(), MAX_RETRY_AFTER))
        return min(0.5 * (2 ** attempt), 8.0)

    def _send(self, method, path, body=None, auth=False):
        """_exchange with bounded retries on 5xx and connection errors."""
        is_write = method not in ('GET', 'HEAD')
        started = self._clock()
        attempt = 0
        while True:
            try:
                sent = self._exchange(method, path, body, auth=auth)
            except (URLError, OSError, http.client.HTTPException) as exc:
                message, not_sent = self._classify(exc)
                if isinstance(exc, URLError) and isinstance(exc.reason, ssl.SSLError):
                    raise TransportError(message)  # a handshake (certificate) does not get better by asking again
                if is_write and not not_sent:
                    raise self._outcome_unknown(method, path, message)
                if attempt >= self.retries:
                    raise TransportError('%s (after %d attempts in %.1f s)' % (message, attempt + 1, self._clock() - started))
                self.stats['retries'] += 1
                self._sleep(self._retry_delay(attempt))
                attempt += 1
                continue
            if sent.status in _RETRYABLE_HTTP and is_write and sent.status != 503:
                # The device may have failed after applying it: only a read can tell.
                raise self._outcome_unknown(method, path, '%s answered HTTP %s' % (self.where, sent.status))
            if sent.status in _RETRYABLE_HTTP and attempt < self.retries:
                self.stats['retries'] += 1
                self._sleep(self._retry_delay(attempt, sent))
                attempt += 1
                continue
            sent.attempts = attempt + 1
            return sent

    def _outcome_unknown(self, method, path, message):
        resource = path[len(ADMIN_PATH):].split('?')[0] if path.startswith(ADMIN_PATH) else path
        what = '%s %s was sent, then %s' % (method, resource, message)
        return WriteOutcomeUnknown('%s; the write may or may not have been applied: read the object before writing again'
                                   % what, what=what)

    # -- session ---------------------------------------------------------

    def login(self):
        if self.session_source is not None:
            self._session_from_source()
            return
        if self.session_slot is not None and not self._slot_tried:
            # A session kept by an earlier module because this device refuses logouts: use it, do not open another.
            self._slot_tried = True
            kept = self.session_slot.kept_session(self._password)
            if kept:
                self._cookies = kept
                self._logout_refused = True
                self.logged_in = True
                self.stats['reused_sessions'] += 1
                return
        self._cookies = {}
        self.logged_in = False
        self.stats['logins'] += 1
        sent = self._send('GET', AUTH_PATH, auth=True)
        if sent.status in (401, 403):
            detail = _error_text(sent.body)
            if 'concurrent sessions' in detail.lower():
                raise SessionLimitError(
                    '%s refused a new session for service user %r: %s. IP Office allows 5 sessions per account; this '
                    'collection holds at most %d per account and endpoint, so Web Manager or other tools hold the rest: close '
                    'them or wait for them to time out' % (self.where, self.username, detail, SESSIONS_PER_ACCOUNT),
                    http_status=sent.status)
            if sent.status == 401:
                raise AuthenticationError(
                    '%s rejected the user name or password of service user %r%s. Not retried: IP Office locks '
                    'an account after repeated failures.' % (self.where, self.username, (': ' + detail) if detail else ''),
                    http_status=sent.status)
            raise AuthenticationError(
                '%s refused service user %r%s. The user needs the rights group "Management API Group" '
                '(Management API Read and Write) and an account that is not locked.'
                % (self.where, self.username, (': ' + detail) if detail else ''), http_status=sent.status)
        if sent.status != 200:
            raise IPOfficeError('login at %s failed: HTTP %s%s; body starts with: %r'
                                % (self.where, sent.status, _attempts(sent), envelope.excerpt(sent.body)), http_status=sent.status)
        answer = envelope.decode(sent.body, sent.status)
        if not answer.ok:
            raise AuthenticationError('login at %s failed: %s' % (self.where, '; '.join(str(e) for e in answer.errors)))
        if not self._cookies:
            raise IPOfficeError('login at %s answered without a session cookie' % self.where)
        self.logged_in = True

    def _session_from_source(self):
        """The session the persistent connection holds: opened there on the first request of the play, and
        renewed there (once) when this client found it expired; a refused password is never sent again."""
        self._cookies = {}
        self.logged_in = False
        session = self.session_source.open(stale=self._session_serial)
        self._cookies = dict(session['cookies'])
        self._session_serial = session['serial']
        self.stats['logins' if session['fresh'] else 'reused_sessions'] += 1
        self.logged_in = True

    def logout(self):
        """Best effort: the guide documents no logout; some builds answer 405 and let the session run out.

        Where the device refused it, the session slot keeps the session for the next
        module of this account instead of leaving one more open session behind.
        A session from a session source stays open: its connection logs out when it closes."""
        if not self.logged_in:
            return
        if self.session_source is not None:
            self._cookies = {}
            self.logged_in = False
            return
        if not self._logout_refused:
            try:
                sent = self._exchange('DELETE', AUTH_PATH)
                self._logout_refused = sent.status == 405
            except Exception:  # pylint: disable=broad-except
                pass
        if self.session_slot is not None:
            try:
                if self._logout_refused:
                    self.session_slot.keep(self._cookies, self._password)
                else:
                    self.session_slot.forget()
            except OSError:
                pass  # a slot that cannot be written only costs the next module a login
        self._cookies = {}
        self.logged_in = False

    def session_cookies(self):
        """The open session's cookies, for a module that uses it through a session source."""
        return dict(self._cookies)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.logout()
        return False

    # -- API calls -------------------------------------------------------

    def _path(self, resource, node_address=None, guid=None):
        query = {}
        target = node_address if node_address is not None else self.node_address
        if target:
            query['ipaddress'] = target
        if guid:
            query['guid'] = guid
        path = ADMIN_PATH + quote(resource)
        return path + ('?' + urlencode(query) if query else '')

    def call(self, method, resource, node_address=None, guid=None, objects=None):
        """One API call -> envelope.Answer. Status 0 raises ApiError."""
        path = self._path(resource, node_address, guid)
        shareable = method == 'GET' and self.shares_reads and schema.changes_only_when_written(resource)
        if shareable and self.share_reads:
            answer = self.session_source.shared_read(path)
            if answer is not None:
                self.stats['shared_reads'] += 1
                return answer
        if method != 'GET' and self.shares_reads:
            # Only before this task's first write (share_reads turns false there), so planning again loses nothing.
            if self.share_reads and self.stats['shared_reads']:
                raise PlanFromSharedRead('%s %s would be planned from a read shared from an earlier task' % (method, resource))
            # From its first write on, this task reads the device itself; and whatever the write's outcome, no task
            # may read what was kept from before it.
            self.share_reads = False
            self.session_source.forget_reads()
        if not self.logged_in:
            self.login()
        body = envelope.encode(objects) if objects else None
        answer = self._call_once(method, path, body)
        if answer is None:  # session expired: one new login, one retry
            self.stats['relogins'] += 1
            self.login()
            answer = self._call_once(method, path, body)
            if answer is None:
                raise IPOfficeError('%s %s: the session expired again right after a new login at %s' % (method, path, self.where))
        if not answer.ok:
            raise ApiError('%s %s at %s failed: %s' % (method, resource, self.where, '; '.join(str(e) for e in answer.errors)),
                           answer.errors, http_status=answer.http_status)
        if method != 'GET':
            self.stats['writes'] += 1
        elif shareable:
            self.session_source.share_read(path, answer)
        return answer

    def plan_from_own_reads(self):
        """From now on every read of this client is the device's own (after PlanFromSharedRead)."""
        self.share_reads = False

    def _call_once(self, method, path, body):
        sent = self._send(method, path, body)
        if sent.status in (401, 461):
            return None
        if sent.status == 403:
            raise AuthenticationError('%s refused %s %s for service user %r: %s. The user needs "Management API Write" for changes.'
                                      % (self.where, method, path, self.username, _error_text(sent.body) or 'forbidden'))
        if sent.status >= 400 or sent.status < 200:
            raise IPOfficeError('%s %s at %s: HTTP %s%s; body starts with: %r'
                                % (method, path, self.where, sent.status, _attempts(sent), envelope.excerpt(sent.body)), http_status=sent.status)
        try:
            answer = envelope.decode(sent.body, sent.status)
        except envelope.EnvelopeError as exc:
            raise IPOfficeError('%s %s at %s: unexpected answer: %s' % (method, path, self.where, exc), http_status=sent.status)
        if answer.is_session_timeout:
            return None
        return answer

    def get(self, entity_name, node_address=None, resource=None):
        """All objects of one entity, schema-normalised; resource: where a profile says this release serves it."""
        ent = schema.entity(entity_name)
        return self.call('GET', resource or ent.resource, node_address=node_address).entities(ent.name)


def _attempts(sent):
    return ' (after %d attempts)' % sent.attempts if sent.attempts > 1 else ''


def _error_text(body):
    """The error description of an SMAError body, if the body is one."""
    try:
        answer = envelope.decode(body)
    except envelope.EnvelopeError:
        return envelope.excerpt(body)[:120]
    return '; '.join(str(e) for e in answer.errors)
