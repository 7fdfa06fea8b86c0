# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The modules that set one section of the System object (DNS, TimeSettings,
Subscription) share everything but their options and checks: choosing the
node, the states, check and diff mode, the write, the re-read and the
verification. That is here, once."""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import module_base, resource, schema, topology

STATES = ['merged', 'replaced', 'gathered', 'rendered', 'parsed']

STATE_OPTION = dict(type='str', default='merged', choices=STATES)
RUNNING_CONFIG_OPTION = dict(type='str')


def build_module(argument_spec):
    spec = dict(argument_spec, state=dict(STATE_OPTION), running_config=dict(RUNNING_CONFIG_OPTION))
    return module_base.build_module(
        argument_spec=spec, supports_check_mode=True,
        required_if=[('state', 'parsed', ['running_config'])],
        needs_connection=lambda params: params['state'] not in module_base.OFFLINE_STATES)


def _empty(spec):
    # What the device holds for a cleared field: "" for text, 0 for a number (as a replace-style PUT leaves it).
    return 0 if spec.kind == 'int' else ''


class SectionTask(object):
    """One run of a section module.

    wanted: {fact: value} of the options the task sets (None = not set).
    defaults_if_empty: {fact: value} applied when the task does not set the
    fact and the device holds nothing for it (8.8.8.8 when the customer has no
    DNS server), and by state=replaced.
    empty_values: {fact: values} the device uses to mean "nothing set" besides
    '' (TimeSettings source 'None'), for defaults_if_empty.
    check_node: optional callable(system facts) -> message to refuse the node.
    refuse_reboot: fail, before writing, if the change would need a reboot.
    """

    def __init__(self, module, section, wanted, defaults_if_empty=None, check_node=None, refuse_reboot=False,
                 empty_values=None):
        self.empty_values = empty_values or {}
        self.refuse_reboot = refuse_reboot
        self.module = module
        self.section = section
        self.paths = schema.section_fact_paths('System', section)
        self.wanted = dict((fact, value) for fact, value in wanted.items() if value is not None)
        self.defaults = defaults_if_empty or {}
        self.check_node = check_node

    def run(self):
        work = self.apply if self.module.params['state'] in ('merged', 'replaced') else self.gather
        module_base.run_state(self.module, self.render, self.parse, work)

    def _facts(self, system):
        return schema.to_facts('System', {self.section: system.get(self.section, {})})[
            schema.entity('System').fields[self.section].fact]

    def _target_paths(self, current):
        state = self.module.params['state']
        result = {}
        for fact, path in self.paths.items():
            if fact in self.wanted:
                result[path] = self.wanted[fact]
            elif fact in self.defaults and (state == 'replaced' or resource.get_path(current, path) in
                                            ('', None) + tuple(self.empty_values.get(fact, ()))):
                result[path] = self.defaults[fact]
            elif state == 'replaced':
                result[path] = _empty(resource.field_at('System', path))
        return result

    def render(self):
        """The fields this task sets, as the body of a PUT; no connection.

        The real write adds the GUID and, where the schema declares replace,
        the rest of the object as read from the device."""
        obj = {}
        for path, value in self._target_paths({}).items():
            resource.set_path(obj, path, value)
        return {'data': {'ws_object': {'System': schema.to_device('System', obj)}}}

    def parse(self, text):
        systems = module_base.parse_saved_answer(self.module, text, 'System')
        if len(systems) != 1:
            self.module.fail_json(msg='running_config holds %d System objects; save the answer for one node '
                                      '(GET systems?ipaddress=<LAN1>)' % len(systems))
        return self._facts(systems[0])

    def _node(self, client):
        system, target = topology.choose_node(client.get('System'), self.module.params['node_address'])
        facts = schema.to_facts('System', system)
        facts.update(topology.describe(facts.get('system_type')))
        if self.check_node:
            refusal = self.check_node(facts)
            if refusal:
                raise module_base.ModuleInputError(refusal)
        return system, target

    def gather(self, client):
        system, target = self._node(client)
        return dict(changed=False, gathered=self._facts(system), node_address=target or topology.lan1_address(system))

    def apply(self, client):
        system, target = self._node(client)
        changes = resource.changes_needed('System', system, self._target_paths(system))
        before = self._facts(system)
        after = self._facts(resource.apply_changes(system, changes))
        result = dict(changed=bool(changes), before=before, after=after, node_address=target or topology.lan1_address(system),
                      reboot_required=bool(changes) and resource.reboot_needed('System', changes))
        if self.module._diff:
            result['diff'] = dict(before=before, after=after)
        if result['reboot_required'] and self.refuse_reboot:
            raise module_base.ModuleInputError(
                'changing %s on %s needs a reboot and reboot_policy is fail: nothing was changed'
                % (', '.join(sorted(f for f in after if after[f] != before.get(f))), result['node_address']))
        if not changes or self.module.check_mode:
            return result
        payload = resource.build_payload('System', system, changes)

        def read_system():
            found = client.get('System', node_address=target)
            return [s for s in found if s.get(schema.GUID_KEY) == system.get(schema.GUID_KEY)] or found

        answer = module_base.write_and_confirm(
            self.module, client, lambda: client.call('PUT', 'systems', node_address=target, objects=[('System', payload)]),
            lambda: resource.write_outcome('System', system, read_system()[0], changes))
        result['reboot_required'] = result['reboot_required'] or (answer is not None and answer.reboot == 'required')
        reread = read_system()
        problems = resource.verify_write('System', system, reread[0], changes)
        if problems:
            raise module_base.ModuleInputError('the write to %s was not applied as intended: %s'
                                               % (result['node_address'], '; '.join(problems)))
        result['after'] = self._facts(reread[0])
        if 'diff' in result:
            result['diff']['after'] = result['after']
        if result['reboot_required']:
            self.module.warn('%s needs a reboot before the change takes effect (the change is not mergeable); '
                             'the module does not reboot the system' % result['node_address'])
        return result
