#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: service_user
short_description: Manage the service users of an IP Office, above all COMAdmin
version_added: 0.1.0
description:
  - Manages the service users of one IP Office node (Security Settings > Service Users) - account status, rights
    groups and password.
  - The subscription link to COM uses the security settings of the C(COMAdmin) service user. Avaya creates it, enabled,
    on new and defaulted systems. This module keeps it present and enabled with its rights groups, and never removes it.
  - A user is identified by its name (case-sensitive, as on the device).
  - B(Passwords.) A password can never be read back from the device, so it cannot be compared. With
    O(update_password=on_create) (the default) a password is sent only when the user is created. With
    O(update_password=always) it is sent on every run, and the task always reports a change for that user.
  - B(Changing an existing user needs its password.) The schema declares that the device applies a service user
    PUT as a replace that clears a password the PUT leaves out. So any change to an existing user (its account
    status or rights groups) is refused, before anything is written, unless the task sends the password in the same
    write - that is, gives O(config[].password) with O(update_password=always). The message says so. A task that
    changes nothing on an existing user needs no password.
  - The password is C(no_log). It never appears in results, diffs, warnings, error messages or logs, at any verbosity.
    The O(state=rendered) result shows a placeholder in its place.
  - Every rights group named must exist on the node; otherwise the task fails before any write and lists the groups
    that do exist.
  - V(COMAdmin) and the user the task logs in with (O(username)) are never removed by O(state=overridden) or
    O(state=deleted); such a task fails before any write, naming them.
  - Every write is planned from one read. If any step is unsafe, nothing is written. After the writes the users are
    read again; each planned user must be as intended and every other user exactly as it was, or the task fails
    naming them.
  - Users the task does not name are never touched, except with O(state=overridden).
  - Avaya's Management API guide does not document service users; the resource that holds them on a release is what
    O(api_profile) says. Where the node's release has none, the module writes nothing and returns each user in
    RV(manual_steps) for a person to set in Web Manager (Security Manager > Service Users); a password is never
    shown there. See the collection's C(docs/real-systems.md).
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.connection
  - ipoffice.subscription.attributes
  - ipoffice.subscription.attributes.ACTIONGROUP_API
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff never shows a password; a change of password alone shows as an operation with the field
      C(Password) and identical before and after.
  idempotent:
    support: partial
    details:
      - With O(update_password=on_create) (the default) a second run reports no change and writes nothing.
      - With O(update_password=always) every run sends the password of each user that has one in O(config) and
        reports a change, because a password cannot be read back and compared.
options:
  config:
    description:
      - The service users.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The user name, 1 to 31 characters.
        type: str
        required: true
      password:
        description:
          - The user's password. Never returned or logged.
          - Required to create a user. Not empty and not white space alone.
          - Sent for an existing user only with O(update_password=always). Give it that way to change an existing
            user's account status or rights groups; without it such a change is refused before any write.
          - Ignored with O(state=deleted).
        type: str
      account_status:
        description:
          - V(Enabled) or V(Disabled). The device may also show V(Locked), which it sets itself.
          - A new user is created V(Enabled) when not given. With O(state=merged) an existing user keeps its status
            when not given; with O(state=replaced) and O(state=overridden) it becomes V(Enabled).
        type: str
        choices: [Enabled, Disabled]
      rights_groups:
        description:
          - Names of the rights groups the user belongs to. Order does not matter.
          - Each must exist on the node.
          - A new user gets none when not given. With O(state=merged) an existing user keeps its groups when not
            given; with O(state=replaced) and O(state=overridden) it gets none.
        type: list
        elements: str
  update_password:
    description:
      - V(on_create) sends O(config[].password) only when a user is created; an existing user's password is never
        sent, so a second run changes nothing.
      - V(always) sends O(config[].password) for every user that has one, also when nothing else changes, and
        the task reports a change each time (the password cannot be read back to compare).
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description:
      - V(merged) creates the given users and changes their given fields.
      - V(replaced) makes each given user exactly as given (account status not given becomes V(Enabled), rights
        groups not given become none); other users stay.
      - V(overridden) makes the node's users exactly the given list, removing every other user. It fails before any
        write if that would remove C(COMAdmin) or the user the task logs in with; list them to keep them.
      - V(deleted) removes the given users (only O(config[].name) matters). It fails before any write for
        C(COMAdmin) or the user the task logs in with. With an empty O(config) it removes nothing.
      - V(gathered) reads the users (never their passwords).
      - V(rendered) returns the request bodies for O(config) without connecting, with the password masked.
      - V(parsed) reads users from O(running_config) without connecting.
    type: str
    choices: [merged, replaced, overridden, deleted, gathered, rendered, parsed]
    default: merged
  running_config:
    description:
      - A saved Management API answer to C(GET serviceusers), for O(state=parsed).
    type: str
