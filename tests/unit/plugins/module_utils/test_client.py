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


@pytest.mark.parametrize('status', [500, 502, 504])
def test_5xx_on_a_write_is_not_retried_and_its_outcome_is_unknown(status):
    # The device may have failed after applying it: only a read can tell.
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (status, _headers(), b'oops')])
    with pytest.raises(api.WriteOutcomeUnknown) as err:
        c.call('PUT', 'iproutes', objects=[('IPRoute', {'@GUID': 'A'})])
    assert err.value.what == 'PUT iproutes was sent, then 192.0.2.1:7070 answered HTTP %d' % status
    assert sleeps == [] and len(script.calls) == 2 and c.stats['writes'] == 0


def test_503_on_a_write_is_retried_because_it_was_not_applied():
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (503, _headers(Retry_After='1'), b'busy'),
                              (200, _headers(), b'{"response":{"@status":"1","data":{"ws_object":""}}}')])
    c.call('PUT', 'iproutes', objects=[('IPRoute', {'@GUID': 'A'})])
    assert sleeps == [1] and len(script.calls) == 3 and c.stats['writes'] == 1


def test_lost_answer_to_a_write_is_reported_as_unknown_outcome():
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), ConnectionResetError(104, 'reset')])
    with pytest.raises(api.WriteOutcomeUnknown, match='may or may not have been applied') as err:
        c.call('PUT', 'iproutes', objects=[('IPRoute', {'@GUID': 'A'})])
    assert err.value.what.startswith('PUT iproutes was sent, then connection to 192.0.2.1:7070 lost')
    assert sleeps == []


def test_tls_connection_cut_while_awaiting_the_answer_to_a_write_is_an_unknown_outcome():
    # A TLS error after the request went out is a lost answer, not a failed handshake.
    import ssl
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), ssl.SSLEOFError(8, 'EOF occurred in violation of protocol')])
    with pytest.raises(api.WriteOutcomeUnknown, match='lost'):
        c.call('PUT', 'iproutes', objects=[('IPRoute', {'@GUID': 'A'})])


def test_no_answer_to_a_write_in_time_is_an_unknown_outcome_not_a_retry():
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), socket.timeout('timed out')], retries=3)
    with pytest.raises(api.WriteOutcomeUnknown) as err:
        c.call('POST', 'iproutes', objects=[('IPRoute', {'IPAddress': '10.1.0.0'})])
    assert err.value.what == 'POST iproutes was sent, then no answer from 192.0.2.1:7070 within 30 s'
    assert sleeps == [] and len(script.calls) == 2


def test_write_refused_for_an_expired_session_is_sent_again_after_one_login():
    # 461 means the device refused the write: surely not applied, so sending it again is safe.
    c, script, dummy_sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN), (200, _headers(), TIMEOUT_461), (200, LOGIN_HEADERS, OK_LOGIN),
                                    (200, _headers(), b'{"response":{"@status":"1","data":{"ws_object":""}}}')])
    c.call('PUT', 'iproutes', objects=[('IPRoute', {'@GUID': 'A'})])
    assert [call[:2] for call in script.calls] == [('GET', 'authenticate'), ('PUT', 'iproutes'), ('GET', 'authenticate'), ('PUT', 'iproutes')]
    assert c.stats['writes'] == 1


def test_5xx_on_a_read_beyond_the_retries_says_how_many_attempts():
    c, script, sleeps = make([(200, LOGIN_HEADERS, OK_LOGIN)] + [(500, _headers(), b'x')] * 3, retries=2)
    with pytest.raises(api.IPOfficeError, match=r'HTTP 500 \(after 3 attempts\)'):
        c.get('IPRoute')
    assert sleeps == [0.5, 1.0]


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
