# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The builder of the check modules: the result it assembles, how messages name options, and main() run through
AnsibleModule with real module arguments (bad input, validate_only, a whole run)."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ipoffice.subscription.plugins.module_utils import check_module, checks, validators


def _main(args, check_input, run_checks, capsys, **options):
    """Run check_module.run as a module's main() would -> (exit code, the JSON result)."""
    spec = dict(port=dict(type='int', default=53), timeout=check_module.timeout_option())
    spec.update(options)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            check_module.run(spec, check_input, run_checks)
    return caught.value.code, json.loads(capsys.readouterr().out)


def _check_input(params, name=check_module.own_names):
    return check_module.problems(validators.check_port(name('port'), params['port']),
                                 validators.check_timeout(name('timeout'), params['timeout']))


class Recorder(object):
    def __init__(self):
        self.calls = []

    def __call__(self, params):
        self.calls.append(dict(params))
        result = checks.result('demo.port', checks.PASS, measured=params['port'])
        return check_module.run_result([result], 'demo', 1.5, port=params['port'])


def test_problems_keeps_only_real_problems_in_their_order():
    assert check_module.problems(None, 'b', '', 'a', None) == ['b', 'a']


def test_naming_uses_the_given_names_and_keeps_the_others():
    name = check_module.naming({'port': 'validate_dns_port'})
    assert name('port') == 'validate_dns_port' and name('timeout') == 'timeout'
    assert check_module.naming(None)('port') == 'port' and check_module.own_names('port') == 'port'


def test_the_timeout_limit_is_validators_one():
    assert validators.check_timeout('timeout', validators.MAX_CHECK_TIMEOUT) is None
    assert validators.check_timeout('t', validators.MAX_CHECK_TIMEOUT + 0.5) == 't must be more than 0 and at most 60: got 60.5'
    assert validators.check_timeout('t', 0) == 't must be more than 0 and at most 60: got 0'


def test_run_result_adds_the_checks_up_after_the_modules_facts():
    failing = checks.result('demo.b', checks.FAIL, hint='fix b')
    outcome = check_module.run_result([checks.result('demo.a', checks.PASS), failing], 'demo', 12.5, address='192.0.2.1',
                                      msg='overwritten')
    assert outcome['changed'] is False and outcome['address'] == '192.0.2.1' and outcome['duration_ms'] == 12.5
    assert [item['check'] for item in outcome['checks']] == ['demo.a', 'demo.b']
    assert outcome['failed'] is True and outcome['passed'] is False and outcome['failed_checks'] == ['demo.b']
    assert outcome['msg'] == 'failed: demo.b (fix b)' and outcome['counts'] == {'pass': 1, 'fail': 1, 'not_measured': 0}


def test_bad_options_fail_before_the_checks_run_naming_every_option(capsys):
    run_checks = Recorder()
    code, result = _main({'port': 0, 'timeout': 61}, _check_input, run_checks, capsys)
    assert code == 1 and result['failed'] is True and run_checks.calls == []
    assert result['msg'] == ('port must be a TCP port from 1 to 65535: got 0; '
                             'timeout must be more than 0 and at most 60: got 61.0')


def test_bad_options_are_named_as_the_caller_names_them(capsys):
    code, result = _main({'port': 70000, 'timeout': 3, 'validate_only': True,
                          'option_names': {'port': 'validate_dns_port'}}, _check_input, Recorder(), capsys)
    assert code == 1 and result['msg'] == 'validate_dns_port must be a TCP port from 1 to 65535: got 70000'


def test_validate_only_returns_after_the_input_check_without_running_anything(capsys):
    run_checks = Recorder()
    code, result = _main({'port': 53, 'validate_only': True}, _check_input, run_checks, capsys)
    assert code == 0 and run_checks.calls == []
    assert result['changed'] is False and result['msg'] == check_module.VALIDATED and 'checks' not in result


def test_good_options_run_the_checks_once_and_return_their_result(capsys):
    run_checks = Recorder()
    code, result = _main({'port': 5353}, _check_input, run_checks, capsys)
    assert code == 0 and len(run_checks.calls) == 1 and run_checks.calls[0]['port'] == 5353
    assert run_checks.calls[0]['validate_only'] is False and run_checks.calls[0]['option_names'] == {}
    assert result['passed'] is True and result['port'] == 5353 and result['msg'] == 'no demo check failed (1 checks)'


class Preparer(object):
    """A prepare step that records its calls and hands back what it loaded, or a problem naming its option."""

    def __init__(self, problem=None):
        self.calls = 0
        self.problem = problem

    def __call__(self, params, name):
        self.calls += 1
        if self.problem:
            return None, '%s %s' % (name('ca_path'), self.problem)
        return 'the loaded context', None


class PreparedRecorder(Recorder):
    def __call__(self, params, prepared=None):
        self.calls.append((dict(params), prepared))
        return check_module.run_result([checks.result('demo.port', checks.PASS)], 'demo', 1.5)


def _main_prepared(args, preparer, run_checks, capsys):
    spec = dict(port=dict(type='int', default=53), timeout=check_module.timeout_option(), ca_path=dict(type='path'))
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            check_module.run(spec, _check_input, run_checks, prepare=preparer)
    return caught.value.code, json.loads(capsys.readouterr().out)


def test_prepare_runs_once_and_hands_what_it_loaded_to_the_checks(capsys):
    preparer, run_checks = Preparer(), PreparedRecorder()
    code, result = _main_prepared({'port': 5353}, preparer, run_checks, capsys)
    assert code == 0 and result['passed'] is True
    assert preparer.calls == 1 and len(run_checks.calls) == 1 and run_checks.calls[0][1] == 'the loaded context'


def test_prepare_runs_with_validate_only_and_its_problem_fails_naming_the_option(capsys):
    preparer, run_checks = Preparer('is not a PEM file'), PreparedRecorder()
    code, result = _main_prepared({'validate_only': True, 'option_names': {'ca_path': 'validate_com_ca_path'}}, preparer, run_checks,
                                  capsys)
    assert code == 1 and result['msg'] == 'validate_com_ca_path is not a PEM file'
    assert preparer.calls == 1 and run_checks.calls == []
    preparer = Preparer()
    code, result = _main_prepared({'validate_only': True}, preparer, run_checks, capsys)
    assert code == 0 and result['msg'] == check_module.VALIDATED and preparer.calls == 1 and run_checks.calls == []


def test_prepare_does_not_run_after_bad_options(capsys):
    preparer, run_checks = Preparer(), PreparedRecorder()
    code, result = _main_prepared({'port': 0}, preparer, run_checks, capsys)
    assert code == 1 and result['msg'].startswith('port must be') and preparer.calls == 0 and run_checks.calls == []