notes:
  - In a Server Edition solution Avaya requires the API service user's password to be the same on every node; set it
    on each node with O(node_address).
seealso:
  - module: ipoffice.subscription.system_info
'''

EXAMPLES = r'''
- name: COMAdmin present and enabled (no change, so no password needed when it already is)
  ipoffice.subscription.service_user:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    config:
      - name: COMAdmin
        account_status: Enabled

- name: Enable COMAdmin where it was disabled; a change to an existing user needs its password
  ipoffice.subscription.service_user:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    config:
      - name: COMAdmin
        account_status: Enabled
        password: "{{ comadmin_password }}"
    update_password: always

- name: A second API user; the password is set when it is created and never again
  ipoffice.subscription.service_user:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    config:
      - name: automation
        password: "{{ automation_password }}"
        rights_groups:
          - Management API Group

- name: Remove a user
  ipoffice.subscription.service_user:
    host: 192.0.2.10
    username: apiadmin
    password: "{{ ipoffice_api_password }}"
    config:
      - name: automation
    state: deleted

- name: Show the request body without connecting (the password is masked)
  ipoffice.subscription.service_user:
    config:
      - name: automation
        password: "{{ automation_password }}"
        rights_groups:
          - Management API Group
    state: rendered
'''

RETURN = r'''
before:
  description: All service users of the node before the task, without passwords.
  returned: state is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample: [{guid: 0123456789ABCDEF0123456789ABCDEF, name: COMAdmin, account_status: Enabled, rights_groups: [COM Admin Group]}]
after:
  description: All service users of the node after the task, as read back (predicted in check mode), without passwords.
  returned: state is merged, replaced, overridden or deleted
  type: list
  elements: dict
operations:
  description:
    - The writes made (or, in check mode, that would be made), one per user, with the device field names they set.
    - C(Password) in C(fields) means the password was sent; its value is never shown.
  returned: state is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample: [{method: POST, item: automation, fields: [AccountStatus, Name, Password, RightsGroups]}]
node_address:
  description: LAN1 address of the node that was read or changed.
  returned: when connected
  type: str
gathered:
  description: The service users of the node, without passwords.
  returned: state is gathered
  type: list
  elements: dict
rendered:
  description: The request bodies for O(config); a password shows as a placeholder.
  returned: state is rendered
  type: dict
parsed:
  description: The service users in O(running_config), without passwords.
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

from ansible_collections.ipoffice.subscription.plugins.module_utils import list_resource, module_base, resource, topology, validators

ENTITY = 'ServiceUser'
BUILT_IN = 'COMAdmin'
MAX_NAME = 31
CREATE = {('AccountStatus',): 'Enabled', ('RightsGroups',): []}
OPTION_OF = {('AccountStatus',): 'account_status', ('RightsGroups',): 'rights_groups', ('Name',): 'name'}


def identity(obj):
    return obj.get('Name')


def wanted(item):
    result = {('Name',): item['name']}
    if item.get('account_status') is not None:
        result[('AccountStatus',)] = item['account_status']
    if item.get('rights_groups') is not None:
        result[('RightsGroups',)] = list(item['rights_groups'])
    return result


def manual(item, state):
    """The manual step for one service user (Security Manager > Service Users); never shows a password."""
    label = None if item['name'] == BUILT_IN else 'Service User %s' % item['name']
    if state == 'deleted':
        return 'comadmin', label, 'remove service user %s' % item['name']
    value = {'Name': item['name']}
    if item.get('account_status') is not None:
        value['Account Status'] = item['account_status']
    if item.get('rights_groups') is not None:
        value['Rights Groups'] = ', '.join(item['rights_groups'])
    if item.get('password') is not None:
        value['Password'] = 'the one given to the task (not shown)'
    return 'comadmin', label, value


