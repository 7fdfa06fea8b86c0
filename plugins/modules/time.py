#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: time
short_description: Set the time source, time server and time zone of an IP Office
version_added: 0.1.0
description:
  - Sets the time setting config source, the time server, the time zone and the local time offset of one IP Office
    node (System > System in Manager).
  - Subscriptions need an accurate time source. Avaya's documents recommend the Google time service at
    C(time.google.com) and say the system's time zone must be correct for the site.
  - Avaya's Management API guide does not document these settings; where each lives on a release is what
    O(api_profile) says. Where the node's release does not carry one, the module writes nothing for it and returns
    it in RV(manual_steps) for a person to enter in Web Manager. See the collection's C(docs/real-systems.md).
  - The time zone is stored as its IANA name (for example V(Europe/London)) in the field C(TimeSettings.TimeZone) of
    this collection's model. The module sends the name unchanged; a release that keeps its own list of zones
    changes only the collection's schema, not this module.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.connection
  - ipoffice.subscription.attributes.CONFIG_MODULE
  - ipoffice.subscription.attributes.ACTIONGROUP_API
options:
  source:
    description:
      - Where the node takes its time from (Time Setting Config Source).
      - When not given and the node has no source set (V(None) or empty), V(SNTP) is set. When not given and the node
        has one, it is kept (O(state=merged)).
    type: str
    choices: ['None', SNTP, Voicemail]
  server:
    description:
      - The time server, a host name or an IPv4 address; never a URL, a path or a port, a host name with a trailing
        dot, V(0.0.0.0), a broadcast, multicast or reserved address. Compared without regard to case.
      - When not given and the node has no time server, V(time.google.com) is set, as Avaya's documents advise. When
        not given and the node has one, it is kept (O(state=merged)).
    type: str
  time_zone:
    description:
      - The time zone of the site, an IANA time zone name such as V(Europe/London) or V(America/New_York), spelt
        exactly as in the IANA database.
      - Checked against the IANA database Python knows (C(zoneinfo)'s folders, with the C(tzdata) package as
        fallback) before any request. Accepted are the location zones the database lists in C(zone1970.tab) and
        C(zone.tab) (such as V(Europe/Oslo)), and V(UTC) (or V(Etc/UTC)). Refused, with the zone to give where there
        is one, are a name that does not exist, old names kept for compatibility (V(US/Eastern), V(GB), V(Europe/Kiev)),
        the C(posix/) and C(right/) copies (C(right/) counts leap seconds), V(Etc/GMT+1) and the like (with POSIX
        signs V(Etc/GMT+1) is one hour behind UTC, and none follows daylight saving), and rule names such as V(CET).
    type: str
  local_offset_minutes:
    description:
      - Local time offset from UTC in minutes, from V(-720) to V(840), for a release that needs it besides the zone.
      - When not given it is kept (O(state=merged)).
    type: int
  state:
    description:
      - V(merged) sets the given options and keeps the others.
      - V(replaced) makes the time settings exactly as given; O(source) not given becomes V(SNTP), O(server) not given
        becomes V(time.google.com), O(time_zone) not given is cleared and O(local_offset_minutes) not given becomes
        V(0).
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
requirements:
  - Python's C(zoneinfo) with a time zone database (the system's, or the C(tzdata) package).
notes:
  - O(node_address) chooses the node; without it, a Server Edition solution acts on its Primary, and an endpoint that
    serves several IP500 V2 systems asks for O(node_address).
  - Setting the time server does not make the module contact it. Check that the node can reach it with the
    collection's checks.
seealso:
  - module: ipoffice.subscription.system_info
  - module: ipoffice.subscription.dns
'''

EXAMPLES = r'''
- name: Take the time from time.google.com by SNTP, in the site's time zone
  ipoffice.subscription.time:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    source: SNTP
    server: time.google.com
    time_zone: Europe/London

- name: Make sure there is a time source (SNTP from time.google.com if the node has none); only set the zone
  ipoffice.subscription.time:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    time_zone: Europe/Berlin

- name: Use the customer's own time server
  ipoffice.subscription.time:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    server: 192.0.2.123

- name: Show the request body without connecting
  ipoffice.subscription.time:
    server: time.google.com
    time_zone: America/New_York
    state: rendered
'''

RETURN = r'''
before:
  description: Time settings before the task (C(source), C(server), C(time_zone), C(local_offset_minutes)).
  returned: state is merged or replaced
  type: dict
  sample: {source: "None", server: "", time_zone: "", local_offset_minutes: 0}
after:
  description: Time settings after the task, as read back from the node (predicted in check mode).
  returned: state is merged or replaced
  type: dict
  sample: {source: SNTP, server: time.google.com, time_zone: Europe/London, local_offset_minutes: 0}
reboot_required:
  description: Whether the node needs a reboot for the change to take effect.
  returned: state is merged or replaced
  type: bool
node_address:
  description: LAN1 address of the node that was read or changed.
  returned: state is merged, replaced or gathered
  type: str
gathered:
  description: The time settings read from the node.
  returned: state is gathered
  type: dict
rendered:
  description: The request body (C(data.ws_object.System.TimeSettings)) for the given options.
  returned: state is rendered
  type: dict
parsed:
  description: The time settings in O(running_config).
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

DEFAULT_SOURCE = 'SNTP'
DEFAULT_TIME_SERVER = 'time.google.com'
SOURCES = ['None', 'SNTP', 'Voicemail']
OFFSET_MIN = -720
OFFSET_MAX = 840
# Each option's setting (module_utils/profiles.py): where it lives depends on the API profile.
OPTIONS = {'source': 'time_source', 'server': 'time_server', 'time_zone': 'time_zone', 'local_offset_minutes': 'time_offset'}


def check_input(params):
    problems = []
    if params['server'] is not None:
        problems.append(validators.check_time_server('server', params['server']))
    if params['time_zone'] is not None:
        problems.append(validators.check_time_zone('time_zone', params['time_zone']))
    if params['local_offset_minutes'] is not None:
        problems.append(validators.check_range('local_offset_minutes', params['local_offset_minutes'],
                                               OFFSET_MIN, OFFSET_MAX, ' minutes from UTC'))
    return [p for p in problems if p]


def main():
    module = system_section.build_module(dict(
        source=dict(type='str', choices=SOURCES),
        server=dict(type='str'),
        time_zone=dict(type='str'),
        local_offset_minutes=dict(type='int'),
    ))
    problems = check_input(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    wanted = dict((option, module.params[option]) for option in ('source', 'server', 'time_zone', 'local_offset_minutes'))
    task = system_section.SectionTask(module, OPTIONS, wanted,
                                      defaults_if_empty={'source': DEFAULT_SOURCE, 'server': DEFAULT_TIME_SERVER},
                                      empty_values={'source': ('None',)})
    task.run()


if __name__ == '__main__':
    main()
