# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

# These machines are noisy: judge the property, not the speed of generating examples.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

from ansible_collections.ipoffice.subscription.plugins.module_utils import envelope

# Shapes taken from the guide's examples (reference/management-api.md §2).
LOGIN_OK = b'{"response":{"@status":"1","data":{"ws_object":""}}}'
SESSION_TIMEOUT = (b'{"response":{"@status":"0","data":{"ws_object":{"@error_node":"true","SMAError":{"error":'
                   b'{"error_code":"461:SessionTimeout","error_desc":"10.0.0.1","errorLocation":"10.0.0.1"}}}}}}')
GUID_MISSING = (b'{"response":{"@status":"0","data":{"ws_object":[{"@error_node":"true","USER":{"error":['
                b'{"error_code":"15","error_desc":"GUID missing in body","cause":"0","cause_data":"","errorLocation":"10.0.0.1"},'
                b'{"error_code":"9020","error_desc":"exists","cause":"0","cause_data":"bob","errorLocation":"10.0.0.1"}]}},'
                b'{"@error_node":"true","REBOOT":{"error":{"errorLocation":"10.0.0.1"}}}]}}}')


def test_login_answer_has_no_objects():
    answer = envelope.decode(LOGIN_OK, 200)
    assert answer.ok and answer.objects == [] and answer.errors == []


def test_one_object_and_several_objects_decode_alike():
    one = {'response': {'@status': '1', 'data': {'@totalRecords': '1', 'ws_object': {'IPRoute': {'@GUID': 'A', 'Metric': '1'}}}}}
    two = {'response': {'@status': '1', 'data': {'@totalRecords': '2', 'ws_object': [
        {'IPRoute': {'@GUID': 'A', 'Metric': '1'}}, {'IPRoute': {'-GUID': 'B', 'Metric': 2}}]}}}
    assert envelope.decode(json.dumps(one).encode()).entities('IPRoute') == [{'@GUID': 'A', 'Metric': 1}]
    answer = envelope.decode(json.dumps(two).encode())
    assert answer.total == 2
    assert answer.entities('IPRoute') == [{'@GUID': 'A', 'Metric': 1}, {'@GUID': 'B', 'Metric': 2}]


def test_session_timeout_is_recognised():
    answer = envelope.decode(SESSION_TIMEOUT, 200)
    assert not answer.ok and answer.is_session_timeout
    assert answer.errors[0].entity == 'SMAError'


def test_error_nodes_are_all_collected_and_reboot_block_is_not_an_error():
    answer = envelope.decode(GUID_MISSING, 200)
    assert [e.code for e in answer.errors] == ['15', '9020']
    assert 'GUID missing in body' in str(answer.errors[0])
    assert answer.errors[1].cause_data == 'bob'
    assert not answer.is_session_timeout


def test_write_answer_reports_reboot_type_and_created_guid():
    body = {'response': {'@status': '1', 'data': {'ws_object': [
        {'IPRoute': {'@GUID': 'ABC'}}, {'ModifiedEntities': ''}, {'reboot': {'@type': 'required'}}]}}}
    answer = envelope.decode(json.dumps(body).encode())
    assert answer.reboot == 'required'
    assert answer.objects == [('IPRoute', {'@GUID': 'ABC'})]


def test_xml_answer_is_converted_mechanically():
    xml = (b'<response status="1"><data totalRecords="2"><ws_object><License GUID="G1"><Status>1</Status></License></ws_object>'
           b'<ws_object><License GUID="G2"><Status>2</Status><IsGrace>true</IsGrace></License></ws_object></data></response>')
    licences = envelope.decode(xml).entities('License')
    assert licences == [{'@GUID': 'G1', 'Status': 1}, {'@GUID': 'G2', 'Status': 2, 'IsGrace': True}]


def test_json_labelled_as_anything_is_parsed_by_content():
    assert envelope.parse_body(b'  ' + LOGIN_OK)['response']['@status'] == '1'


@pytest.mark.parametrize('body, fragment', [
    (b'<html><body>Service Unavailable</body>', 'not valid XML'),
    (b'Internal error', 'neither JSON nor XML'),
    (b'{"result": 1}', 'no "response"'),
    (b'{"response": {"@status": "2"}}', 'status is'),
    (b'{"response": ', 'not valid JSON'),
])
def test_unexpected_answers_raise_a_clear_error_with_an_excerpt(body, fragment):
    with pytest.raises(envelope.EnvelopeError) as err:
        envelope.decode(body, 200)
    assert fragment in str(err.value)
    assert 'HTTP 200' in str(err.value)
    assert repr(body.decode().strip()[:12])[1:-1] in str(err.value)


def test_status_zero_without_error_node_is_still_a_failure():
    answer = envelope.decode(b'{"response":{"@status":"0","data":""}}')
    assert not answer.ok and len(answer.errors) == 1


def test_encode_wraps_one_object_and_lists_several():
    one = json.loads(envelope.encode([('IPRoute', {'@GUID': 'A'})]))
    assert one == {'data': {'ws_object': {'IPRoute': {'@GUID': 'A'}}}}
    two = json.loads(envelope.encode([('IPRoute', {'@GUID': 'A'}), ('IPRoute', {'@GUID': 'B'})]))
    assert two['data']['ws_object'] == [{'IPRoute': {'@GUID': 'A'}}, {'IPRoute': {'@GUID': 'B'}}]


_texts = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), max_size=20)
_routes = st.fixed_dictionaries({
    '@GUID': st.text(alphabet='0123456789ABCDEF', min_size=32, max_size=32),
    'IPAddress': _texts, 'Destination': st.sampled_from(['LAN1', 'LAN2']),
    'Metric': st.integers(0, 255).map(str),
}, optional={'UnknownField': _texts})


@RELAXED
@given(st.lists(_routes, min_size=1, max_size=5))
def test_property_encode_then_decode_returns_the_same_objects(routes):
    body = envelope.encode([('IPRoute', r) for r in routes])
    sent = json.loads(body)['data']
    answer = envelope.decode(json.dumps({'response': {'@status': '1', 'data': sent}}).encode())
    assert [obj for _name, obj in answer.objects] == routes


@RELAXED
@given(st.binary(max_size=200))
def test_property_any_bytes_either_decode_or_raise_envelope_error(body):
    try:
        envelope.decode(body, 200)
    except envelope.EnvelopeError:
        pass
