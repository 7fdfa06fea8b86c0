# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ws_object envelope codec of the IP Office Management API.

Answers look like {"response": {"@status": "1"|"0", "data": {...}}}; the JSON is
a mechanical conversion of XML, so one item comes as an object and several as
an array, attributes carry an '@' prefix, and a failure can arrive as HTTP 200
with status 0 and an error node. This module turns any of that into an
Answer, and builds request bodies. Per-field typing is schema.py's job.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ansible_collections.ipoffice.subscription.plugins.module_utils import schema

# ws_object children that describe the write, not an entity.
_CONTROL_NODES = ('ModifiedEntities', 'reboot', 'Warning', 'reference_list')
_EXCERPT = 200


class EnvelopeError(Exception):
    """The answer is not the envelope the API documents."""

    def __init__(self, message, http_status=None, body=b''):
        self.http_status = http_status
        self.excerpt = excerpt(body)
        super(EnvelopeError, self).__init__('%s (HTTP %s; body starts with: %r)' % (message, http_status, self.excerpt))


class ErrorNode:
    """One <error> of an error node."""

    FIELDS = ('error_code', 'error_desc', 'cause', 'cause_data', 'errorLocation')

    def __init__(self, entity, values):
        self.entity = entity
        self.code = _text(values.get('error_code'))
        self.desc = _text(values.get('error_desc'))
        self.cause = _text(values.get('cause'))
        self.cause_data = _text(values.get('cause_data'))
        self.location = _text(values.get('errorLocation'))

    @property
    def is_session_timeout(self):
        return self.code.split(':', 1)[0].strip() == '461'

    def as_dict(self):
        return {'entity': self.entity, 'error_code': self.code, 'error_desc': self.desc,
                'cause': self.cause, 'cause_data': self.cause_data, 'error_location': self.location}

    def __str__(self):
        text = '%s error %s' % (self.entity, self.code or '(no code)')
        details = [part for part in (self.desc, self.cause_data) if part]
        if details:
            text += ': ' + ', '.join(details)
        if self.location:
            text += ' at %s' % self.location
        return text


class Answer:
    """A decoded answer: status, entities (name, raw object), control nodes, errors."""

    def __init__(self, status, objects, errors, reboot=None, total=None, http_status=None):
        self.status = status
        self.objects = objects
        self.errors = errors
        self.reboot = reboot
        self.total = total
        self.http_status = http_status

    @property
    def ok(self):
        return self.status == '1' and not self.errors

    @property
    def is_session_timeout(self):
        return any(e.is_session_timeout for e in self.errors)

    def entities(self, name):
        """The canonical (schema-normalised) objects of one entity type."""
        wanted = schema.entity(name).name
        return [schema.normalise(wanted, obj) for ent, obj in self.objects if ent == wanted]

    def to_data(self):
        """A successful answer as plain data (JSON-able), for a persistent connection to share between tasks.

        Write-only fields (a password, which the guide says a GET leaves empty) are dropped all the same."""
        return {'objects': [[name, schema.without_write_only(name, obj)] for name, obj in self.objects],
                'reboot': self.reboot, 'total': self.total, 'http_status': self.http_status}

    @classmethod
    def from_data(cls, data):
        return cls('1', [tuple(item) for item in data['objects']], [], reboot=data.get('reboot'),
                   total=data.get('total'), http_status=data.get('http_status'))


def _text(value):
    if value is None:
        return ''
    if isinstance(value, dict):
        return _text(value.get('#text', ''))
    return str(value)


def excerpt(body):
    if isinstance(body, bytes):
        body = body.decode('utf-8', errors='replace')
    body = (body or '').strip()
    return body[:_EXCERPT]


as_list = schema.as_list


def xml_to_json(text):
    """Convert an XML answer mechanically, the way the device's JSON is made."""
    root = ET.fromstring(text)
    return {root.tag: _xml_node(root)}


def _xml_node(element):
    node = {}
    for key, value in element.attrib.items():
        node['@' + key] = value
    for child in element:
        value = _xml_node(child)
        if child.tag in node:
            if not isinstance(node[child.tag], list):
                node[child.tag] = [node[child.tag]]
            node[child.tag].append(value)
        else:
            node[child.tag] = value
    text = (element.text or '').strip()
    if not node:
        return text
    if text:
        node['#text'] = text
    return node


def parse_body(body, http_status=None):
    """Parse by content, not by label: some builds label JSON as application/xml."""
    if isinstance(body, bytes):
        text = body.decode('utf-8', errors='replace')
    else:
        text = body or ''
    stripped = text.lstrip()
    if stripped.startswith('{'):
        try:
            return json.loads(stripped)
        except ValueError as exc:
            raise EnvelopeError('the answer is not valid JSON: %s' % exc, http_status, body)
    if stripped.startswith('<'):
        try:
            return xml_to_json(stripped)
        except ET.ParseError as exc:
            raise EnvelopeError('the answer is not valid XML: %s' % exc, http_status, body)
    raise EnvelopeError('the answer is neither JSON nor XML', http_status, body)


def decode(body, http_status=None):
    """Bytes of an answer -> Answer. Raises EnvelopeError if it is not the envelope."""
    tree = parse_body(body, http_status)
    response = tree.get('response') if isinstance(tree, dict) else None
    if not isinstance(response, dict):
        raise EnvelopeError('the answer has no "response" element', http_status, body)
    status = _text(response.get('@status'))
    if status not in ('0', '1'):
        raise EnvelopeError('the answer\'s status is %r, not "1" or "0"' % status, http_status, body)
    data = response.get('data', '')
    if data == '':
        data = {}
    if not isinstance(data, dict):
        raise EnvelopeError('the answer\'s "data" is not an element', http_status, body)

    objects, errors, reboot = [], [], None
    for item in as_list(data.get('ws_object')):
        if not isinstance(item, dict):
            continue
        is_error = _text(item.get('@error_node')).lower() == 'true'
        for key, value in item.items():
            if key.startswith('@'):
                continue
            if key == 'reboot':
                reboot = _text(value.get('@type') if isinstance(value, dict) else '') or 'normal'
            elif key in _CONTROL_NODES or key == 'REBOOT':
                # REBOOT in an error answer only names the node; the real error is beside it.
                continue
            elif is_error or key == 'SMAError' or (key.isupper() and isinstance(value, dict) and 'error' in value):
                for err in as_list(value.get('error') if isinstance(value, dict) else None):
                    errors.append(ErrorNode(key, err if isinstance(err, dict) else {}))
            else:
                objects.append((schema.ENTITY_ALIASES.get(key, key), value if value != '' else {}))
    if status == '0' and not errors:
        errors.append(ErrorNode('response', {'error_desc': 'status 0 without an error node'}))
    total = _text(data.get('@totalRecords'))
    return Answer(status, objects, errors, reboot=reboot,
                  total=int(total) if total.isdigit() else None, http_status=http_status)


def encode(objects):
    """[(entity name, device-form object), ...] -> request body bytes."""
    items = [{name: obj} for name, obj in objects]
    ws_object = items[0] if len(items) == 1 else items
    return json.dumps({'data': {'ws_object': ws_object}}, sort_keys=True).encode('utf-8')
