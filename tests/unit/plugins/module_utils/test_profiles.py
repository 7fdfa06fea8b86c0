# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""API profiles, carriers, values and manual steps (module_utils/profiles.py)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import profiles

MODEL_SYSTEM = {'@GUID': 'A' * 32, 'DNS': {'DNSServerIPAddress': '', 'BackupDNSServerIPAddress': '', 'DNSDomain': ''},
                'TimeSettings': {'TimeSettingConfigSource': 'None', 'TimeServerAddress': '', 'TimeZone': '', 'LocalTimeOffset': 0},
                'Subscription': {'SystemID': '11', 'CustomerID': '', 'CustomerName': '', 'ServerAddress': ''},
                'PBXLicense': {'EnableRemoteServer': False, 'LicenseServerURL': '', 'LicenseServerID': ''}}
DOCUMENTED_SYSTEM = {'@GUID': 'B' * 32, 'PBXLicense': {'EnableRemoteServer': False, 'LicenseServerURL': '', 'LicenseServerID': ''}}


def test_every_setting_has_a_label_and_a_place_in_web_manager():
    for name, setting in profiles.SETTINGS.items():
        assert setting.where and setting.label and setting.kind, name
        if profiles.LINK in setting.confirmed_by:
            assert setting.how, '%s says it is confirmed by the link but not how' % name


def test_model_carries_everything_and_documented_nothing():
    model, documented = profiles.load('model'), profiles.load('documented')
    for setting in set(profiles.SETTINGS) - set(profiles.ACTIONS):
        assert not isinstance(model.carrier(setting), profiles.Manual), setting
        assert isinstance(documented.carrier(setting), profiles.Manual), setting


def test_auto_uses_what_the_node_returns_and_hands_the_rest_to_a_person():
    auto = profiles.load('auto')
    assert isinstance(auto.field_carrier('dns_server', MODEL_SYSTEM), profiles.Field)
    manual = auto.field_carrier('dns_server', DOCUMENTED_SYSTEM)
    assert isinstance(manual, profiles.Manual) and 'DNS.DNSServerIPAddress' in manual.why


def test_auto_never_chooses_the_pbxlicense_fields():
    auto = profiles.load('auto')
    for setting in ('customer_id', 'license_server'):
        assert isinstance(auto.field_carrier(setting, DOCUMENTED_SYSTEM), profiles.Manual)


def test_a_named_profile_with_a_path_the_node_lacks_is_refused_naming_setting_and_path():
    with pytest.raises(profiles.ProfileError, match='setting dns_server is carried by systems: DNS.DNSServerIPAddress'):
        profiles.load('model').field_carrier('dns_server', DOCUMENTED_SYSTEM)


def test_pbxlicense_writes_the_guides_url_form_with_remote_server_enabled():
    carrier = profiles.load('pbxlicense').field_carrier('license_server', DOCUMENTED_SYSTEM)
    assert carrier.changes(DOCUMENTED_SYSTEM, 'Admin.UK1.avaya-sub.com') == {
        ('PBXLicense', 'LicenseServerURL'): 'https://Admin.UK1.avaya-sub.com', ('PBXLicense', 'EnableRemoteServer'): True}
    done = {'PBXLicense': {'EnableRemoteServer': True, 'LicenseServerURL': 'https://admin.uk1.avaya-sub.com'}}
    assert carrier.changes(done, 'admin.uk1.avaya-sub.com') == {}
    assert carrier.read(done) == 'admin.uk1.avaya-sub.com'


@pytest.mark.parametrize('setting, device, given', [
    ('dns_server', '0.0.0.0', ''),
    ('license_server', 'https://admin.uk1.avaya-sub.com/', 'ADMIN.uk1.avaya-sub.com'),
    ('time_server', 'Time.Google.com', 'time.google.com'),
    ('time_offset', '60', 60),
])
def test_values_that_mean_the_same_compare_equal(setting, device, given):
    assert profiles.same(setting, device, given)


