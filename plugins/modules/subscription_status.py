#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: subscription_status
short_description: Read the state of an IP Office's subscription link, grace period and licences
version_added: 0.1.0
description:
  - Reads, through the IP Office Management API, what each node knows about its link to the subscription server
    (COM), the 30-day error mode that starts when the link is lost, the daily alarms, and the subscription licences
    with their expiry dates.
  - Link states are V(connected), V(connecting) (prerequisites set, no link made yet), V(not_configured)
    (a prerequisite is missing, listed in RV(systems[].link.missing_prerequisites)), V(error_mode) (a link was made
    and lost; the grace period runs), V(expired) (the grace period ended; subscription features and telephony are
    deactivated) and V(not_applicable) (a Server Edition Secondary or Expansion, which has no link of its own).
  - When the link is not up, RV(systems[].link.reason) says why in a stable code (for example V(dns_multiple_addresses),
    V(port_refused), V(tls_untrusted_certificate)) and RV(systems[].link.reason_text) in words.
  - The Management API guide documents licences but not the link. The link status is this collection's model of the
    device (resource C(subscriptionstatus), see C(docs/object-model.md)); licences are the guide's C(License) objects.
  - On a release that does not serve the link status (it answers 404, 405 or an error), the link is judged from the
    documented licences alone (RV(systems[].link.evidence) is V(licences)). Valid licences from a remote server with
    none on the grace period mean V(connected), none yet V(not_connected), licences on the grace period
    V(error_mode), invalid ones V(expired). The port, the reason codes and the days left are then unknown (V(null)). See
    C(docs/real-systems.md).
  - Reading costs three requests whatever the number of nodes.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.connection
  - ipoffice.subscription.attributes.INFO_MODULE
  - ipoffice.subscription.attributes.ACTIONGROUP_API
options: {}
notes:
  - Without O(node_address), every node the endpoint serves is read (all IP500 V2 systems of an Application Server,
    every server of a Server Edition solution). With it, only that node.
'''

EXAMPLES = r'''
- name: Read the link of every node behind a Server Edition Primary
  ipoffice.subscription.subscription_status:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    ca_path: /etc/ipoffice/ca.pem
  register: link

- name: Wait for the first connection of one IP500 V2 (every 10 s, at most 5 minutes)
  ipoffice.subscription.subscription_status:
    host: 192.0.2.20
    node_address: 192.0.2.31
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
  register: link
  until: link.all_ready
  retries: 30
  delay: 10

- name: Show why a link is down
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.link.state }} {{ item.link.reason_text | default('', true) }}"
  loop: "{{ link.systems }}"
  loop_control:
    label: "{{ item.node_address }}"
'''

RETURN = r'''
systems:
  description: One entry per node that was read.
  returned: success
  type: list
  elements: dict
  contains:
    node_address:
      description: LAN1 address of the node.
      type: str
      sample: 192.0.2.10
    name:
      description: System name.
      type: str
    system_type:
      description: C(IP500 V2), C(Server Edition Primary), C(Server Edition Secondary) or C(Server Edition Expansion).
      type: str
    role:
      description: C(node) for an IP500 V2; C(primary), C(secondary) or C(expansion) for Server Edition.
      type: str
    holds_subscription_link:
      description: Whether this node has its own link (every IP500 V2; only the Server Edition Primary).
      type: bool
    ready:
      description:
        - >-
          V(true) when the link is connected and every subscription licence is valid, none on the grace period (a
          connected node without licences is not ready); V(null) for a node without a link of its own. The readiness
          and monitoring reports judge a link by the same rule.
      type: bool
    link:
      description: The subscription link.
      type: dict
      contains:
        state:
          description: V(connected), V(connecting), V(not_configured), V(error_mode), V(expired) or V(not_applicable).
          type: str
          sample: connected
        reason:
          description: Why the link is not up, as a stable code; V(null) when connected.
          type: str
          sample: port_refused
        reason_text:
          description: The same in words.
          type: str
        evidence:
          description: >-
            What the link verdict rests on: V(link_status) (the link status resource) or V(licences) (a release
            without it: judged from the documented licences).
          type: str
        missing_prerequisites:
          description: >-
            Settings the link needs and the node lacks, among V(default_route), V(dns_server), V(time_source),
            V(customer_id), V(server_address) and V(comadmin).
          type: list
          elements: str
        server_address:
          description: The subscription server address in use.
          type: str
        resolved_address:
          description: The address DNS gave for it.
          type: str
        port:
          description: The TCP port carrying the link (443 or 8443); V(null) when not connected.
          type: int
          sample: 443
        connected_since:
          description: When the link came up (ISO 8601 UTC).
          type: str
        last_heartbeat:
          description: When COM last answered a heartbeat (ISO 8601 UTC).
          type: str
        last_attempt:
          description: When the node last tried to connect.
          type: str
        attempts:
          description: Connection attempts since the system started.
          type: int
        round_trip_ms:
          description: Median heartbeat round trip in milliseconds, as the node measured it.
          type: int
        time_synchronised:
          description: Whether the node's time source answered.
          type: bool
        time_offset_ms:
          description: The correction its time source gave, in milliseconds.
          type: int
    grace:
      description: The 30-day error mode.
      type: dict
      contains:
        in_error_mode:
          description: The link was lost and the grace period runs; features still work.
          type: bool
        expired:
          description: The grace period ended; subscription features and telephony are deactivated.
          type: bool
        error_mode_since:
          description: When the link was lost (ISO 8601 UTC).
          type: str
        period_days:
          description: Length of the grace period.
          type: int
          sample: 30
        days_left:
          description: Days until features and telephony stop.
          type: int
    alarms:
      description: Active alarms, one per day of error mode (C(day), C(raised), C(text)); empty when none.
      type: list
      elements: dict
    telephony:
      description: C(active) or C(deactivated).
      type: str
    subscription_features:
      description: C(none) (no licences received yet), C(active) or C(deactivated).
      type: str
    entitlements:
      description: >-
        Subscription licences with C(key), C(display_name), C(quantity), C(expiry_date) (YYYY-MM-DD),
        C(status) (C(valid), C(expired), C(invalid)...) and C(is_grace).
      type: list
      elements: dict
    licence_status:
      description: >-
        C(state) is C(valid), C(partly_expired), C(expired), C(invalid) or C(none); C(grace) is true when any licence
        runs on the grace period; C(valid), C(expired), C(invalid) and C(other) count licences.
      type: dict
