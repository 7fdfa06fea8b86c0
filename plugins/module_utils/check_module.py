# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one builder of the check modules (dns_check, port_check, tls_check, time_check, link_quality_check): the
options every check has, the input check before anything is sent, the offline-only run the roles use to check their
settings, and the result a check module returns.

A module gives its own options, a check_input(params, name) that lists the problems with its options (each message
naming the option as name(option) gives it), and a run_checks(params) that measures and returns run_result(...).
A module that must load something before it measures (the TLS context of tls_check and link_quality_check) gives a
prepare(params, name) too: it runs once, after a clean input check (with validate_only as well), and what it
prepared is run_checks' second argument.
Standard library and ansible.module_utils only: the check modules run on probe hosts that have Python 3 and nothing
else.
"""

from __future__ import annotations

import time

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, in_worker

# The options of every check module; their documentation is the doc fragment ipoffice.subscription.check_module.
COMMON_OPTIONS = dict(
    validate_only=dict(type='bool', default=False),
    option_names=dict(type='dict', default={}),
)

VALIDATED = 'the options are valid; nothing was sent (validate_only)'


def timeout_option(default=3):
    """The timeout option every check has: seconds (validators.check_timeout holds it to its limits)."""
    return dict(type='float', default=default)


def naming(option_names=None):
    """name(option) -> how a message names the option: its name in option_names (a role variable), else its own."""
    names = dict(option_names or {})
    return lambda option: names.get(option) or option


def own_names(option):
    """The naming of a module's own messages: every option by its own name."""
    return option


def problems(*found):
    """The problems among found, in their order; None and '' are no problem."""
    return [problem for problem in found if problem]


def elapsed_ms(started):
    """Milliseconds since started (a time.monotonic() reading), to 0.1 ms."""
    return round((time.monotonic() - started) * 1000.0, 1)


def run_result(results, kind, duration_ms, **facts):
    """What a check module returns: its facts, the results in the collection's check format, how long it took, and
    the summary of checks.module_outcome (passed, failed, failed_checks, not_measured, counts, msg)."""
    outcome = dict(changed=False)
    outcome.update(facts)
    outcome.update(checks=results, duration_ms=duration_ms)
    outcome.update(checks.module_outcome(results, kind))
    return outcome


def run(options, check_input, run_checks, prepare=None, **module_args):
    """main() of a check module: parse the options, fail naming every bad one before anything is sent, return after
    the input check (and prepare) when validate_only is set, else run the checks and return their result.

    prepare(params, name) -> (prepared, problem): loaded once; a problem fails the task like a bad option."""
    spec = dict(options)
    spec.update(COMMON_OPTIONS)
    module = in_worker.module_class()(argument_spec=spec, supports_check_mode=True, **module_args)
    name = naming(module.params['option_names'])
    found = problems(*check_input(module.params, name))
    prepared = None
    if not found and prepare is not None:
        prepared, problem = prepare(module.params, name)
        found = problems(problem)
    if found:
        module.fail_json(msg='; '.join(found))
    if module.params['validate_only']:
        module.exit_json(changed=False, msg=VALIDATED)
    if prepare is None:
        module.exit_json(**run_checks(module.params))
    module.exit_json(**run_checks(module.params, prepared))
