# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client's decisions (retry, re-login, no retry on a bad password) with the
exact exchanges it makes listed, hrobot style. Real sockets: tests/system/."""

from __future__ import annotations

import email.message
import socket

from urllib.error import URLError

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api

OK_LOGIN = b'{"response":{"@status":"1","data":{"ws_object":""}}}'
ROUTES = b'{"response":{"@status":"1","data":{"ws_object":{"IPRoute":{"@GUID":"A","Metric":"0"}}}}}'
TIMEOUT_461 = (b'{"response":{"@status":"0","data":{"ws_object":{"@error_node":"true","SMAError":{"error":'
               b'{"error_code":"461:SessionTimeout","error_desc":"ip","errorLocation":"ip"}}}}}}')


def _headers(**values):
    msg = email.message.Message()
    for key, value in values.items():
        msg[key.replace('_', '-')] = value
    return msg


LOGIN_HEADERS = _headers(Set_Cookie='JSESSIONID=abc; Path=/WebManagement/; Secure; HttpOnly')


class Script(object):
    """Plays answers in order and records each exchange."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, client):
        def exchange(method, path, body=None, auth=False):
            self.calls.append((method, path.split('?')[0].rsplit('/', 1)[-1], auth, dict(client._cookies)))
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            status, headers, payload = answer
            sent = api._Sent(status, headers, payload)
            client._remember_cookies(headers)
            return sent
        return exchange


def make(answers, retries=2):
    sleeps = []
    c = api.Client('192.0.2.1', 'apiadmin', 'pw', retries=retries, sleep=sleeps.append)
    script = Script(answers)
    c._exchange = script(c)
    return c, script, sleeps


def test_login_cookie_is_sent_on_later_calls():
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), ROUTES)])
    assert c.get('IPRoute') == [{'@GUID': 'A', 'Metric': 0}]
    assert script.calls == [('GET', 'authenticate', True, {}), ('GET', 'iproutes', False, {'JSESSIONID': 'abc'})]


def test_session_timeout_relogs_once_and_retries_once():
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), TIMEOUT_461),
                                    (200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), ROUTES)])
    assert c.get('IPRoute')
    assert [call[:2] for call in script.calls] == [('GET', 'authenticate'), ('GET', 'iproutes'),
                                                   ('GET', 'authenticate'), ('GET', 'iproutes')]
    assert c.stats['relogins'] == 1


def test_http_461_is_the_same_as_smaerror_461():
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (461, _headers(), TIMEOUT_461),
                                    (200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), ROUTES)])
    assert c.get('IPRoute')
    assert len(script.calls) == 4


def test_a_second_session_timeout_is_an_error_not_a_loop():
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), TIMEOUT_461),
                                    (200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), TIMEOUT_461)])
    with pytest.raises(api.IPOfficeError, match='expired again'):
        c.get('IPRoute')
    assert len(script.calls) == 4


def test_rejected_password_is_never_retried():
    c, script, sleeps = make([(401, _headers(), b'')], retries=5)
    with pytest.raises(api.AuthenticationError) as err:
        c.get('IPRoute')
    assert 'rejected the user name or password' in str(err.value) and 'Not retried' in str(err.value)
    assert len(script.calls) == 1 and sleeps == []
    assert 'pw' not in str(err.value)


def test_503_honours_retry_after_and_is_bounded():
    busy = (503, _headers(Retry_After='4'), b'busy')
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), busy, busy, busy], retries=2)
    with pytest.raises(api.IPOfficeError, match='HTTP 503'):
        c.get('IPRoute')
    assert sleeps == [4, 4]
    assert len(script.calls) == 4


def test_500_on_a_read_is_retried_with_backoff():
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (500, _headers(), b'x'), (200, _headers(), ROUTES)])
    assert c.get('IPRoute')
    assert sleeps == [0.5]


def test_500_on_a_write_is_not_retried():
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (500, _headers(), b'oops')])
    with pytest.raises(api.IPOfficeError, match='HTTP 500'):
        c.call('PUT', 'iproutes', objects=[('IPRoute', {'@GUID': 'A'})])
    assert sleeps == [] and len(script.calls) == 2


def test_lost_answer_to_a_write_is_reported_as_unknown_outcome():
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), ConnectionResetError(104, 'reset')])
    with pytest.raises(api.WriteOutcomeUnknown, match='may or may not have been applied'):
        c.call('PUT', 'iproutes', objects=[('IPRoute', {'@GUID': 'A'})])
    assert sleeps == []


def test_refused_connection_is_retried_then_names_host_and_port():
    refused = URLError(ConnectionRefusedError(111, 'Connection refused'))
    c, script, sleeps = make([refused, refused, refused], retries=2)
    with pytest.raises(api.TransportError) as err:
        c.get('IPRoute')
    assert '192.0.2.1:7070' in str(err.value) and 'after 3 attempts' in str(err.value)
    assert sleeps == [0.5, 1.0]


def test_timeout_message_names_host_port_and_seconds():
    c, script, sleeps = make([URLError(socket.timeout('timed out'))], retries=0)
    with pytest.raises(api.TransportError, match=r'no answer from 192.0.2.1:7070 within 30 s'):
        c.get('IPRoute')


def test_non_envelope_answer_quotes_status_and_body():
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), b'<html>Tomcat error page</html>')])
    with pytest.raises(api.IPOfficeError) as err:
        c.get('IPRoute')
    assert 'HTTP 200' in str(err.value) and 'Tomcat error page' in str(err.value)


def test_status_zero_raises_api_error_with_the_nodes():
    body = (b'{"response":{"@status":"0","data":{"ws_object":{"@error_node":"true","IPROUTE":{"error":'
            b'{"error_code":"15","error_desc":"GUID missing in body","errorLocation":"ip"}}}}}}')
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), body)])
    with pytest.raises(api.ApiError) as err:
        c.call('PUT', 'iproutes', objects=[('IPRoute', {})])
    assert err.value.errors[0].code == '15'
    assert 'GUID missing in body' in str(err.value)


def test_logout_is_best_effort_and_accepts_405():
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), ROUTES), (405, _headers(Allow='GET'), b'')])
    with c:
        c.get('IPRoute')
    assert script.calls[-1][:2] == ('DELETE', 'authenticate')
    assert not c.logged_in


def test_retry_after_http_date_is_understood():
    c = api.Client('h', 'u', 'p')
    delay = c._retry_delay(0, api._Sent(503, _headers(Retry_After='Wed, 21 Oct 2015 07:28:00 GMT'), b''))
    assert delay == 0.0
