#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ip_route
short_description: Manage the IP routes of an IP Office, above all the default route to the customer's router
version_added: 0.1.0
description:
  - Manages IP route records of one IP Office node (address, mask, gateway, destination LAN, metric).
  - The subscription link needs a default route, 0.0.0.0 / 0.0.0.0 via the customer's router on LAN1 or LAN2. That is
    one item with only O(config[].gateway) and O(config[].destination).
  - A route is identified by its address and mask. A default route that the device holds with a blank address and
    mask is the same route as 0.0.0.0 / 0.0.0.0.
  - The gateway must lie in the subnet of the destination LAN, read from the node. A gateway outside it fails before
    any write.
  - Routes the task does not name are never touched, except with O(state=overridden).
  - Avaya's Management API guide does not document IP routes; the resource that holds them on a release is what
    O(api_profile) says. Where the node's release has none, the module writes nothing and returns each route in
    RV(manual_steps) for a person to enter in Web Manager (System Settings > IP Route). See the collection's
    C(docs/real-systems.md).
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.connection
  - ipoffice.subscription.attributes.CONFIG_MODULE
  - ipoffice.subscription.attributes.ACTIONGROUP_API
options:
  config:
    description:
      - The routes.
    type: list
    elements: dict
    default: []
    suboptions:
      ip_address:
        description:
          - Destination network address.
        type: str
        default: 0.0.0.0
      ip_mask:
        description:
          - Destination network mask, dotted (V(255.255.255.0)) or as a prefix length (V(24)); it must be contiguous.
        type: str
        default: 0.0.0.0
      gateway:
        description:
          - Gateway address, in the subnet of O(config[].destination) as the node has it, and a host there, so neither
            the node's own address on that LAN nor the subnet's network or broadcast address. Required except with
            O(state=deleted).
        type: str
      destination:
        description:
          - The LAN the route leaves by. Required except with O(state=deleted).
        type: str
        choices: [LAN1, LAN2]
      metric:
        description:
          - Route metric, 0 to 255. A new route gets 0 when not given; an existing route keeps its metric
            with O(state=merged).
        type: int
  state:
    description:
      - V(merged) adds the given routes and changes their given fields.
      - V(replaced) makes each given route exactly as given (a metric not given becomes 0); other routes stay.
      - V(overridden) makes the node's routes exactly the given list, removing every other route.
      - V(deleted) removes the given routes (only their address and mask matter). With an empty O(config) it
        removes nothing; use V(overridden) with an empty list to remove all.
      - V(gathered) reads the routes.
      - V(rendered) returns the request bodies for O(config) without connecting.
      - V(parsed) reads routes from O(running_config) without connecting.
    type: str
    choices: [merged, replaced, overridden, deleted, gathered, rendered, parsed]
    default: merged
  running_config:
    description:
      - A saved Management API answer to C(GET iproutes), for O(state=parsed).
    type: str
seealso:
  - module: ipoffice.subscription.system_info
'''

EXAMPLES = r'''
- name: Default route via the customer's router on LAN1
  ipoffice.subscription.ip_route:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    config:
      - {gateway: 192.0.2.254, destination: LAN1}

- name: Preview the change on every node of an SCN, without writing
  ipoffice.subscription.ip_route:
    host: 192.0.2.20
    node_address: "{{ item }}"
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    config:
      - {gateway: 192.0.2.254, destination: LAN1}
  loop: [192.0.2.31, 192.0.2.32]
  check_mode: true
  diff: true

- name: Remove a route
  ipoffice.subscription.ip_route:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    config:
      - {ip_address: 198.51.100.0, ip_mask: 24}
    state: deleted
'''

RETURN = r'''
before:
  description: All routes of the node before the task.
  returned: state is merged, replaced, overridden or deleted
  type: list
  elements: dict
after:
  description: All routes of the node after the task, as read back (predicted in check mode).
  returned: state is merged, replaced, overridden or deleted
  type: list
  elements: dict
operations:
  description: The writes made (or, in check mode, that would be made), one per route.
  returned: state is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample: [{method: POST, item: [0.0.0.0, 0.0.0.0], fields: [Destination, GatewayIPAddress, IPAddress, IPMask, Metric]}]
node_address:
  description: LAN1 address of the node that was read or changed.
  returned: when connected
  type: str
gathered:
  description: The routes of the node.
  returned: state is gathered
  type: list
  elements: dict
rendered:
  description: The request bodies for O(config).
  returned: state is rendered
  type: dict
parsed:
  description: The routes in O(running_config).
  returned: state is parsed
  type: list
  elements: dict
