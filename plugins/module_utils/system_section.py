# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The modules that set single-value settings of a node (dns, time,
subscription) share everything but their options and checks: choosing the
node, finding each setting's carrier in the API profile, the states, check
and diff mode, the write, the re-read and the verification, and the manual
steps for the settings no carrier holds. That is here, once."""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import module_base, profiles, resource, schema, topology

STATES = ['merged', 'replaced', 'gathered', 'rendered', 'parsed']

STATE_OPTION = dict(type='str', default='merged', choices=STATES)
RUNNING_CONFIG_OPTION = dict(type='str')


def build_module(argument_spec):
    spec = dict(argument_spec, state=dict(STATE_OPTION), running_config=dict(RUNNING_CONFIG_OPTION))
    return module_base.build_module(
        argument_spec=spec, supports_check_mode=True,
        required_if=[('state', 'parsed', ['running_config'])],
        needs_connection=lambda params: params['state'] not in module_base.OFFLINE_STATES)


def _empty(setting):
    # What the device holds for a cleared setting: "" for text, 0 for a number (as a replace-style PUT leaves it).
    return 0 if profiles.SETTINGS[setting].kind == 'int' else ''


def find_carriers(profile, client, system, target, objects, settings):
    """{setting: carrier} of single-value settings on one node; objects ({resource: object}, System under
    'systems') gains the objects of any other resource a carrier names. Raises profiles.ProfileError when
    a profile other than auto names a field the node does not return."""
    carriers = {}
    for setting in settings:
        carrier = profile.carrier(setting)
        if isinstance(carrier, profiles.Field):
            if carrier.resource not in objects:
                objects[carrier.resource] = _read_one(profile, client, carrier, target or topology.lan1_address(system))
            carrier = profile.field_carrier(setting, objects[carrier.resource] or {})
        carriers[setting] = carrier
    return carriers


def _read_one(profile, client, carrier, node):
    """The node's one object of a resource other than systems (a release that keeps settings elsewhere)."""
    try:
        found = client.get(carrier.entity, node_address=node, resource=carrier.resource)
    except module_base.api.IPOfficeError as exc:
        if not module_base.absent(exc):
            raise
        if profile.probe:
            return None
        raise profiles.ProfileError('API profile %s: setting %s is carried by %s, a resource this node does not serve (%s); '
                                    'nothing was changed' % (profile.source, carrier.setting, carrier.describe(), exc))
    if len(found) != 1:
        raise module_base.ModuleInputError('%s holds %d %s objects for node %s; a setting carrier needs exactly one'
                                           % (carrier.resource, len(found), carrier.entity, node))
    return found[0]


def read_settings(carriers, objects):
    """{setting: value} in canonical form; None where no carrier holds it (unknown, not empty)."""
    return dict((setting, carrier.read(objects.get(carrier.resource) or {}) if isinstance(carrier, profiles.Field) else None)
                for setting, carrier in carriers.items())