def check_input(params):
    """Problems found in the options alone; never shows a password."""
    problems = []
    seen = {}
    for index, item in enumerate(params['config']):
        where = 'config[%d]' % index
        name = item['name']
        if not name or len(name) > MAX_NAME:
            problems.append('%s.name must be 1 to %d characters: got %r' % (where, MAX_NAME, name))
        elif name in seen:
            problems.append('%s.name %r is already given in config[%d]: name each user once' % (where, name, seen[name]))
        seen.setdefault(name, index)
        if params['state'] == 'deleted':
            continue
        if item.get('password') is not None:
            problems.append(validators.check_password('%s.password' % where, item['password'], name))
        for group in item.get('rights_groups') or []:
            if not group or '|' in group:
                problems.append('%s.rights_groups holds %r: a rights group name is not empty and has no "|"' % (where, group))
    return [problem for problem in problems if problem]


class ServiceUsers(object):
    """The module's answers to the list engine; holds the options that shape them."""

    def __init__(self, params):
        self.params = params
        self.state = params['state']
        self.always = params['update_password'] == 'always'
        self.api_user = params.get('username')

    def write_only(self, item, existing):
        password = item.get('password')
        if self.state == 'deleted' or password is None:
            return {}
        if existing is None or self.always:
            return {('Password',): password}
        return {}

    def protect(self, obj):
        name = obj.get('Name') or ''
        if name == BUILT_IN:
            return ('it is the built-in user whose security settings the subscription link to COM uses '
                    '(the device refuses to delete it)')
        if self.api_user and name.lower() == self.api_user.lower():
            return 'it is the user this task logs in with (username)'
        return None

    def _wanted_for_state(self, item):
        result = wanted(item)
        if self.state in ('replaced', 'overridden'):
            result = {**CREATE, **result}
        return result

    def check(self, system, current, config, client=None, target=None):
        if self.state == 'deleted':
            return []
        node = target or topology.lan1_address(system)
        problems = self._check_rights_groups(client, target, node, config)
        by_name = dict((identity(obj), obj) for obj in current)
        for index, item in enumerate(config):
            where = 'config[%d]' % index
            existing = by_name.get(item['name'])
            if existing is None:
                if item.get('password') is None:
                    problems.append('%s.password is required: service user %r does not exist on node %s and is created '
                                    'with the password given' % (where, item['name'], node))
                continue
            changes = resource.changes_needed(ENTITY, existing, self._wanted_for_state(item))
            if not changes:
                continue
            sent = {**changes, **self.write_only(item, existing)}
            if resource.write_only_at_risk(ENTITY, sent):
                options = ', '.join(sorted('%s.%s' % (where, OPTION_OF.get(path, '.'.join(path))) for path in changes))
                problems.append('%s: changing %s of existing service user %r writes the whole user back, which on this '
                                'device clears a password that is not sent; give %s.password with update_password=always '
                                'to set it in the same write' % (where, options, item['name'], where))
        if problems:
            problems[0] = 'nothing was changed: ' + problems[0]
        return problems

    def _check_rights_groups(self, client, target, node, config):
        named = [(index, group) for index, item in enumerate(config) for group in item.get('rights_groups') or []]
        if not named or client is None:
            return []
        try:
            groups = client.get('RightsGroup', node_address=target)
        except module_base.api.IPOfficeError as exc:
            if module_base.absent(exc):
                return []  # this release does not list its rights groups: the device itself refuses an unknown one
            raise
        known = sorted(obj.get('Name') for obj in groups if obj.get('Name'))
        problems = []
        for index, group in named:
            if group not in known:
                problems.append('config[%d].rights_groups: %r is not a rights group on node %s; it has: %s'
                                % (index, group, node, ', '.join(known) or 'none'))
        return problems


def main():
    module = list_resource.build_module(dict(
        config=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            password=dict(type='str', no_log=True),
            account_status=dict(type='str', choices=['Enabled', 'Disabled']),
            rights_groups=dict(type='list', elements='str'),
        )),
        update_password=dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False),
    ))
    problems = check_input(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    users = ServiceUsers(module.params)
    spec = list_resource.ItemSpec(ENTITY, identity, wanted, create=CREATE, reset=CREATE, write_only=users.write_only,
                                  protect=users.protect, check=users.check, check_reads_node=True, setting='comadmin', manual=manual)
    list_resource.ListTask(module, spec, module.params['config']).run()


if __name__ == '__main__':
    main()