manual_steps:
  description:
    - Where this node's release has no carrier for the list (see O(api_profile)), one step per configured item for a
      person in Web Manager, with C(system), C(node), C(setting), C(where), C(label), C(value), C(offline), C(reboot),
      C(confirmed_by) and C(why); nothing is written then, and RV(before) and RV(after) are V(null).
  returned: state is merged, replaced, overridden or deleted
  type: list
  elements: dict
carrier:
  description: The resource that holds the list on this node, or C(manual).
  returned: when connected
  type: str
api_profile:
  description: The name of the API profile used.
  returned: when connected
  type: str
api_stats:
  description:
    - Requests, logins, retries, re-logins and writes this task made.
    - C(shared_reads), the reads it took from the httpapi connection, which shares configuration reads within a play.
  returned: when connected
  type: dict
'''

from ansible_collections.ipoffice.subscription.plugins.module_utils import list_resource, resource, schema, validators


def identity(obj):
    fields = schema.entity('IPRoute').fields
    return (resource.comparable(fields['IPAddress'], obj.get('IPAddress')),
            resource.comparable(fields['IPMask'], obj.get('IPMask')))


def wanted(item):
    result = {('IPAddress',): item['ip_address'], ('IPMask',): validators.netmask_to_dotted(item['ip_mask'])}
    for option, path in (('gateway', ('GatewayIPAddress',)), ('destination', ('Destination',)), ('metric', ('Metric',))):
        if item.get(option) is not None:
            result[path] = item[option]
    return result


def lan_subnet(system, name):
    for lan in (system.get('LANS') or {}).get('LAN', []):
        if lan.get('@id') == name and lan.get('IPAddress') and lan.get('IPMask'):
            return lan['IPAddress'], lan['IPMask']
    return None


def check(system, current, config):
    problems = []
    for index, item in enumerate(config):
        if item.get('gateway') is None:
            continue
        subnet = lan_subnet(system, item['destination'])
        if subnet is None:
            problems.append('config[%d].destination %s has no address on this node' % (index, item['destination']))
        else:
            problems.append(validators.check_gateway('config[%d].gateway' % index, item['gateway'], item['destination'], *subnet))
    return [problem for problem in problems if problem]


def manual(item, state):
    """The manual step for one route, in Web Manager's words (System Settings > IP Route)."""
    mask = validators.netmask_to_dotted(item['ip_mask'])
    default = item['ip_address'] in ('0.0.0.0', '') and mask in ('0.0.0.0', '')
    label = None if default else 'IP Address, IP Mask, Gateway IP Address, Destination, Metric'
    if state == 'deleted':
        return 'default_route', label, 'remove the IP Route record with IP Address %s, IP Mask %s' % (item['ip_address'] or '0.0.0.0', mask or '0.0.0.0')
    value = {'IP Address': item['ip_address'] or '0.0.0.0', 'IP Mask': mask or '0.0.0.0'}
    if item.get('gateway') is not None:
        value['Gateway IP Address'] = item['gateway']
    if item.get('destination') is not None:
        value['Destination'] = item['destination']
    if item.get('metric') is not None:
        value['Metric'] = item['metric']
    return 'default_route', label, value


def check_input(params):
    problems = []
    for index, item in enumerate(params['config']):
        where = 'config[%d]' % index
        problems.append(validators.check_ipv4(where + '.ip_address', item['ip_address']))
        problems.append(validators.check_netmask(where + '.ip_mask', item['ip_mask']))
        if params['state'] in ('merged', 'replaced', 'overridden', 'rendered'):
            for option in ('gateway', 'destination'):
                if item.get(option) is None:
                    problems.append('%s.%s is required with state=%s' % (where, option, params['state']))
        if item.get('gateway') is not None:
            problems.append(validators.check_ipv4(where + '.gateway', item['gateway']))
        if item.get('metric') is not None:
            problems.append(validators.check_range(where + '.metric', item['metric'], 0, 255))
    return [p for p in problems if p]


def main():
    module = list_resource.build_module(dict(config=dict(type='list', elements='dict', default=[], options=dict(
        ip_address=dict(type='str', default='0.0.0.0'),
        ip_mask=dict(type='str', default='0.0.0.0'),
        gateway=dict(type='str'),
        destination=dict(type='str', choices=['LAN1', 'LAN2']),
        metric=dict(type='int'),
    ))))
    problems = check_input(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    spec = list_resource.ItemSpec('IPRoute', identity, wanted, create={('Metric',): 0}, reset={('Metric',): 0}, check=check,
                                  setting='default_route', manual=manual)
    list_resource.ListTask(module, spec, module.params['config']).run()


if __name__ == '__main__':
    main()
