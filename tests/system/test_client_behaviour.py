# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client's promises, proven over real HTTPS against the lab: sessions,
lockout safety, TLS verification, retries, timeouts and bad input."""

from __future__ import annotations


import pytest

from conftest import API_PASSWORD, SE_PRIMARY, SINGLE_APP_SERVER, connection


def _info(lab, host, **extra):
    return {'name': 'gather', 'ipoffice.subscription.system_info': dict(connection(lab, host, **extra), gather_subset=['system']),
            'register': 'info', 'ignore_errors': True}


def _api_client(lab, **extra):
    from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
    args = dict(host=SE_PRIMARY, username='apiadmin', password=API_PASSWORD, ca_path=lab.ca_path, timeout=10)
    args.update(extra)
    return api.Client(**args)


def test_login_sets_both_cookies_and_every_call_sends_them(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    info = run_playbook([_info(fresh_lab, SE_PRIMARY)], capture=['info']).results['info']
    assert not info.get('failed'), info.get('msg')
    log = fresh_lab.requests(start)
    # The lab answers 401 to any call missing JSESSIONID or SDK-Token: these 200s prove both went back.
    assert [(r['resource'], r['http_status']) for r in log if r['method'] == 'GET'] == [('authenticate', 200), ('systems', 200)]
    assert all(r['user'] == 'apiadmin' for r in log if r['resource'] == 'systems')


@pytest.mark.parametrize('mode', [200, 461])
def test_expired_session_is_renewed_once_and_the_call_succeeds(fresh_lab, mode):
    fresh_lab.faults(SE_PRIMARY, session_timeout_http=mode)
    client = _api_client(fresh_lab)
    client.login()
    fresh_lab.faults(SE_PRIMARY, expire_sessions=True)
    start = fresh_lab.last_seq()
    systems = client.get('System')
    assert len(systems) == 3
    log = [(r['resource'], r['http_status']) for r in fresh_lab.requests(start)]
    assert log == [('systems', mode), ('authenticate', 200), ('systems', 200)]
    assert client.stats['relogins'] == 1
    client.logout()


def test_wrong_password_fails_at_once_and_is_not_retried(fresh_lab, run_playbook):
    start = fresh_lab.last_seq()
    run = run_playbook([_info(fresh_lab, SE_PRIMARY, password='Wrong-Passw0rd', retries=5)], capture=['info'])
    info = run.results['info']
    assert info['failed'] and 'rejected the user name or password' in info['msg']
    attempts = [r for r in fresh_lab.requests(start) if r['resource'] == 'authenticate']
    assert len(attempts) == 1
    assert 'Wrong-Passw0rd' not in run.output


def test_user_without_management_api_rights_is_told_why(fresh_lab, run_playbook):
    info = run_playbook([_info(fresh_lab, SE_PRIMARY, username='norights', password='Lab-None-Passw0rd')],
                        capture=['info']).results['info']
    assert info['failed'] and 'Management API Group' in info['msg']


def test_certificate_from_another_ca_is_refused(fresh_lab, run_playbook):
    fresh_lab.faults(SINGLE_APP_SERVER, cert='rogue')
    start = fresh_lab.last_seq()
    info = run_playbook([_info(fresh_lab, SINGLE_APP_SERVER, retries=3)], capture=['info']).results['info']
    assert info['failed'] and 'could not be verified' in info['msg'] and 'ca_path' in info['msg']
    # Refused during the handshake: no request reached the API, and no retries.
    assert fresh_lab.requests(start) == []


def test_turning_verification_off_accepts_it_with_a_warning(fresh_lab, run_playbook):
    fresh_lab.faults(SINGLE_APP_SERVER, cert='rogue')
    run = run_playbook([_info(fresh_lab, SINGLE_APP_SERVER, validate_certs=False, ca_path=None)], capture=['info'])
    info = run.results['info']
    assert not info.get('failed'), info.get('msg')
    assert any('validate_certs is false' in w for w in info.get('warnings', []))


def test_server_errors_are_retried_a_bounded_number_of_times(fresh_lab, run_playbook):
    fresh_lab.faults(SE_PRIMARY, http_500_count=2)
    info = run_playbook([_info(fresh_lab, SE_PRIMARY, retries=3)], capture=['info']).results['info']
    assert not info.get('failed'), info.get('msg')
    assert info['api_stats']['retries'] == 2

    fresh_lab.reset()
    fresh_lab.faults(SE_PRIMARY, http_500_count=50)
    start = fresh_lab.last_seq()
    info = run_playbook([_info(fresh_lab, SE_PRIMARY, retries=2)], capture=['info']).results['info']
    assert info['failed'] and 'HTTP 500' in info['msg']
    assert len(fresh_lab.requests(start)) == 3  # one try and two retries, then it stops


def test_503_retry_after_is_honoured(fresh_lab, run_playbook):
    fresh_lab.faults(SE_PRIMARY, http_503_count=1, retry_after=1)
    info = run_playbook([_info(fresh_lab, SE_PRIMARY, retries=1)], capture=['info']).results['info']
    assert not info.get('failed'), info.get('msg')
    assert info['api_stats']['retries'] == 1


def test_unreachable_host_fails_naming_host_and_port(fresh_lab, run_playbook):
    # Nothing listens on this loopback address: refused at once, retried, then a message.
    info = run_playbook([_info(fresh_lab, '127.0.0.77', retries=1)], capture=['info']).results['info']
    assert info['failed'] and '127.0.0.77:7070' in info['msg'] and 'after 2 attempts' in info['msg']


def test_silent_host_fails_within_the_timeout(fresh_lab, run_playbook):
    fresh_lab.faults(SE_PRIMARY, delay_seconds=60)
    start = fresh_lab.last_seq()
    info = run_playbook([_info(fresh_lab, SE_PRIMARY, timeout=2, retries=0)], capture=['info']).results['info']
    assert info['failed'] and 'no answer from %s:7070 within 2 s' % SE_PRIMARY in info['msg']
    # By order, not a stopwatch: the lab logs a delayed request only when it answers it, and its log holds nothing
    # yet, so the client gave up before the server answered.
    assert fresh_lab.requests(start) == []


@pytest.mark.parametrize('change, fragment', [
    ({'host': ''}, 'host'),
    ({'port': 70000}, 'port must be a TCP port from 1 to 65535: got 70000'),
    ({'ca_path': '/nonexistent/lab-ca.pem'}, "ca_path must name a readable file: '/nonexistent/lab-ca.pem'"),
    ({'password': ''}, 'password is required'),
    ({'timeout': 0}, 'timeout must be more than 0'),
])
def test_bad_connection_input_fails_before_any_request(fresh_lab, run_playbook, change, fragment):
    start = fresh_lab.last_seq()
    task = _info(fresh_lab, SE_PRIMARY)
    task['ipoffice.subscription.system_info'].update(change)
    info = run_playbook([task], capture=['info']).results['info']
    assert info['failed'] and fragment in info['msg'], info['msg']
    assert fresh_lab.requests(start) == []
