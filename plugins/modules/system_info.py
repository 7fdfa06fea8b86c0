#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: system_info
short_description: Read what an IP Office needs for subscription licensing
version_added: 0.1.0
description:
  - Reads, through the IP Office Management API, each node's identity (type, software version, role in the solution),
    LANs, DNS, time settings, subscription settings (customer ID, server address), IP routes, service users, rights
    groups and licences, and returns them as structured data.
  - A Server Edition Primary or an Application Server answers for every node of its solution; each node is read on its
    own (C(ipaddress) query parameter) so that per-node lists such as IP routes are never mixed.
  - Passwords are never returned. The device reads them back empty, and the module drops them.
  - Which fields come from Avaya's guide and which are this collection's model is listed in the collection's
    C(docs/object-model.md). The settings are read through O(api_profile)'s carriers; one the node's release does not
    show reads V(null) (unknown, not empty), and RV(systems[].carriers) says where each came from.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.connection
  - ipoffice.subscription.attributes.INFO_MODULE
  - ipoffice.subscription.attributes.ACTIONGROUP_API
options:
  gather_subset:
    description:
      - What to read besides the system itself. V(all) reads everything.
      - Each subset costs one request per node.
    type: list
    elements: str
    choices: [all, system, ip_routes, service_users, rights_groups, licenses]
    default: [all]
'''

EXAMPLES = r'''
- name: Read a Server Edition solution through its Primary
  ipoffice.subscription.system_info:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    ca_path: /etc/ipoffice/ca.pem
  register: ipo

- name: Show each node's role and subscription settings
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.role }}): {{ item.subscription }}"
  loop: "{{ ipo.systems }}"
  loop_control:
    label: "{{ item.node_address }}"

- name: Read only the IP routes of one IP500 V2 registered on an Application Server
  ipoffice.subscription.system_info:
    host: 192.0.2.20
    node_address: 192.0.2.31
    gather_subset: [ip_routes]
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
'''

RETURN = r'''
systems:
  description: One entry per node that was read.
  returned: success
  type: list
  elements: dict
  contains:
    node_address:
      description: LAN1 address of the node; give it as O(node_address) to act on this node.
      type: str
      sample: 192.0.2.10
    guid:
      description: The System object's GUID.
      type: str
    name:
      description: System name.
      type: str
    system_type:
      description: C(IP500 V2), C(Server Edition Primary), C(Server Edition Secondary) or C(Server Edition Expansion).
      type: str
    platform:
      description: C(ip500v2), C(server_edition), or C(unknown) for a type this collection does not know.
      type: str
    role:
      description: C(node) for an IP500 V2; C(primary), C(secondary) or C(expansion) for Server Edition.
      type: str
    holds_subscription_link:
      description:
        - Whether this node has its own link to the subscription server (every IP500 V2; only the Server Edition
          Primary). V(null) when the system type is unknown.
      type: bool
    software_version:
      description: Major, minor and build, e.g. C(12.1 build 45).
      type: str
    lans:
      description: LAN1 and LAN2 with their addresses and masks.
      type: list
      elements: dict
    dns:
      description: DNS server, backup server and domain (C(server), C(backup_server), C(domain)).
      type: dict
    time:
      description: Time source, time server, time zone and local offset in minutes.
      type: dict
    subscription:
      description: >-
        C(customer_id), C(server_address) (the host name, also when the device holds the URL form), and, where the
        node's profile carries them, Web Manager's read-only C(system_id) and C(customer_name).
      type: dict
    licence_server:
      description: Licence server settings of the guide's C(PBXLicense).
      type: dict
    licence_server_raw:
      description: Every field of the guide's C(PBXLicense) as the device holds it, for an installer to compare.
      type: dict
    api_profile:
      description: The name of the API profile the settings were read through.
      type: str
    carriers:
      description: Where each setting was read (the resource and field path), or C(manual) where the node does not show it.
      type: dict
      sample: {dns_server: "systems: DNS.DNSServerIPAddress", default_route: iproutes, customer_id: manual}
    ip_routes:
      description: IP route records (C(ip_address), C(ip_mask), C(gateway), C(destination), C(metric)).
      type: list
      elements: dict
      returned: when gathered
    service_users:
      description: Service users with C(name), C(account_status) and C(rights_groups); never a password.
      type: list
      elements: dict
      returned: when gathered
    rights_groups:
      description: Rights groups with C(name) and C(external_rights).
      type: list
      elements: dict
      returned: when gathered
    licenses:
      description: Licences with C(status) as a number and C(status_name) as a word.
      type: list
      elements: dict
      returned: when gathered
api_stats:
  description:
    - Requests, logins, retries, re-logins and writes this task made.
    - C(shared_reads), the reads it took from the httpapi connection, which shares configuration reads within a play.
  returned: always
  type: dict
  sample:
    requests: 7
    logins: 1
    retries: 0
    relogins: 0