class SectionTask(object):
    """One run of a settings module.

    options: {option: setting}, e.g. {'server': 'dns_server'}; facts use the option names.
    wanted: {option: value} of the options the task sets (None = not set).
    defaults_if_empty: {option: value} applied when the task does not set the
    option and the node holds nothing for it (8.8.8.8 when the customer has no
    DNS server), and by state=replaced.
    empty_values: {option: values} the device uses to mean "nothing set"
    besides '' (TimeSettings source 'None'), for defaults_if_empty.
    check_node: optional callable(system facts) -> message to refuse the node.
    refuse_reboot: fail, before writing, if the change would need a reboot.
    """

    def __init__(self, module, options, wanted, defaults_if_empty=None, check_node=None, refuse_reboot=False,
                 empty_values=None):
        self.module = module
        self.options = options
        self.wanted = dict((option, value) for option, value in wanted.items() if value is not None)
        self.defaults = defaults_if_empty or {}
        self.empty_values = empty_values or {}
        self.check_node = check_node
        self.refuse_reboot = refuse_reboot
        self.profile = module_base.api_profile(module)

    def run(self):
        work = self.apply if self.module.params['state'] in ('merged', 'replaced') else self.gather
        module_base.run_state(self.module, self.render, self.parse, work)

    # -- carriers and values ---------------------------------------------------

    def _carriers(self, client, system, target, objects):
        """{option: carrier}, reading the resources the carriers name (System is read already)."""
        carriers = find_carriers(self.profile, client, system, target, objects, self.options.values())
        return dict((option, carriers[setting]) for option, setting in self.options.items())

    def _facts(self, carriers, objects):
        return read_settings(carriers, objects)

    def _targets(self, current):
        """{option: value} the task wants after it runs; current is {option: value or None (unknown)}."""
        state = self.module.params['state']
        result = {}
        for option, setting in self.options.items():
            if option in self.wanted:
                result[option] = self.wanted[option]
            elif option in self.defaults and (state == 'replaced' or current.get(option) in
                                              ('', None) + tuple(self.empty_values.get(option, ()))):
                result[option] = self.defaults[option]
            elif state == 'replaced':
                result[option] = _empty(setting)
        return result

    # -- offline states ------------------------------------------------------------

    def render(self):
        """The fields this task sets, as the body of a PUT; no connection.

        With api_profile auto, the model's carriers are shown (which of them a node
        serves is known only when it is read). Settings without a carrier are
        listed in manual_steps instead. The real write adds the GUID and, where
        the entity is written whole, the rest of the object as read from the device."""
        bodies, steps = {}, []
        for option, value in self._targets({}).items():
            setting = self.options[option]
            carrier = self.profile.carrier(setting)
            if isinstance(carrier, profiles.Field):
                obj = bodies.setdefault((carrier.resource, carrier.entity), {})
                for path, device_value in carrier.changes({}, value).items():
                    resource.set_path(obj, path, device_value)
            elif isinstance(carrier, profiles.Manual):
                steps.append(profiles.manual_step(setting, None, profiles.canonical(setting, value), carrier.why))
        objects = [{entity: schema.to_device(entity, obj)} for (_resource, entity), obj in sorted(bodies.items())]
        rendered = {'data': {'ws_object': objects[0] if len(objects) == 1 else objects}} if objects else {'data': {'ws_object': ''}}
        if steps:
            rendered['manual_steps'] = steps
        return rendered

    def parse(self, text):
        systems = module_base.parse_saved_answer(self.module, text, 'System')
        if len(systems) != 1:
            self.module.fail_json(msg='running_config holds %d System objects; save the answer for one node '
                                      '(GET systems?ipaddress=<LAN1>)' % len(systems))
        carriers = {}
        for option, setting in self.options.items():
            carrier = self.profile.carrier(setting)
            if isinstance(carrier, profiles.Field) and carrier.resource == 'systems':
                try:
                    carrier = self.profile.field_carrier(setting, systems[0])
                except profiles.ProfileError as exc:
                    self.module.fail_json(msg=str(exc))
            carriers[option] = carrier if not isinstance(carrier, profiles.Items) else profiles.Manual(setting, '')
        return self._facts(carriers, {'systems': systems[0]})

    # -- connected states ------------------------------------------------------------

    def _node(self, client):
        system, target = topology.choose_node(client.get('System'), self.module.params['node_address'])
        facts = schema.to_facts('System', system)
        facts.update(topology.describe(facts.get('system_type')))
        if self.check_node:
            refusal = self.check_node(facts)
            if refusal:
                raise module_base.ModuleInputError(refusal)
        return system, target

    def _read(self, client):
        system, target = self._node(client)
        objects = {'systems': system}
        carriers = self._carriers(client, system, target, objects)
        return system, target, objects, carriers

    def gather(self, client):
        system, target, objects, carriers = self._read(client)
        return dict(changed=False, gathered=self._facts(carriers, objects), node_address=target or topology.lan1_address(system),
                    carriers=dict((option, carrier.describe()) for option, carrier in carriers.items()),
                    api_profile=self.profile.name)

    def apply(self, client):
        system, target, objects, carriers = self._read(client)
        node = target or topology.lan1_address(system)
        before = self._facts(carriers, objects)
        targets = self._targets(before)
        changes, steps, reboot = {}, [], False
        for option, value in targets.items():
            setting = self.options[option]
            carrier = carriers[option]
            if isinstance(carrier, profiles.Manual):
                step = profiles.manual_step(setting, node, profiles.canonical(setting, value), carrier.why, system.get('Name'))
                if option not in self.wanted and option in self.defaults:
                    step['note'] = 'only if the field is empty: keep a value the customer already has'
                steps.append(step)
                continue
            found = carrier.changes(objects[carrier.resource], value)
            if found:
                changes.setdefault((carrier.resource, carrier.entity), {}).update(found)
                reboot = reboot or profiles.SETTINGS[setting].reboot or resource.reboot_needed(carrier.entity, found)
        predicted = dict((key, resource.apply_changes(objects[key[0]], found)) for key, found in changes.items())
        after = self._facts(carriers, dict(objects, **dict((key[0], obj) for key, obj in predicted.items())))
        result = dict(changed=bool(changes), before=before, after=after, node_address=node, reboot_required=reboot,
                      manual_steps=steps, carriers=dict((option, carrier.describe()) for option, carrier in carriers.items()),
                      api_profile=self.profile.name)
        if self.module._diff:
            result['diff'] = dict(before=before, after=after)
        if steps:
            self.module.warn('%d setting%s of %s cannot be written through this node\'s API (profile %s); a person must '
                             'enter %s in Web Manager: %s' % (
                                 len(steps), '' if len(steps) == 1 else 's', node, self.profile.name,
                                 'it' if len(steps) == 1 else 'them', '; '.join(profiles.describe_step(step) for step in steps)))
        if reboot and self.refuse_reboot:
            raise module_base.ModuleInputError(
                'changing %s on %s needs a reboot and reboot_policy is fail: nothing was changed'
                % (', '.join(sorted(f for f in after if after[f] != before.get(f))), node))
        if not changes or self.module.check_mode:
            self._reboot_step(result, system, node, before, after)
            return result
        for (resource_name, entity), found in sorted(changes.items()):
            answer = self._write(client, target, resource_name, entity, objects[resource_name], found)
            result['reboot_required'] = result['reboot_required'] or (answer is not None and answer.reboot == 'required')
            objects[resource_name] = self._verify(client, target, resource_name, entity, objects[resource_name], found, node)
        result['after'] = self._facts(carriers, objects)
        if 'diff' in result:
            result['diff']['after'] = result['after']
        if result['reboot_required']:
            self.module.warn('%s needs a reboot before the change takes effect (the change is not mergeable); '
                             'the module does not reboot the system' % node)
        self._reboot_step(result, system, node, before, result['after'])
        return result

    def _reboot_step(self, result, system, node, before, after):
        """A change that acts only after a reboot leaves a step for a person: the API documents no reboot."""
        if not result['reboot_required']:
            return
        changed = ', '.join(sorted(option for option in after if after[option] != before.get(option))) or 'the change'
        result['manual_steps'].append(profiles.manual_step(
            'reboot', node, 'reboot the system: %s takes effect then' % changed,
            'an offline setting changed, and the Management API documents no reboot', system.get('Name')))

    def _reread(self, client, target, resource_name, entity, old):
        found = client.get(entity, node_address=target, resource=resource_name)
        return ([obj for obj in found if obj.get(schema.GUID_KEY) == old.get(schema.GUID_KEY)] or found)[0]

    def _write(self, client, target, resource_name, entity, current, found):
        payload = resource.build_payload(entity, current, found, update=self.profile.update_of(resource_name, entity))
        return module_base.write_and_confirm(
            self.module, client, lambda: client.call('PUT', resource_name, node_address=target, objects=[(entity, payload)]),
            lambda: resource.write_outcome(entity, current, self._reread(client, target, resource_name, entity, current), found))

    def _verify(self, client, target, resource_name, entity, current, found, node):
        reread = self._reread(client, target, resource_name, entity, current)
        problems = resource.verify_write(entity, current, reread, found)
        if problems:
            raise module_base.ModuleInputError('the write to %s was not applied as intended: %s' % (node, '; '.join(problems)))
        return reread
