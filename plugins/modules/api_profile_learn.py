#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: api_profile_learn
short_description: Learn where an IP Office release keeps each subscription setting, from one system configured by hand
version_added: 0.1.0
description:
  - Avaya's Management API guide documents almost none of the settings this collection writes, and releases differ.
    Configure one system of a new release by hand in Web Manager, give this module the values you entered, and it
    finds, in what that node's API returns, the one field that holds each value, and writes an API profile file that
    the other modules take as O(ipoffice.subscription.dns#module:api_profile) to roll out the rest of the fleet.
  - It reads the node's C(systems) object and every resource named in O(resources) (besides the ones the collection
    knows, C(iproutes), C(serviceusers) and C(rightsgroups)), and looks for each value in the forms a device may use;
    the licence server as a bare host name or as C(https://host), the default route with V(0.0.0.0) or a blank address
    and mask.
  - B(Never a guess.) A value found in more than one field, or in none, is returned in RV(ambiguous) or RV(missing)
    with its candidates and left out of the profile; name its field in O(paths) and run again.
  - With O(compare_with), the profile learned from an earlier node must agree with this one; a disagreement is
    reported and fails the task, and nothing is written.
  - It only reads from the device. It writes only O(dest), atomically, and reports C(changed) when the file's content
    changed.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.connection
  - ipoffice.subscription.attributes
  - ipoffice.subscription.attributes.ACTIONGROUP_API
attributes:
  check_mode:
    support: full
    details: In check mode the profile is learned and returned but not written.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A second run against the same node writes the same file and reports no change.
options:
  values:
    description:
      - What the installer entered by hand on this node, by setting. Only the settings given are learned.
    type: dict
    required: true
    suboptions:
      customer_id:
        description: Customer ID.
        type: str
      license_server:
        description: License Server, as entered (a host name or C(https://host)).
        type: str
      dns_server:
        description: DNS Service IP Address.
        type: str
      backup_dns_server:
        description: Backup DNS Server IP Address. Give a value other than O(values.dns_server), or the two are ambiguous.
        type: str
      dns_domain:
        description: DNS Domain.
        type: str
      time_source:
        description: Time Setting Config Source, for example V(SNTP).
        type: str
      time_server:
        description: Time Server IP Address (or name).
        type: str
      time_zone:
        description: Time Zone.
        type: str
      time_offset:
        description: Local Time Offset, in minutes.
        type: int
      default_gateway:
        description: Gateway IP Address of the default route (IP Address and IP Mask 0.0.0.0 or blank).
        type: str
      default_route_lan:
        description: Destination of the default route.
        type: str
        choices: [LAN1, LAN2]
        default: LAN1
      comadmin:
        description: Learn which resource lists COMAdmin, and which fields hold its name and account status.
        type: bool
        default: true
  resources:
    description:
      - More resource names (under C(admin/v1/)) to read besides C(systems), C(iproutes), C(serviceusers) and
        C(rightsgroups), for a release that keeps settings or records elsewhere. A name the node does not serve is
        skipped.
    type: list
    elements: str
    default: []
  paths:
    description:
      - >-
        Where a setting lives, when its value was found in more than one field; setting name to C(resource:path), for
        example C(systems:SystemSettings.Network.PrimaryDNS). The field must hold the value given in O(values).
    type: dict
    default: {}
  name:
    description: Name of the profile. Default C(learned-<system name>).
    type: str
  dest:
    description:
      - Where to write the profile (YAML). Without it, the profile is only returned.
    type: path
  compare_with:
    description:
      - A profile file learned earlier from another node of the same release. Every setting both learned must be at
        the same place in the same form; otherwise the task fails, listing the disagreements, and writes nothing.
    type: path
notes:
  - Passwords read back empty, so the field that holds COMAdmin's password cannot be learned; nor can its rights groups.
    The profile then carries only its name and account status, enough to enable it; name the other fields in the file
    to create it.
  - How the release applies a PUT (merge or replace) cannot be learned by reading. The profile leaves it out, and the
    modules then send whole objects back, which is right under both.
seealso:
  - module: ipoffice.subscription.system_info
'''

EXAMPLES = r'''
- name: Learn release 12.3 from the system configured by hand at site 1
  ipoffice.subscription.api_profile_learn:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    values:
      customer_id: ACME-0042
      license_server: admin.uk1.avaya-sub.com
      dns_server: 192.0.2.53
      time_source: SNTP
      time_server: time.google.com
      time_zone: Europe/London
      default_gateway: 192.0.2.254
    resources: [staticroutes, serviceaccounts]
    dest: profiles/release-12.3.yml
  delegate_to: localhost
  register: learned

- name: Check it against a second system configured by hand
  ipoffice.subscription.api_profile_learn:
    host: 192.0.2.20
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    values:
      customer_id: ACME-0042
      license_server: admin.uk1.avaya-sub.com
      dns_server: 192.0.2.53
    compare_with: profiles/release-12.3.yml
  delegate_to: localhost
'''

RETURN = r'''
profile:
  description: The learned profile, as written to O(dest); the settings not learned are not in it (they stay manual).
  returned: success
  type: dict
learned:
  description: Per learned setting, its C(form) and the C(evidence) (node, resource, field, value read).
  returned: success
  type: dict
ambiguous:
  description: Settings whose value was found in more than one field, each with C(value) and C(candidates).
  returned: success
  type: dict
missing:
  description: Settings whose value no field holds, each with C(value) and C(why).
  returned: success
  type: dict
disagreements:
  description: With O(compare_with), the settings the two nodes disagree on (C(setting), C(earlier), C(now)).
  returned: when compare_with is given
  type: list
  elements: dict
node_address:
  description: LAN1 address of the node read.
  returned: success
  type: str
dest:
  description: The file written (not written in check mode).
  returned: when dest is given
  type: str
api_stats:
  description:
    - Requests, logins, retries, re-logins and writes this task made.
    - C(shared_reads), the reads it took from the httpapi connection, which shares configuration reads within a play.
  returned: always
  type: dict
'''

import datetime
import os
import tempfile

from ansible_collections.ipoffice.subscription.plugins.module_utils import learning, module_base, profiles, topology

KNOWN_RESOURCES = ('iproutes', 'serviceusers', 'rightsgroups')


def _read(client, module, node, system):
    """What the node serves: ([(resource, entity, object)] of one-object resources, {resource: (entity, [objects])})."""
    objects = [('systems', 'System', system)]
    lists = {}
    extra = list(module.params['resources'])
    if module.params['compare_with']:
        extra += [spec['resource'] for spec in profiles.load(module.params['compare_with']).settings.values() if spec != profiles.MANUAL]
    for resource in sorted(set(KNOWN_RESOURCES + tuple(extra)) - {'systems'}):
        try:
            found = client.call('GET', resource, node_address=node).objects
        except module_base.api.IPOfficeError as exc:
            if module_base.absent(exc):
                continue
            raise
        if not found:
            continue
        entity = found[0][0]
        records = [obj for name, obj in found if name == entity and isinstance(obj, dict)]
        lists[resource] = (entity, records)
        if len(records) == 1:
            objects.append((resource, entity, records[0]))
    return objects, lists


def _named(paths):
    named = {}
    for setting, where in paths.items():
        text = str(where)
        resource, _sep, path = text.rpartition(':')
        named[setting] = {'resource': resource or 'systems', 'path': path}
    return named


def _write(path, text):
    """Write next to the target and rename: a reader sees the old file or the new one, and no link is followed."""
    directory = os.path.dirname(os.path.abspath(path)) or '.'
    handle, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as out:
            out.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def main():
    module = module_base.build_module(argument_spec=dict(
        values=dict(type='dict', required=True, options=dict(
            customer_id=dict(type='str'), license_server=dict(type='str'), dns_server=dict(type='str'),
            backup_dns_server=dict(type='str'), dns_domain=dict(type='str'), time_source=dict(type='str'),
            time_server=dict(type='str'), time_zone=dict(type='str'), time_offset=dict(type='int'),
            default_gateway=dict(type='str'), default_route_lan=dict(type='str', choices=['LAN1', 'LAN2'], default='LAN1'),
            comadmin=dict(type='bool', default=True))),
        resources=dict(type='list', elements='str', default=[]),
        paths=dict(type='dict', default={}),
        name=dict(type='str'),
        dest=dict(type='path'),
        compare_with=dict(type='path'),
    ), supports_check_mode=True)
    unknown = sorted(set(module.params['paths']) - set(learning.SCALAR_SETTINGS))
    if unknown:
        module.fail_json(msg='paths: %s is not a single-value setting (%s)' % (unknown[0], ', '.join(learning.SCALAR_SETTINGS)))
    earlier = None
    if module.params['compare_with']:
        try:
            earlier = profiles.load(module.params['compare_with'])
        except profiles.ProfileError as exc:
            module.fail_json(msg='compare_with: %s' % exc)

    def work(client):
        system, target = topology.choose_node(client.get('System'), module.params['node_address'])
        node = target or topology.lan1_address(system)
        raw = [obj for name, obj in client.call('GET', 'systems', node_address=node).objects if name == 'System']
        objects, lists = _read(client, module, node, raw[0] if raw else {})
        settings, learned, ambiguous, missing = learning.learn(module.params['values'], objects, lists, node,
                                                               _named(module.params['paths']))
        profile = {
            'name': module.params['name'] or 'learned-%s' % (system.get('Name') or node),
            'description': 'learned by ipoffice.subscription.api_profile_learn from %s (%s) on %s' % (
                system.get('Name') or node, node, datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')),
            'settings': settings,
        }
        result = dict(changed=False, profile=profile, learned=learned, ambiguous=ambiguous, missing=missing, node_address=node)
        if earlier is not None:
            disagreements, only_earlier, only_now = learning.compare(earlier.settings, settings)
            result.update(disagreements=disagreements, only_earlier=only_earlier, only_now=only_now)
            if disagreements:
                raise module_base.ModuleInputError(
                    '%s disagrees with %s on %s; nothing was written' % (
                        node, module.params['compare_with'], '; '.join(
                            '%s: %s there, %s here' % (item['setting'], item['earlier'], item['now']) for item in disagreements)))
        if not settings:
            raise module_base.ModuleInputError('no setting could be learned from %s: %s' % (
                node, '; '.join(['%s ambiguous' % name for name in ambiguous] + ['%s not found' % name for name in missing]) or
                'no values given'))
        if module.params['dest']:
            import yaml  # pylint: disable=import-outside-toplevel
            text = yaml.safe_dump(profile, sort_keys=False, default_flow_style=False)
            dest = module.params['dest']
            try:
                with open(dest, encoding='utf-8') as handle:
                    old = handle.read()
            except OSError:
                old = None
            result['dest'] = dest
            result['changed'] = old != text
            if result['changed'] and not module.check_mode:
                try:
                    _write(dest, text)
                except OSError as exc:
                    raise module_base.ModuleInputError('cannot write the profile to %s: %s' % (dest, exc.strerror or exc))
        if ambiguous or missing:
            module.warn('not learned (left manual): %s' % '; '.join(
                ['%s: %r is in %d fields (%s); name one in paths' % (name, item['value'], len(item['candidates']), ', '.join(
                    '%s:%s' % (c.get('resource'), c.get('path') or c.get('fields')) for c in item['candidates']))
                 for name, item in sorted(ambiguous.items())]
                + ['%s: %r: %s' % (name, item['value'], item['why']) for name, item in sorted(missing.items())]))
        return result

    module_base.run(module, work)


if __name__ == '__main__':
    main()
