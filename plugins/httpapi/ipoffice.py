# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: ipoffice
short_description: One Management API session per inventory host, for the IP Office modules
description:
  - The httpapi plugin for Avaya IP Office's Management API (Web Manager's REST interface, HTTPS, port 7070 by
    default), used with the C(ansible.netcommon.httpapi) connection and C(ansible_network_os=ipoffice.subscription.ipoffice).
  - The session opens on the first request of the play and stays open for every module of this collection that
    runs for the host; it logs out when the persistent connection closes.
  - Login is C(GET /WebManagement/ws/sdk/security/authenticate) with Basic auth; both session cookies
    (C(JSESSIONID), C(SDK-Token)) go back on each request.
  - An expired session (C(461:SessionTimeout)) is renewed once. A rejected password is never sent again for the
    life of the connection, because IP Office locks an account after 3 failed logins in 10 minutes.
  - The connection holds one of the session slots this controller may use per account and endpoint (4 of the
    5 sessions IP Office allows), from the first request until it closes.
  - Host, port, user, password and TLS options come from the connection's own variables
    (C(ansible_host), C(ansible_httpapi_port), C(ansible_user), C(ansible_password),
    C(ansible_httpapi_use_ssl) which must be true, C(ansible_httpapi_validate_certs) (default true),
    C(ansible_httpapi_ca_path)); tasks give none of them.
  - Configuration reads (each node's System object, IP routes, service users) are shared between the tasks of one
    play, until the next write through this connection; the link's status and the licences are always read
    again. A task never plans a write from a shared read; it reads the device again first. See docs/connection.md.
  - The modules use the same client, envelope codec and messages as with the local connection; only where the
    session comes from differs. See the collection's docs/connection.md.
version_added: 0.1.0
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
'''

from ansible.plugins.httpapi import HttpApiBase

from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
from ansible_collections.ipoffice.subscription.plugins.module_utils import locks


class HttpApi(HttpApiBase):
    """Holds the host's session; the modules' action plugins ask for it with ipoffice_session()."""

    def __init__(self, connection):
        super(HttpApi, self).__init__(connection)
        self._client = None
        self._slot = None
        self._serial = 0
        self._refused = None
        # Configuration reads kept for the tasks of one play (scope: the play's id), until the next write.
        self._reads = {}
        self._reads_scope = None

    def login(self, username, password):
        """Nothing yet: the session opens on the first request (ipoffice_session), not when the connection starts."""
        del username, password

    def send_request(self, data, **message_kwargs):
        raise api.IPOfficeError('the ipoffice httpapi plugin serves the ipoffice.subscription modules only; '
                                'use them (or ansible.builtin.uri with ansible_connection local) instead')

    def _option(self, name, default=None):
        value = self.connection.get_option(name)
        return default if value is None else value

    def _new_client(self):
        get = self._option
        if not get('use_ssl', False):
            raise api.IPOfficeError('the IP Office Management API is HTTPS only: set ansible_httpapi_use_ssl: true')
        return api.Client(host=get('host'), port=int(get('port', api.CONNECTION_ARGUMENT_SPEC['port']['default'])),
                          username=get('remote_user'), password=get('password'),
                          validate_certs=get('validate_certs', True), ca_path=get('ca_path'),
                          timeout=int(get('persistent_command_timeout', 30)),
                          retries=api.CONNECTION_ARGUMENT_SPEC['retries']['default'])

    def ipoffice_session(self, stale=None):
        """The session's cookies for a module run: {'cookies', 'serial', 'fresh'} or {'error': {...}}.

        stale: the serial of the session a module found expired; it is renewed once, unless another module
        renewed it already. Errors come back as data so the module can raise the same error class."""
        try:
            return self._session(stale)
        except (api.IPOfficeError, locks.LockError) as exc:
            return {'error': {'type': type(exc).__name__, 'message': str(exc),
                              'details': dict((key, value) for key, value in getattr(exc, 'details', {}).items()
                                              if key in ('http_status',))}}

    def _session(self, stale):
        if self._refused is not None:
            raise api.AuthenticationError('%s (the password was not sent again: this connection already had it '
                                          'rejected)' % self._refused)
        if not self.connection._connected:  # pylint: disable=protected-access
            self.connection._connect()  # pylint: disable=protected-access
        fresh = False
        if self._client is None:
            self._client = self._new_client()
            problems = api.check_connection_params(dict(
                host=self._client.host, port=self._client.port, username=self._client.username,
                password=self._option('password'), timeout=self._client.timeout, retries=self._client.retries,
                ca_path=self._option('ca_path')))
            if problems:
                self._client = None
                raise api.IPOfficeError('; '.join(problems))
        if self._slot is None:
            self._slot = locks.SessionSlot(self._client.host, self._client.port, self._client.username,
                                           api.SESSIONS_PER_ACCOUNT).acquire()
            self._client.session_slot = self._slot
        if not self._client.logged_in or (stale is not None and stale == self._serial):
            logins = self._client.stats['logins']
            try:
                self._client.login()
            except api.AuthenticationError as exc:
                if exc.details.get('http_status') == 401:
                    self._refused = str(exc)
                raise
            self._serial += 1
            fresh = self._client.stats['logins'] > logins  # not a session an earlier module kept in the slot
            self.connection.queue_message('vvvv', 'IP Office session %d opened at %s' % (self._serial, self._client.where))
        return {'cookies': self._client.session_cookies(), 'serial': self._serial, 'fresh': fresh}

    def ipoffice_shared_read(self, scope, path):
        """What a task of this play read at path since the last write (plain data, see envelope.Answer), or None."""
        return self._reads.get(path) if scope == self._reads_scope else None

    def ipoffice_share_read(self, scope, path, answer):
        """Keep a configuration read for the next tasks of the play; a new play starts with none."""
        if scope != self._reads_scope:
            self._reads = {}
            self._reads_scope = scope
        self._reads[path] = answer

    def ipoffice_forget_reads(self):
        """A task is about to write: nothing read before it may be shared any more."""
        self._reads = {}

    def logout(self):
        """When the persistent connection closes: log out (best effort) and give the session slot back."""
        try:
            if self._client is not None:
                self._client.logout()
        finally:
            if self._slot is not None:
                self._slot.release()
                self._slot = None
