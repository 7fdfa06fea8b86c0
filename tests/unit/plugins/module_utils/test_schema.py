# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import re

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

# These machines are noisy: judge the property, not the speed of generating examples.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

from ansible_collections.ipoffice.subscription.plugins.module_utils import schema

# A System as the device sends it: bare numbers, one LAN as an object, unknown fields.
SYSTEM_ONE_LAN = {
    '@GUID': '0123456789ABCDEF0123456789ABCDEF', 'Name': 'Site1', 'Password': '',
    'MajorVersion': 12, 'MinorVersion': 1, 'BuildVersion': 45, 'SystemType': 'IP500 V2',
    'LANS': {'LAN': {'@id': 'LAN1', 'IPAddress': '192.0.2.1', 'IPMask': '255.255.255.0', 'EnableNAT': False,
                     'VoipGatekeeper': {'SipTrunksEnable': True}}},
    'DNS': {'DNSServerIPAddress': '', 'BackupDNSServerIPAddress': '', 'DNSDomain': ''},
    'Voicemail': {'Type': 1},
}


def test_one_item_becomes_a_list_and_types_follow_the_schema():
    system = schema.normalise('System', SYSTEM_ONE_LAN)
    assert isinstance(system['LANS']['LAN'], list)
    assert system['LANS']['LAN'][0]['EnableNAT'] is False
    assert system['MajorVersion'] == 12


def test_round_trip_keeps_unknown_fields_and_device_form():
    system = schema.normalise('System', SYSTEM_ONE_LAN)
    assert system['Voicemail'] == {'Type': 1}
    assert system['LANS']['LAN'][0]['VoipGatekeeper'] == {'SipTrunksEnable': True}
    assert schema.to_device('System', system) == SYSTEM_ONE_LAN


def test_quoted_resources_are_read_typed_and_written_quoted():
    user = {'@GUID': 'G', 'Name': 'COMAdmin', 'Password': '', 'AccountStatus': 'Enabled',
            'RightsGroups': 'COM Admin Group|Management API Group'}
    canonical = schema.normalise('ServiceUser', user)
    assert canonical['RightsGroups'] == ['COM Admin Group', 'Management API Group']
    assert schema.to_device('ServiceUser', canonical) == user
    licence = schema.normalise('License', {'Status': '1', 'IsGrace': 'false', 'Quantity': '10'})
    assert licence == {'Status': 1, 'IsGrace': False, 'Quantity': 10}
    assert schema.to_device('License', licence) == {'Status': '1', 'IsGrace': 'false', 'Quantity': '10'}


def test_facts_use_collection_names_and_never_carry_passwords():
    facts = schema.to_facts('System', schema.normalise('System', dict(SYSTEM_ONE_LAN, Password='secret')))
    assert facts['dns'] == {'server': '', 'backup_server': '', 'domain': ''}
    assert facts['lans'][0]['name'] == 'LAN1'
    assert 'secret' not in repr(facts)
    user = schema.to_facts('ServiceUser', {'Name': 'x', 'Password': 'secret', 'RightsGroups': []})
    assert user == {'name': 'x', 'rights_groups': []}


def test_minus_guid_is_the_same_as_at_guid():
    assert schema.normalise('IPRoute', {'-GUID': 'G'}) == {'@GUID': 'G'}


@pytest.mark.parametrize('entity, obj, fragment', [
    ('IPRoute', {'Metric': 'ten'}, 'IPRoute.Metric'),
    ('License', {'IsGrace': 'maybe'}, 'License.IsGrace'),
    ('System', {'LANS': 'x'}, 'System.LANS'),
])
def test_values_of_the_wrong_type_name_their_field(entity, obj, fragment):
    with pytest.raises(schema.SchemaValueError) as err:
        schema.normalise(entity, obj)
    assert fragment in str(err.value)


def test_alias_from_the_guides_sample_resolves():
    assert schema.entity('ProvisonIPAddress').name == 'ProvisionIPAddress'
    with pytest.raises(KeyError):
        schema.entity('Nope')


def test_reboot_fields_are_exactly_the_dns_and_remote_licence_server_fields():
    # Web Manager edits both offline, with a reboot (docs/real-systems.md).
    assert sorted(p for p, f in schema.iter_fields('System') if f.reboot) == [
        'DNS.BackupDNSServerIPAddress', 'DNS.DNSDomain', 'DNS.DNSServerIPAddress',
        'PBXLicense.EnableRemoteServer', 'PBXLicense.LicenseServerID', 'PBXLicense.LicenseServerIPAddress',
        'PBXLicense.LicenseServerPort', 'PBXLicense.LicenseServerURL']


def _doc_rows():
    here = os.path.dirname(__file__)
    path = os.path.join(here, '..', '..', '..', '..', 'docs', 'object-model.md')
    with open(path) as handle:
        return handle.read()


def test_docs_object_model_marks_every_model_field_of_the_system():
    # docs/ must tell the truth about where each field comes from.
    text = _doc_rows()
    for path, spec in schema.iter_fields('System'):
        if spec.source != 'model':
            continue
        rows = [line for line in text.splitlines() if line.startswith('|') and '`%s`' % path in line]
        assert rows, '%s is not documented in docs/object-model.md' % path
        assert '**model**' in rows[0], '%s is a model field but the docs do not say so' % path


def test_docs_object_model_lists_every_entity_and_resource():
    text = _doc_rows()
    for ent in schema.ENTITIES.values():
        assert re.search(r'### %s \(resource `%s`' % (ent.name, ent.resource), text), ent.name


_scalar = st.one_of(st.integers(-5, 500), st.booleans(), st.text(max_size=8))


@RELAXED
@given(st.dictionaries(st.sampled_from(['Metric', 'IPAddress', 'Destination', 'Extra']), _scalar))
def test_property_normalise_is_idempotent_or_names_the_field(obj):
    try:
        once = schema.normalise('IPRoute', obj)
    except schema.SchemaValueError as exc:
        assert 'IPRoute.' in str(exc)
        return
    assert schema.normalise('IPRoute', schema.to_device('IPRoute', once)) == once
