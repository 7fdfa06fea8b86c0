# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every API module does around its own work: build the AnsibleModule
from the shared connection spec, reject bad input before any request, warn
when TLS checking is off, and report client errors as plain messages."""

from __future__ import annotations

import contextlib
import traceback

from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
from ansible_collections.ipoffice.subscription.plugins.module_utils import envelope, locks, profiles, resource, schema, topology
from ansible_collections.ipoffice.subscription.plugins.module_utils.in_worker import module_class, session_source


class ModuleInputError(api.IPOfficeError):
    """The task cannot go on as asked (wrong node, input the device refutes)."""


def build_module(argument_spec=None, needs_connection=None, **kwargs):
    """needs_connection(params) -> bool: False for offline states (rendered, parsed)."""
    spec = api.connection_argument_spec()
    spec.update(argument_spec or {})
    module = module_class()(argument_spec=spec, **kwargs)
    api_profile(module)  # a bad profile fails here, before any request
    if needs_connection is not None and not needs_connection(module.params):
        return module
    # Through the httpapi connection the password stays with the connection, which logs in.
    problems = api.check_connection_params(module.params, password_needed=session_source() is None)
    if problems:
        module.fail_json(msg='; '.join(problems))
    if not module.params['validate_certs']:
        module.warn('validate_certs is false: the TLS certificate of %s is not checked, so the password could go to '
                    'an impostor. Give the issuing CA in ca_path instead.' % module.params['host'])
    return module


_PROFILES = {}


def api_profile(module):
    """The task's API profile (profiles.py), loaded once; a bad one fails the task before any request."""
    key = id(module)
    if key not in _PROFILES:
        try:
            _PROFILES[key] = profiles.load(module.params.get('api_profile'))
        except profiles.ProfileError as exc:
            module.fail_json(msg='%s; nothing was changed' % exc)
    return _PROFILES[key]


def absent(exc):
    """Whether a failed read means the release does not serve the resource (404, 405, or an error node)."""
    return isinstance(exc, api.ApiError) or getattr(exc, 'details', {}).get('http_status') in (404, 405)


def write_and_confirm(module, client, write, read_back):
    """Send one write; when its outcome is unknown, read before anything else is written.

    write() sends it and returns the answer. read_back() reads the object again and
    returns resource.APPLIED, resource.NOT_APPLIED or a list of problems (a mix).
    Read back as applied: the task goes on and a warning says what happened.
    Read back exactly as before: the write never took effect, so it is sent once
    more (a write the read justified, never a blind one). Anything else, or a
    second unknown outcome that is not applied, fails saying what was read.
    Returns the write's answer, or None when only the read showed it applied.
    """
    try:
        return write()
    except api.WriteOutcomeUnknown as exc:
        story = [exc.what]
    outcome = _read_after_unknown(client, read_back, story)
    if outcome == resource.APPLIED:
        client.stats['writes'] += 1
        module.warn('%s; read back: applied, so it was not sent again' % story[0])
        return None
    if outcome != resource.NOT_APPLIED:
        raise api.IPOfficeError('%s; read back: neither as before nor as intended: %s. Nothing more was written; '
                                'check the object and re-run' % (story[0], '; '.join(outcome)))
    story.append('read back: not applied (exactly as before), so it was sent once more')
    try:
        answer = write()
    except api.WriteOutcomeUnknown as exc:
        story.append(exc.what)
    except api.IPOfficeError as exc:
        raise api.IPOfficeError('%s; %s: %s' % (story[0], story[1], exc), **exc.details)
    else:
        module.warn('%s; %s: applied' % tuple(story))
        return answer
    outcome = _read_after_unknown(client, read_back, story)
    if outcome == resource.APPLIED:
        client.stats['writes'] += 1
        module.warn('%s; read back: applied' % '; '.join(story))
        return None
    raise api.IPOfficeError('%s; read back: %s. Nothing more was written; re-run when the system answers again' % (
        '; '.join(story), _not_applied(client) if outcome == resource.NOT_APPLIED else '; '.join(outcome)))


def _not_applied(client):
    """This write was not applied; whether the task changed nothing depends on the writes before it."""
    earlier = client.stats['writes']
    if not earlier:
        return 'not applied: nothing was changed'
    return 'not applied; %d earlier write%s of this task %s applied' % (
        earlier, '' if earlier == 1 else 's', 'was' if earlier == 1 else 'were')


def _read_after_unknown(client, read_back, story):
    try:
        return read_back()
    except api.IPOfficeError as exc:
        raise api.IPOfficeError('%s; the read that should tell whether it was applied failed too: %s. Nothing more was '
                                'written; re-run to read and converge' % ('; '.join(story), exc))


# States that write; their read-change-write-verify runs under the endpoint's write lock.
WRITE_STATES = ('merged', 'replaced', 'overridden', 'deleted')


def run(module, work):
    """Run work(client) with a logged-in client; fail cleanly on any client error."""
    params = module.params
    source = session_source()
    client = api.Client.from_params(params, session_source=source)
    writes = params.get('state') in WRITE_STATES and not module.check_mode
    try:
        # The write lock first, then a session slot: a task never waits for the lock while holding a slot.
        # A persistent connection holds its own slot for the whole play.
        with locks.WriteLock(params['host'], params['port']) if writes else contextlib.nullcontext():
            with (locks.SessionSlot(params['host'], params['port'], params['username'], api.SESSIONS_PER_ACCOUNT)
                  if source is None else contextlib.nullcontext()) as slot:
                client.session_slot = slot
                with client:
                    try:
                        result = work(client)
                    except api.PlanFromSharedRead:
                        # Nothing was written yet: plan the task again, from the device's own reads.
                        client.plan_from_own_reads()
                        result = work(client)
    except locks.LockError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except profiles.ProfileError as exc:
        module.fail_json(msg=str(exc), changed=client.stats['writes'] > 0)
    except api.IPOfficeError as exc:
        # changed stays honest on a failure: true when a write of this task was applied before it failed.
        module.fail_json(msg=str(exc), changed=client.stats['writes'] > 0, **_safe_details(exc.details))
    except topology.TopologyError as exc:
        module.fail_json(msg=str(exc), changed=client.stats['writes'] > 0)
    except Exception as exc:  # pylint: disable=broad-except
        # Never a bare traceback in the task result: a message, the trace only with -vvv.
        module.fail_json(msg='unexpected error talking to %s: %s: %s' % (client.where, type(exc).__name__, exc),
                         exception=traceback.format_exc())
    result.setdefault('api_stats', dict(client.stats))
    module.exit_json(**result)


# States that work without a connection.
OFFLINE_STATES = ('rendered', 'parsed')


def run_state(module, render, parse, work):
    """rendered and parsed work offline; every other state runs work(client)."""
    state = module.params['state']
    if state == 'rendered':
        module.exit_json(changed=False, rendered=render())
    if state == 'parsed':
        module.exit_json(changed=False, parsed=parse(module.params['running_config']))
    run(module, work)


def parse_saved_answer(module, text, entity_name):
    """The canonical objects of one entity in a saved API answer (JSON or XML), or a clean failure."""
    try:
        return envelope.decode(text.encode('utf-8')).entities(entity_name)
    except envelope.EnvelopeError as exc:
        module.fail_json(msg='running_config is not a saved Management API answer: %s' % exc)
    except schema.SchemaValueError as exc:
        module.fail_json(msg='running_config holds a value of the wrong type: %s' % exc)
    return []  # not reached: fail_json exits


def _safe_details(details):
    return dict((key, value) for key, value in (details or {}).items() if key in ('errors', 'http_status'))