evidence:
  description: What the verdicts rest on, over all nodes read (V(link_status), V(licences)).
  returned: success
  type: list
  elements: str
connected:
  description: Every node that holds a link is connected.
  returned: success
  type: bool
all_ready:
  description: Every node that holds a link is connected with valid licences (RV(systems[].ready)).
  returned: success
  type: bool
api_stats:
  description:
    - Requests, logins, retries, re-logins and writes this task made.
    - C(shared_reads), the reads it took from the httpapi connection, which shares configuration reads within a play.
  returned: always
  type: dict
'''

from ansible_collections.ipoffice.subscription.plugins.module_utils import link_status, module_base, schema, topology


def _statuses(client, node_address):
    """{node: SubscriptionStatus}, or None when the release has no link status resource (Avaya documents none)."""
    try:
        found = client.get('SubscriptionStatus', node_address=node_address)
    except module_base.api.IPOfficeError as exc:
        if module_base.absent(exc):
            return None
        raise
    return dict((schema.to_facts('SubscriptionStatus', obj).get('node_address'), obj) for obj in found)


def read(client, node_address=None):
    systems = client.get('System', node_address=node_address)
    statuses = _statuses(client, node_address)
    licences = [schema.to_facts('License', obj) for obj in client.get('License', node_address=node_address)]
    nodes = []
    for system in systems:
        address = topology.lan1_address(system)
        own = [licence for licence in licences if licence.get('pbx_address') in (address, None, '')]
        if statuses is None:
            facts = link_status.node_status_from_licences(own)
        else:
            facts = link_status.node_status(schema.to_facts('SubscriptionStatus', statuses.get(address, {})), own)
        facts['node_address'] = address
        facts['name'] = system.get('Name')
        facts['system_type'] = system.get('SystemType')
        described = topology.describe(system.get('SystemType'))
        facts['role'] = described['role']
        facts['holds_subscription_link'] = described['holds_subscription_link']
        # A node of unknown type (a release that does not say) is judged like a link holder, never skipped.
        if described['holds_subscription_link'] is False:
            facts['ready'] = None
        nodes.append(facts)
    holders = [node for node in nodes if node['holds_subscription_link'] is not False]
    return {
        'changed': False,
        'systems': nodes,
        'connected': bool(holders) and all(link_status.judge_link(node)['connected'] for node in holders),
        # What the verdicts rest on: the link status resource, or (a release without one) the documented licences.
        'evidence': sorted(set(node['link']['evidence'] for node in nodes)),
        'all_ready': bool(holders) and all(node['ready'] for node in holders),
    }


def main():
    module = module_base.build_module(argument_spec={}, supports_check_mode=True)
    module_base.run(module, lambda client: read(client, module.params['node_address']))


if __name__ == '__main__':
    main()