def test_a_profile_file_in_yaml_or_json_loads(tmp_path):
    data = {'name': 'site-a', 'settings': {'dns_server': {'resource': 'systems', 'path': 'DNS.DNSServerIPAddress'}, 'time_zone': 'manual'}}
    as_json = tmp_path / 'site-a.json'
    as_json.write_text(json.dumps(data))
    as_yaml = tmp_path / 'site-a.yml'
    as_yaml.write_text('name: site-a\nsettings:\n  dns_server: {resource: systems, path: DNS.DNSServerIPAddress}\n  time_zone: manual\n')
    for path in (as_json, as_yaml):
        profile = profiles.load(str(path))
        assert profile.name == 'site-a' and profile.source == str(path)
        assert profile.carrier('dns_server').describe() == 'systems: DNS.DNSServerIPAddress'
        # What a profile does not name is manual.
        assert isinstance(profile.carrier('customer_id'), profiles.Manual)


@pytest.mark.parametrize('value, message', [
    ('nonsense', "'nonsense' is not a known profile"),
    ('/nowhere/profile.yml', 'cannot be read'),
    ({'settings': {'dns_server': {'resource': 'systems'}}}, 'settings.dns_server.path must be a dotted field path'),
    ({'settings': {'dns_servers': 'manual'}}, "unknown setting 'dns_servers'"),
    ({'settings': {'license_server': {'resource': 'systems', 'path': 'X.Y', 'form': 'ftp'}}}, "form 'ftp' is not a form"),
    ({'settings': {'default_route': {'resource': 'iproutes'}}}, 'entity must name the entity'),
    ({'settings': {}}, '"settings" must map each setting'),
    ({'settings': {'dns_server': 'manual'}, 'extra': 1}, 'unknown key extra'),
    ({'resources': {'systems': {'update': 'sometimes'}}, 'settings': {'dns_server': 'manual'}}, 'update must be merge or replace'),
    (42, 'must be a profile name'),
])
def test_bad_profiles_are_refused_with_the_problem(value, message):
    with pytest.raises(profiles.ProfileError, match=message.replace('(', r'\(').replace(')', r'\)')):
        profiles.load(value)


def test_malformed_files_name_the_file(tmp_path):
    bad_yaml = tmp_path / 'bad.yml'
    bad_yaml.write_text('settings: [unclosed\n')
    bad_json = tmp_path / 'bad.json'
    bad_json.write_text('{"settings": ')
    with pytest.raises(profiles.ProfileError, match='%s is not valid YAML' % bad_yaml):
        profiles.load(str(bad_yaml))
    with pytest.raises(profiles.ProfileError, match='%s is not valid JSON' % bad_json):
        profiles.load(str(bad_json))


def _steps():
    return [profiles.manual_step(setting, '192.0.2.1', value, 'no carrier', 'site-1')
            for setting, value in (('dns_server', '192.0.2.53'), ('time_zone', 'Europe/Berlin'), ('customer_id', 'ACME-1'))]


def test_a_link_that_is_up_confirms_what_it_needs_and_nothing_else():
    status = {'node_address': '192.0.2.1', 'ready': True, 'link': {'evidence': 'licences'}}
    judged = dict((step['setting'], step) for step in profiles.confirm_steps(_steps(), [status]))
    assert judged['dns_server']['status'] == profiles.CONFIRMED and 'judged from the licences' in judged['dns_server']['evidence']
    assert judged['customer_id']['status'] == profiles.CONFIRMED
    assert judged['time_zone']['status'] == profiles.OPEN and 'no check can see it' in judged['time_zone']['evidence']


def test_without_a_link_every_step_stays_open_unless_the_installer_reports_it():
    status = {'node_address': '192.0.2.1', 'ready': False}
    judged = dict((step['setting'], step) for step in profiles.confirm_steps(_steps(), [status], entered=['time_zone']))
    assert judged['dns_server']['status'] == profiles.OPEN
    assert judged['time_zone']['status'] == profiles.ENTERED and 'no check measures it' in judged['time_zone']['evidence']
    # Another node's link confirms nothing here.
    other = {'node_address': '192.0.2.2', 'ready': True}
    assert all(step['status'] == profiles.OPEN for step in profiles.confirm_steps(_steps(), [other]))


def test_a_step_line_says_where_what_and_how():
    line = profiles.step_lines([_steps()[0]])[0]
    assert line == 'site-1: System Settings > System > DNS > DNS Service IP Address = 192.0.2.53 (offline edit, reboot needed)'
