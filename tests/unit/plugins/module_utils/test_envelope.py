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


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _texts,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3), max_leaves=12)
_keys = st.sampled_from(['response', '@status', 'data', 'ws_object', '@error_node', 'error', 'error_code', 'reboot', '@type',
                         '@totalRecords', 'IPRoute', 'USER', 'SMAError', 'ModifiedEntities', 'REBOOT', '#text'])
# JSON in the envelope's own vocabulary, so the generated bodies reach deep into decode().
_envelope_like = st.recursive(st.none() | st.sampled_from(['', '0', '1', 'true', '461:SessionTimeout']) | st.integers(-2, 2),
                              lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4), max_leaves=20)


def _decodes_or_refuses(body):
    """decode() gives an Answer or raises EnvelopeError; anything else escapes as a test failure."""
    try:
        answer = envelope.decode(body, 200)
    except envelope.EnvelopeError as exc:
        assert 'HTTP 200' in str(exc) and len(exc.excerpt) <= 200
        return None
    assert answer.status in ('0', '1') and answer.ok == (answer.status == '1' and not answer.errors)
    assert answer.ok or answer.errors  # a failed answer always says why
    return answer


@RELAXED
@given(_json)
def test_property_any_json_decodes_or_raises_envelope_error(value):
    _decodes_or_refuses(json.dumps(value).encode())


@RELAXED
@given(_envelope_like)
def test_property_envelope_shaped_json_decodes_or_raises_envelope_error(value):
    _decodes_or_refuses(json.dumps({'response': value}).encode())
    _decodes_or_refuses(json.dumps({'response': {'@status': '1', 'data': value}}).encode())
    _decodes_or_refuses(json.dumps({'response': {'@status': '0', 'data': {'ws_object': value}}}).encode())


_codes = st.one_of(st.integers(1, 9999).map(str), st.just('461:SessionTimeout'))


@RELAXED
@given(st.lists(_codes, min_size=1, max_size=4), st.booleans())
def test_property_every_error_is_collected_in_order_one_or_several(codes, as_xml):
    errors = [{'error_code': code, 'error_desc': 'd%d' % i} for i, code in enumerate(codes)]
    node = errors[0] if len(errors) == 1 else errors
    if as_xml:
        body = ('<response status="0"><data><ws_object error_node="true"><USER>%s</USER></ws_object></data></response>'
                % ''.join('<error><error_code>%s</error_code><error_desc>%s</error_desc></error>' % (e['error_code'], e['error_desc'])
                          for e in errors)).encode()
    else:
        body = json.dumps({'response': {'@status': '0', 'data': {'ws_object': {'@error_node': 'true', 'USER': {'error': node}}}}}).encode()
    answer = envelope.decode(body, 200)
    assert not answer.ok and [e.code for e in answer.errors] == codes
    # 461 is the session timeout with or without its name (envelope.Error.is_session_timeout).
    assert answer.is_session_timeout == any(code.split(':', 1)[0] == '461' for code in codes)


_word = st.text(alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-', min_size=1, max_size=12)
_device_objects = st.fixed_dictionaries({'@GUID': st.text(alphabet='0123456789ABCDEF', min_size=32, max_size=32)},
                                        optional={'Name': _word, 'Comment': _word, 'Group': _word})


@RELAXED
@given(st.lists(_device_objects, min_size=1, max_size=4))
def test_property_xml_and_json_forms_of_one_answer_decode_alike(objects):
    items = [{'Thing': obj} for obj in objects]
    as_json = json.dumps({'response': {'@status': '1', 'data': {'ws_object': items[0] if len(items) == 1 else items}}}).encode()
    as_xml = ('<response status="1"><data>%s</data></response>' % ''.join(
        '<ws_object><Thing GUID="%s">%s</Thing></ws_object>' % (obj['@GUID'], ''.join(
            '<%s>%s</%s>' % (key, value, key) for key, value in obj.items() if key != '@GUID')) for obj in objects)).encode()
    assert envelope.decode(as_json).objects == envelope.decode(as_xml).objects == [('Thing', obj) for obj in objects]


@RELAXED
@given(st.text(max_size=300))
def test_property_any_text_decodes_or_raises_envelope_error(text):
    _decodes_or_refuses(text.encode('utf-8'))
    _decodes_or_refuses('<' + text)
