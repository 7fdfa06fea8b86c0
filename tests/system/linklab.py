# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for the subscription-link tests: configure a lab system through the
real Management API (the collection's own client, over HTTPS) and wait for its
link agent to reach a state.

Configuring through the client keeps each test to a second; the modules that
do the same are proven by their own tests and by test_site.py, which brings
every link up from playbooks/site.yml."""

from __future__ import annotations

import json
import os
import subprocess
import time

import yaml

from conftest import API_PASSWORD, REPO

# system -> (API listener, node LAN1 address)
NODES = {
    'ip500-single': ('127.0.10.1', '127.0.11.1'),
    'scn-1': ('127.0.20.1', '127.0.21.1'),
    'scn-2': ('127.0.20.1', '127.0.21.2'),
    'scn-3': ('127.0.20.1', '127.0.21.3'),
    'se-primary': ('127.0.30.1', '127.0.30.1'),
    'se-secondary': ('127.0.30.1', '127.0.30.2'),
    'se-expansion': ('127.0.30.1', '127.0.30.3'),
}

LAB_DNS = '127.0.53.53'
LAB_DNS_WITHOUT_AVAYA = '127.0.53.54'
LAB_SNTP = '127.0.123.123'
COM = '127.0.44.1'
SERVER = 'admin.lab1.avaya-sub.com'
SHAPED_SERVER = 'admin.lab2.avaya-sub.com'
CUSTOMER = 'LAB-0001'


def system_identity(lab, name):
    """{client_cert, client_key} of a system's own client identity, which the lab CA issues at start (STATE/identities)."""
    stem = os.path.join(lab.state, 'identities', name)
    return {'client_cert': stem + '.pem', 'client_key': stem + '.key'}


def unregistered_identity(lab, folder, name='not-registered'):
    """{client_cert, client_key} of a client identity the lab CA signed for a system no customer registered (files in
    folder): TLS accepts it, and COM must refuse it at the WebSocket upgrade."""
    import trustme
    with open(lab.ca_path, 'rb') as cert, open(os.path.join(lab.state, 'ca.key'), 'rb') as key:
        authority = trustme.CA.from_pem(cert.read(), key.read())
    leaf = authority.issue_cert(name, common_name=name, organization_name='IP Office Lab')
    found = {'client_cert': os.path.join(str(folder), name + '.pem'), 'client_key': os.path.join(str(folder), name + '.key')}
    leaf.private_key_pem.write_to_path(found['client_key'])
    with open(found['client_cert'], 'wb') as handle:
        handle.write(b''.join(blob.bytes() for blob in leaf.cert_chain_pems))
    return found


def client(lab, host):
    from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
    return api.Client(host=host, username='apiadmin', password=API_PASSWORD, ca_path=lab.ca_path, timeout=10, retries=0)


def configure(lab, name, dns=LAB_DNS, time_server=LAB_SNTP, customer=CUSTOMER, server=SERVER, route=True):
    """Give one system every link prerequisite (or the ones asked for) through the API."""
    host, node = NODES[name]
    gateway = node.rsplit('.', 1)[0] + '.254'
    with client(lab, host) as api:
        guid = api.get('System', node_address=node)[0]['@GUID']
        system = {'@GUID': guid,
                  'DNS': {'DNSServerIPAddress': dns, 'BackupDNSServerIPAddress': '', 'DNSDomain': ''},
                  'TimeSettings': {'TimeSettingConfigSource': 'SNTP' if time_server else 'None', 'TimeServerAddress': time_server,
                                   'TimeZone': 'Europe/London', 'LocalTimeOffset': 0},
                  'Subscription': {'CustomerID': customer, 'ServerAddress': server}}
        api.call('PUT', 'systems', node_address=node, objects=[('System', system)])
        # The DNS server acts only after a reboot, as on a real system.
        lab.control('POST', '/lab/systems/%s/reboot' % name)
        if route:
            api.call('POST', 'iproutes', node_address=node, objects=[('IPRoute', {
                'IPAddress': '0.0.0.0', 'IPMask': '0.0.0.0', 'GatewayIPAddress': gateway, 'Destination': 'LAN1', 'Metric': '0'})])


def set_system(lab, name, **sections):
    """PUT some System sections of one node, e.g. Subscription={'ServerAddress': ...}, and reboot it when a
    setting there waits for a reboot."""
    host, node = NODES[name]
    with client(lab, host) as api:
        guid = api.get('System', node_address=node)[0]['@GUID']
        api.call('PUT', 'systems', node_address=node, objects=[('System', dict(sections, **{'@GUID': guid}))])
    lab.control('POST', '/lab/systems/%s/reboot' % name)


def link(lab, name):
    return lab.control('GET', '/lab/systems/%s/link' % name)


def wait_link(lab, name, predicate, timeout=20.0, what='the expected state'):
    """Poll the lab's view of a link until predicate(link) holds; fail with the last view."""
    deadline = time.monotonic() + timeout
    while True:
        current = link(lab, name)
        if predicate(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError('%s did not reach %s within %.0f s; last: %s' % (
                name, what, timeout, {k: current.get(k) for k in ('LinkState', 'Reason', 'ReasonText', 'Port', 'attempt_log')}))
        time.sleep(0.2)


def wait_state(lab, name, state, timeout=20.0):
    return wait_link(lab, name, lambda current: current['LinkState'] == state, timeout, state)


def com_port(lab, port, mode=None, cert=None):
    body = {}
    if mode:
        body['mode'] = mode
    if cert:
        body['cert'] = cert
    return lab.control('POST', '/lab/com/ports/%d' % port, body)


def advance_days(lab, days):
    return lab.control('POST', '/lab/clock', {'advance_days': days})


def _lab_inventory_hosts():
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
        inventory = yaml.safe_load(handle)
    return dict((host, host_vars) for group in inventory['all']['children'].values() for host, host_vars in group['hosts'].items())


# Inventory hosts of playbooks/inventory/lab.yml and their vars: the API endpoint (ipoffice_host) and the system whose
# client identity the readiness checks present (lab_identity).
LAB_HOSTS = _lab_inventory_hosts()


def run_role_playbook(lab, tmp_path, host, playbook, report_dir, report_file, *args, timeout=600):
    """Run a playbook of playbooks/ on one host of the lab inventory (its other vars kept).

    Returns (process, the report document read from report_dir/report_file or None, output),
    after checking that the lab's API password never appears in the output.
    """
    with open(os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')) as handle:
        inventory = yaml.safe_load(handle)
    inventory['all']['children'] = {'lab': {'hosts': {host: dict(LAB_HOSTS[host])}}}
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    env = dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1')
    proc = subprocess.run(['ansible-playbook', '-i', str(path), os.path.join(REPO, 'playbooks', playbook)] + list(args),
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    output = proc.stdout + proc.stderr
    report = None
    if (report_dir / report_file).exists():
        report = json.loads((report_dir / report_file).read_text())
    assert API_PASSWORD not in output
    return proc, report, output


def report_system(report, name):
    """One system's entry of a readiness or monitoring report."""
    return [entry for entry in report['systems'] if entry['system'] == name][0]


def report_check(entry, name):
    """One check of a report entry."""
    return [item for item in entry['checks'] if item['check'] == name][0]
