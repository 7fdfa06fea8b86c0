# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every API module does around its own work: build the AnsibleModule
from the shared connection spec, reject bad input before any request, warn
when TLS checking is off, and report client errors as plain messages."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
from ansible_collections.ipoffice.subscription.plugins.module_utils import envelope, schema, topology, validators


class ModuleInputError(api.IPOfficeError):
    """The task cannot go on as asked (wrong node, input the device refutes)."""


def build_module(argument_spec=None, needs_connection=None, **kwargs):
    """needs_connection(params) -> bool: False for offline states (rendered, parsed)."""
    spec = api.connection_argument_spec()
    spec.update(argument_spec or {})
    module = AnsibleModule(argument_spec=spec, **kwargs)
    if not validators.HAS_NETADDR:
        module.fail_json(msg=missing_required_lib('netaddr'), exception=str(validators.NETADDR_IMPORT_ERROR))
    if needs_connection is not None and not needs_connection(module.params):
        return module
    problems = api.check_connection_params(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    if not module.params['validate_certs']:
        module.warn('validate_certs is false: the TLS certificate of %s is not checked, so the password could go to '
                    'an impostor. Give the issuing CA in ca_path instead.' % module.params['host'])
    return module


def run(module, work):
    """Run work(client) with a logged-in client; fail cleanly on any client error."""
    client = api.Client.from_params(module.params)
    try:
        with client:
            result = work(client)
    except api.IPOfficeError as exc:
        module.fail_json(msg=str(exc), **_safe_details(exc.details))
    except topology.TopologyError as exc:
        module.fail_json(msg=str(exc))
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
