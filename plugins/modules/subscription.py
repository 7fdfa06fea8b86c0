#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: subscription
short_description: Set the customer ID and subscription server address of an IP Office
version_added: 0.1.0
description:
  - Sets the customer ID and the subscription server address of one IP Office node, the details from the order
    e-mail that Avaya's documents say are entered at the system's initial configuration.
  - The system resolves the subscription server address (Web Manager's "License Server") through DNS and connects
    to the address it gets. The address is therefore a host name, such as a regional C(*.avaya-sub.com) host like
    V(admin.uk1.avaya-sub.com), given bare or in the URL form Avaya's guide writes (V(https://admin.uk1.avaya-sub.com));
    a path, a port, plain C(http://) or an IP address is refused before any request.
  - Topology rule from Avaya's documents. In Server Edition only the Primary Server holds the subscription link, so
    the module refuses, before writing, to set these on a Secondary or an Expansion server. In an IP500 V2 SCN every
    IP500 V2 holds its own link, so the settings apply to each one; choose it with O(node_address).
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
  customer_id:
    description:
      - The customer ID from the order e-mail.
      - This collection's model of its form, not a rule published by Avaya, is 1 to 32 letters, digits and hyphens,
        starting with a letter or a digit.
      - Text. A value YAML reads as a number or a boolean (an unquoted V(0012345) becomes the number 5349) is
        refused before any request, with a message to put it in quotes, rather than converted to other text.
      - When not given it is kept (O(state=merged)).
    type: raw
  server_address:
    description:
      - The subscription server address from the order e-mail, a host name such as V(admin.uk1.avaya-sub.com), or the
        same in the guide's URL form V(https://admin.uk1.avaya-sub.com). Both are the same setting; the module
        writes it the way the node's API profile says (a bare host name unless the profile's C(form) is C(url)).
        Compared without regard to case.
      - Not a path, not a port, not plain C(http://), and not an IP address, because the system finds the server
        through DNS and the link always tries ports 443 and 8443.
      - When not given it is kept (O(state=merged)).
    type: str
  state:
    description:
      - V(merged) sets the given options and keeps the others.
      - V(replaced) makes the subscription settings exactly as given; options not given are cleared.
      - V(gathered) reads the settings. It is allowed on a Server Edition Secondary or Expansion server (a read
        changes nothing), and the result says in RV(holds_subscription_link) whether the node holds the link.
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
    serves several IP500 V2 systems (an SCN on an Application Server) asks for O(node_address). Run the task once per
    IP500 V2 of an SCN.
  - A node whose system type the collection does not know is not refused; the topology rule is applied only where
    the node says what it is.
seealso:
  - module: ipoffice.subscription.system_info
  - module: ipoffice.subscription.dns
'''

EXAMPLES = r'''
- name: Enter the details from the order e-mail
  ipoffice.subscription.subscription:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    customer_id: ACME-0042
    server_address: admin.uk1.avaya-sub.com

- name: Set them on every IP500 V2 of an SCN served by one Application Server
  ipoffice.subscription.subscription:
    host: 192.0.2.20
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    node_address: "{{ item }}"
    customer_id: ACME-0042
    server_address: admin.uk1.avaya-sub.com
  loop:
    - 192.0.2.21
    - 192.0.2.22

- name: Show the request body without connecting
  ipoffice.subscription.subscription:
    customer_id: ACME-0042
    server_address: admin.uk1.avaya-sub.com
    state: rendered
'''

RETURN = r'''
before:
  description: Subscription settings before the task (C(customer_id), C(server_address)).
  returned: state is merged or replaced
  type: dict
  sample: {customer_id: "", server_address: ""}
after:
  description: Subscription settings after the task, as read back from the node (predicted in check mode).
  returned: state is merged or replaced
  type: dict
  sample: {customer_id: ACME-0042, server_address: admin.uk1.avaya-sub.com}
reboot_required:
  description: Whether the node needs a reboot for the change to take effect.
  returned: state is merged or replaced
  type: bool
node_address:
  description: LAN1 address of the node that was read or changed.
  returned: state is merged, replaced or gathered
  type: str
holds_subscription_link:
  description:
    - Whether the node holds the subscription link by Avaya's topology rule; null when its system type is unknown.
  returned: state is gathered
  type: bool
gathered:
  description: The subscription settings read from the node.
  returned: state is gathered
  type: dict
rendered:
  description: The request body (C(data.ws_object.System.Subscription)) for the given options.
  returned: state is rendered
  type: dict
parsed:
  description: The subscription settings in O(running_config).
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

WRITE_STATES = ('merged', 'replaced')
# Each option's setting (module_utils/profiles.py): where it lives depends on the API profile.
OPTIONS = {'customer_id': 'customer_id', 'server_address': 'license_server'}


def check_input(params):
    problems = []
    if params['customer_id'] is not None:
        problems.append(validators.check_customer_id('customer_id', params['customer_id']))
    if params['server_address'] is not None:
        problems.append(validators.check_license_server('server_address', params['server_address']))
    return [p for p in problems if p]


class NodeRule(object):
    """Refuse to write on a node that does not hold the subscription link; reads are allowed everywhere."""

    def __init__(self, state):
        self.state = state
        self.holds_link = None

    def __call__(self, facts):
        self.holds_link = facts.get('holds_subscription_link')
        if self.state in WRITE_STATES and self.holds_link is False:
            return ('this node is a %s: only the Server Edition Primary holds the subscription link, so the customer '
                    'ID and subscription server address are set there; nothing was changed'
                    % (facts.get('system_type') or facts.get('role')))
        return None


class SubscriptionTask(system_section.SectionTask):
    def gather(self, client):
        result = super(SubscriptionTask, self).gather(client)
        result['holds_subscription_link'] = self.check_node.holds_link
        return result


def main():
    module = system_section.build_module(dict(
        # raw, not str: Ansible would turn a number YAML read from an unquoted ID into text without a word.
        customer_id=dict(type='raw'),
        server_address=dict(type='str'),
    ))
    problems = check_input(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    wanted = dict((option, module.params[option]) for option in ('customer_id', 'server_address'))
    task = SubscriptionTask(module, OPTIONS, wanted, check_node=NodeRule(module.params['state']))
    task.run()


if __name__ == '__main__':
    main()
