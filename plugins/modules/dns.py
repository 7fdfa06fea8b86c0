#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: dns
short_description: Set the DNS server an IP Office uses to find the subscription server
version_added: 0.1.0
description:
  - Sets the DNS server, backup DNS server and DNS domain of one IP Office node (System > DNS in Manager).
  - The subscription link needs DNS that resolves C(*.avaya-sub.com) and C(storage.googleapis.com). Avaya's
    documents say to use the customer's DNS server, or V(8.8.8.8) when the customer has none.
  - A DNS change is not mergeable on IP Office. It takes effect after a reboot. The module never reboots; it
    returns RV(reboot_required) and, with O(reboot_policy=fail), refuses to make such a change at all.
  - Avaya's Management API guide does not document these settings; where each lives on a release is what
    O(api_profile) says. Where the node's release does not carry one, the module writes nothing for it and returns
    it in RV(manual_steps) for a person to enter in Web Manager. See the collection's C(docs/real-systems.md).
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.connection
  - ipoffice.subscription.attributes.CONFIG_MODULE
  - ipoffice.subscription.attributes.ACTIONGROUP_API
options:
  server:
    description:
      - IPv4 address of the DNS server. Not V(0.0.0.0) (Web Manager's "none"), a broadcast, multicast or reserved
        address, where no server answers.
      - When not given and the node has no DNS server, V(8.8.8.8) is set, as Avaya's documents advise. When not given
        and the node has one, it is kept (O(state=merged)).
    type: str
  backup_server:
    description:
      - IPv4 address of the backup DNS server, or V("") to clear it. Refused like O(server) when it cannot be a server.
    type: str
  domain:
    description:
      - DNS domain of the node, a host-name-like suffix such as V(example.com), without a trailing dot. Compared
        without regard to case.
    type: str
  reboot_policy:
    description:
      - What to do when the change needs a reboot.
      - V(report_only) makes the change, returns RV(reboot_required=true) and warns; reboot the node in a maintenance
        window yourself.
      - V(fail) makes no change and fails if one is needed, so a play can stop outside a maintenance window.
    type: str
    choices: [report_only, fail]
    default: report_only
  state:
    description:
      - V(merged) sets the given options and keeps the others.
      - V(replaced) makes the DNS settings exactly as given; options not given are cleared, except O(server), which
        becomes V(8.8.8.8).
      - V(gathered) reads the settings.
      - V(rendered) returns the request body for the given options without connecting.
      - V(parsed) reads the settings from O(running_config) without connecting.
    type: str
    choices: [merged, replaced, gathered, rendered, parsed]
    default: merged
  running_config:
    description:
      - A saved Management API answer to C(GET systems) for one node (JSON or XML), for O(state=parsed).
    type: str
notes:
  - O(node_address) chooses the node; without it, a Server Edition solution acts on its Primary, and an endpoint that
    serves several IP500 V2 systems asks for O(node_address).
seealso:
  - module: ipoffice.subscription.system_info
'''

EXAMPLES = r'''
- name: Use the customer's DNS server
  ipoffice.subscription.dns:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    server: 192.0.2.53
  register: dns_result

- name: Tell the operator a reboot is due
  ansible.builtin.debug:
    msg: "Reboot {{ dns_result.node_address }} in the maintenance window"
  when: dns_result.reboot_required

- name: Make sure there is a DNS server, 8.8.8.8 if the customer has none
  ipoffice.subscription.dns:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"

- name: Show the request body without connecting
  ipoffice.subscription.dns:
    server: 192.0.2.53
    domain: example.com
    state: rendered
'''

RETURN = r'''
before:
  description: DNS settings before the task (C(server), C(backup_server), C(domain)).
  returned: state is merged or replaced
  type: dict
  sample: {server: "", backup_server: "", domain: ""}
after:
  description: DNS settings after the task, as read back from the node (predicted in check mode).
  returned: state is merged or replaced
  type: dict
  sample: {server: 8.8.8.8, backup_server: "", domain: ""}
reboot_required:
  description: Whether the node needs a reboot for the change to take effect.
  returned: state is merged or replaced
  type: bool
node_address:
  description: LAN1 address of the node that was read or changed.
  returned: state is merged, replaced or gathered
  type: str
gathered:
  description: The DNS settings read from the node.
  returned: state is gathered
  type: dict
rendered:
  description: The request body (C(data.ws_object.System.DNS)) for the given options.
  returned: state is rendered
  type: dict
parsed:
  description: The DNS settings in O(running_config).
  returned: state is parsed
  type: dict
manual_steps:
  description:
    - The settings this node's release has no carrier for (see O(api_profile)), one step each for a person in Web
      Manager; empty when every setting was written or already right.
    - Each has C(system), C(node), C(setting), C(where) (the Web Manager page), C(label), C(value) (what to enter),
      C(offline) and C(reboot) (whether Web Manager edits it offline and it needs a reboot), C(confirmed_by) (the
      checks that confirm it once entered), C(why), and for a default the node may already hold, C(note).
  returned: state is merged or replaced
  type: list
  elements: dict
  sample:
    - {system: site-1, node: 192.0.2.10, setting: dns_server, where: System Settings > System > DNS,
       label: DNS Service IP Address, value: 192.0.2.53, offline: true, reboot: true,
       confirmed_by: [link.first_connection], why: the node does not serve systems DNS.DNSServerIPAddress}
carriers:
  description: Where each option lives on this node (the resource and field path), or C(manual).
  returned: state is merged, replaced or gathered
  type: dict
  sample: {server: "systems: DNS.DNSServerIPAddress", backup_server: manual}
api_profile:
  description: The name of the API profile used (V(auto) unless O(api_profile) says otherwise).
  returned: state is merged, replaced or gathered
  type: str
api_stats:
  description:
    - Requests, logins, retries, re-logins and writes this task made.
    - C(shared_reads), the reads it took from the httpapi connection, which shares configuration reads within a play.
  returned: when connected
  type: dict
'''

from ansible_collections.ipoffice.subscription.plugins.module_utils import system_section, validators

DEFAULT_DNS_SERVER = '8.8.8.8'
# Each option's setting (module_utils/profiles.py): where it lives depends on the API profile.
OPTIONS = {'server': 'dns_server', 'backup_server': 'backup_dns_server', 'domain': 'dns_domain'}


def check_input(params):
    problems = []
    for option in ('server', 'backup_server'):
        if params[option] is not None and (params[option] != '' or option == 'server'):
            problems.append(validators.check_server_ipv4(option, params[option]))
    if params['domain']:
        problems.append(validators.check_dns_domain('domain', params['domain']))
    return [p for p in problems if p]


def main():
    module = system_section.build_module(dict(
        server=dict(type='str'),
        backup_server=dict(type='str'),
        domain=dict(type='str'),
        reboot_policy=dict(type='str', default='report_only', choices=['report_only', 'fail']),
    ))
    problems = check_input(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    wanted = dict((option, module.params[option]) for option in ('server', 'backup_server', 'domain'))
    task = system_section.SectionTask(module, OPTIONS, wanted, defaults_if_empty={'server': DEFAULT_DNS_SERVER},
                                      refuse_reboot=module.params['reboot_policy'] == 'fail')
    task.run()


if __name__ == '__main__':
    main()
