# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reads shared between the tasks of a play (client.py, module_base.run, the httpapi plugin's store):
which reads are shared, that a write is never planned from one, and that a write ends the sharing.
The store is the httpapi plugin's own methods; its session and the device exchanges are scripted.
Through ansible-playbook and the lab: tests/system/test_httpapi.py."""

from __future__ import annotations

import json

import pytest

from ansible_collections.ipoffice.subscription.plugins.httpapi.ipoffice import HttpApi
from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
from ansible_collections.ipoffice.subscription.plugins.module_utils import envelope, in_worker, module_base, schema

SYSTEM = {'response': {'@status': '1', 'data': {'ws_object': {'System': {
    '@GUID': 'S1', 'Name': 'ip500', 'Password': 'secret', 'DNS': {'DNSServerIPAddress': '192.0.2.53'}}}}}}
STATUS = {'response': {'@status': '1', 'data': {'ws_object': {'SubscriptionStatus': {'@GUID': 'L1'}}}}}
WRITTEN = {'response': {'@status': '1', 'data': {'ws_object': ''}}}


class Store(object):
    """A session source that keeps shared reads in the httpapi plugin's own methods, with the JSON round trip
    of the connection's channel; its session is a fixed cookie."""

    def __init__(self):
        self.plugin = HttpApi(connection=None)
        self.scope = 'play-1'

    def open(self, stale=None):
        return {'cookies': {'JSESSIONID': 'abc'}, 'serial': 1, 'fresh': False}

    def shared_read(self, path):
        data = json.loads(json.dumps(self.plugin.ipoffice_shared_read(self.scope, path)))
        return envelope.Answer.from_data(data) if data else None

    def share_read(self, path, answer):
        self.plugin.ipoffice_share_read(self.scope, path, json.loads(json.dumps(answer.to_data())))

    def forget_reads(self):
        self.plugin.ipoffice_forget_reads()


class Device(object):
    """Answers each exchange by method and resource, and lists them."""

    def __init__(self, client, answers):
        self.answers = answers
        self.calls = []
        client._exchange = self.exchange

    def exchange(self, method, path, body=None, auth=False):
        resource = path.split('?')[0].rsplit('/', 1)[-1]
        self.calls.append((method, resource))
        return api._Sent(200, None, json.dumps(self.answers[(method, resource)]).encode('utf-8'))


def client_of(store, answers):
    client = api.Client('192.0.2.1', 'apiadmin', None, session_source=store)
    return client, Device(client, answers)


ANSWERS = {('GET', 'systems'): SYSTEM, ('GET', 'subscriptionstatus'): STATUS, ('PUT', 'systems'): WRITTEN}


def test_configuration_is_read_once_per_play_and_status_every_time():
    store = Store()
    first, first_device = client_of(store, ANSWERS)
    second, second_device = client_of(store, ANSWERS)
    for client in (first, second):
        assert client.get('System', node_address='192.0.2.10')[0]['DNS']['DNSServerIPAddress'] == '192.0.2.53'
        client.get('SubscriptionStatus')
    assert first_device.calls == [('GET', 'systems'), ('GET', 'subscriptionstatus')]
    assert second_device.calls == [('GET', 'subscriptionstatus')]
    assert (first.stats['shared_reads'], second.stats['shared_reads']) == (0, 1)


def test_a_new_play_reads_again():
    store = Store()
    client_of(store, ANSWERS)[0].get('System')
    store.scope = 'play-2'
    client, device = client_of(store, ANSWERS)
    client.get('System')
    assert device.calls == [('GET', 'systems')]


def test_a_shared_read_never_carries_a_write_only_field():
    store = Store()
    client_of(store, ANSWERS)[0].get('System')
    kept = json.dumps(store.plugin._reads)
    assert 'secret' not in kept and 'Password' not in kept and '192.0.2.53' in kept


def test_a_write_after_a_shared_read_is_refused_before_it_is_sent():
    store = Store()
    client_of(store, ANSWERS)[0].get('System')
    client, device = client_of(store, ANSWERS)
    client.get('System')
    with pytest.raises(api.PlanFromSharedRead):
        client.call('PUT', 'systems', objects=[('System', {'@GUID': 'S1'})])
    assert device.calls == []
    assert not isinstance(api.PlanFromSharedRead('x'), api.IPOfficeError)  # no module handler may take it for a failure


class Exited(Exception):
    pass


class FakeModule(object):
    check_mode = False

    def __init__(self):
        self.params = {'host': '192.0.2.1', 'port': 7070, 'username': 'apiadmin', 'password': None, 'validate_certs': True,
                       'ca_path': None, 'timeout': 5, 'retries': 0, 'node_address': None, 'state': 'merged'}

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, **result):
        raise Exited(dict(result, failed=True))


def test_module_base_plans_a_write_again_from_the_devices_own_reads(monkeypatch, tmp_path):
    monkeypatch.setenv('XDG_RUNTIME_DIR', str(tmp_path))  # the endpoint's write lock
    store = Store()
    client_of(store, ANSWERS)[0].get('System')
    devices, plans = [], []
    real_from_params = api.Client.from_params

    def client_with_device(params, session_slot=None, session_source=None):
        client = real_from_params(params, session_slot=session_slot, session_source=session_source)
        devices.append(Device(client, ANSWERS))
        return client

    def work(client):
        plans.append(client.get('System')[0]['@GUID'])
        client.call('PUT', 'systems', objects=[('System', {'@GUID': 'S1'})])
        return {'changed': True}

    monkeypatch.setattr(api.Client, 'from_params', staticmethod(client_with_device))
    with in_worker.in_controller(None, store), pytest.raises(Exited) as done:
        module_base.run(FakeModule(), work)
    result = done.value.args[0]
    assert not result.get('failed') and result['changed'] is True
    assert plans == ['S1', 'S1'] and devices[0].calls == [('GET', 'systems'), ('PUT', 'systems')]
    assert result['api_stats']['shared_reads'] == 1 and result['api_stats']['writes'] == 1


def test_after_its_first_write_a_task_reads_the_device_itself_and_writes_again_without_planning_again():
    store = Store()
    client, device = client_of(store, ANSWERS)
    for dummy in range(2):
        client.get('System')
        client.call('PUT', 'systems', objects=[('System', {'@GUID': 'S1'})])
        client.get('System')  # the read-back, kept for the next tasks but not served to this one
    assert device.calls == [('GET', 'systems'), ('PUT', 'systems'), ('GET', 'systems')] * 2
    assert client.stats['shared_reads'] == 0 and client.stats['writes'] == 2


def test_a_write_ends_the_sharing_for_every_later_task():
    store = Store()
    writer, dummy_device = client_of(store, ANSWERS)
    writer.get('System')
    writer.call('PUT', 'systems', objects=[('System', {'@GUID': 'S1'})])
    reader, device = client_of(store, ANSWERS)
    reader.get('System')
    reader.get('System')
    assert device.calls == [('GET', 'systems')]


def test_a_client_without_a_sharing_source_reads_every_time():
    client = api.Client('192.0.2.1', 'apiadmin', 'pw')
    device = Device(client, ANSWERS)
    client.logged_in = True
    client.get('System')
    client.get('System')
    assert device.calls == [('GET', 'systems'), ('GET', 'systems')]


@pytest.mark.parametrize('resource, shared', [('systems', True), ('iproutes', True), ('serviceusers', True),
                                              ('subscriptionstatus', False), ('licenses', False), ('nosuchthing', False)])
def test_only_configuration_is_shared(resource, shared):
    assert schema.changes_only_when_written(resource) is shared