'''

from ansible_collections.ipoffice.subscription.plugins.module_utils import link_status, module_base, profiles, schema, system_section, topology

SUBSETS = {
    'ip_routes': 'IPRoute',
    'service_users': 'ServiceUser',
    'rights_groups': 'RightsGroup',
    'licenses': 'License',
}
# The subsets whose resource an API profile places (a release may not serve them: then they are unknown, None).
SUBSET_SETTINGS = {'ip_routes': 'default_route', 'service_users': 'comadmin'}

# Facts of the single-value settings, by section, in the names the configuration modules use.
SECTIONS = {
    'dns': {'server': 'dns_server', 'backup_server': 'backup_dns_server', 'domain': 'dns_domain'},
    'time': {'source': 'time_source', 'server': 'time_server', 'time_zone': 'time_zone', 'local_offset_minutes': 'time_offset'},
    'subscription': {'customer_id': 'customer_id', 'server_address': 'license_server', 'system_id': 'system_id',
                     'customer_name': 'customer_name'},
}


def describe_system(system, profile, client=None, target=None):
    """One node's facts; the settings through the profile's carriers (None where none holds them)."""
    facts = schema.to_facts('System', system)
    # A release that does not say what it is (Avaya's guide has no system type): unknown, never guessed.
    facts.setdefault('system_type', None)
    lan1 = [lan for lan in facts.get('lans', []) if lan.get('name') == 'LAN1']
    facts['node_address'] = lan1[0].get('ip_address') if lan1 else None
    facts.update(topology.describe(facts.get('system_type')))
    facts['software_version'] = '%s.%s build %s' % (
        facts.get('major_version'), facts.get('minor_version'), facts.get('build_version'))
    settings = [setting for names in SECTIONS.values() for setting in names.values()]
    objects = {'systems': system}
    carriers = system_section.find_carriers(profile, client, system, target, objects, settings)
    values = system_section.read_settings(carriers, objects)
    for section, names in SECTIONS.items():
        facts[section] = dict((fact, values[setting]) for fact, setting in names.items())
    # The guide's PBXLicense as the device holds it, every field, for an installer to compare.
    facts['licence_server_raw'] = dict(system.get('PBXLicense') or {})
    facts['api_profile'] = profile.name
    facts['carriers'] = dict((setting, carriers[setting].describe()) for setting in settings if setting in profiles.SETTINGS)
    return facts


def gather(client, subsets, profile, node_address=None):
    raw = client.get('System', node_address=node_address)
    systems = []
    for obj in raw:
        # With several nodes, read each on its own so per-node lists never mix.
        lan1 = topology.lan1_address(obj)
        target = node_address or (lan1 if len(raw) > 1 else None)
        facts = describe_system(obj, profile, client, target)
        for subset, entity_name in SUBSETS.items():
            if subset not in subsets:
                continue
            facts[subset] = _subset(client, profile, subset, entity_name, target or lan1, facts)
        systems.append(facts)
    return systems


def _subset(client, profile, subset, entity_name, target, facts):
    carrier = profile.carrier(SUBSET_SETTINGS[subset]) if subset in SUBSET_SETTINGS else None
    if isinstance(carrier, profiles.Manual):
        facts['carriers'][SUBSET_SETTINGS[subset]] = carrier.describe()
        return None
    try:
        if carrier is None:
            objects = client.get(entity_name, node_address=target)
        else:
            # In the release's names; the facts use the model's.
            objects = [carrier.to_model(obj) for obj in client.get(carrier.entity, node_address=target, resource=carrier.resource)]
    except module_base.api.IPOfficeError as exc:
        if not module_base.absent(exc) or (carrier is not None and not carrier.probe and subset in SUBSET_SETTINGS):
            raise
        # Not served by this release: unknown, not empty.
        if carrier is not None:
            facts['carriers'][SUBSET_SETTINGS[subset]] = profiles.MANUAL
        return None
    items = [schema.to_facts(entity_name, obj) for obj in objects]
    if entity_name == 'License':
        for item in items:
            item['status_name'] = link_status.licence_status_word(item.get('status'))
    return items


def main():
    module = module_base.build_module(
        argument_spec=dict(gather_subset=dict(type='list', elements='str', default=['all'],
                                              choices=['all', 'system'] + sorted(SUBSETS))),
        supports_check_mode=True,
    )
    subsets = set(module.params['gather_subset'])
    if 'all' in subsets:
        subsets = set(SUBSETS)
    profile = module_base.api_profile(module)
    module_base.run(module, lambda client: dict(changed=False, systems=gather(client, subsets, profile)))


if __name__ == '__main__':
    main()
