# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Modules that manage a list of objects on a node (IP routes, service users)
share the states and the write discipline: plan every operation from one read,
refuse the whole plan before any write if any step is unsafe, write, read the
list again, and verify that the planned objects changed as intended and every
other object stayed exactly as it was."""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import module_base, profiles, resource, schema, topology

STATES = ['merged', 'replaced', 'overridden', 'deleted', 'gathered', 'rendered', 'parsed']
WRITE_STATES = module_base.WRITE_STATES
WRITE_ONLY_MASK = '<write-only: given in the module options, never shown>'


def build_module(argument_spec, **kwargs):
    spec = dict(argument_spec, state=dict(type='str', default='merged', choices=STATES),
                running_config=dict(type='str'))
    return module_base.build_module(
        argument_spec=spec, supports_check_mode=True,
        required_if=[('state', 'parsed', ['running_config'])],
        needs_connection=lambda params: params['state'] not in module_base.OFFLINE_STATES, **kwargs)


def top_level_fact_paths(entity_name):
    return dict((spec.fact, (key,)) for key, spec in schema.entity(entity_name).fields.items()
                if getattr(spec, 'fact', None) and spec.writable)


def _no_write_only(item, existing):
    return {}


def _unprotected(obj):
    return None


def _no_checks(system, current, config):
    return []


class ItemSpec(object):
    """What a list module tells the engine about its items.

    entity: schema entity name.
    identity(canonical object) -> hashable key; items with the same key are the same item.
    wanted(item options) -> {path: value}: what the task sets on an item (write-only fields excluded).
    create: {path: value} a new item starts from.
    reset: {path: value} a replaced/overridden item gets for the fields the task leaves out.
    write_only(item options, existing canonical or None) -> {path: value} of write-only fields to send.
    protect(canonical) -> reason or None: an item that overridden/deleted must never remove.
    check(system, current items, config) -> [problem]: checks that need the node's data, before any write.
    check_reads_node: True if check also needs to read other resources of the node; it is then called as
        check(system, current, config, client=client, target=node address or None) and may only GET.
    setting: the setting (profiles.py) whose carrier is this list's resource on the node's release.
    manual(item, state) -> (setting, label, value): the manual step for one configured item when the release's API
        does not carry the list.
    """

    def __init__(self, entity, identity, wanted, create=None, reset=None, write_only=_no_write_only,
                 protect=_unprotected, check=_no_checks, check_reads_node=False, setting=None, manual=None):
        self.setting = setting
        self.manual = manual
        self.ENTITY = entity
        self.identity = identity
        self.wanted = wanted
        self.CREATE = create or {}
        self.RESET = reset or {}
        self.write_only = write_only
        self.protect = protect
        self.check = check
        self.check_reads_node = check_reads_node


class Operation(object):
    def __init__(self, method, key, current=None, changes=None):
        self.method = method  # POST, PUT or DELETE
        self.key = key
        self.current = current
        self.changes = changes or {}

    def describe(self):
        changed = sorted('.'.join(path) for path in self.changes)
        return dict(method=self.method, item=self.key, fields=changed)


class ListTask(object):
    """One run of a list module, driven by an ItemSpec."""

    def __init__(self, module, spec, config):
        self.module = module
        self.spec = spec
        self.entity = spec.ENTITY
        self.config = config or []
        self.profile = module_base.api_profile(module)
        self.carrier = self.profile.carrier(spec.setting)

    # -- offline states ----------------------------------------------------

    def run(self):
        work = self.apply if self.module.params['state'] in WRITE_STATES else self.gather
        module_base.run_state(self.module, self.render, self.parse, work)

    def facts(self, obj):
        return schema.to_facts(self.entity, obj)

    def render(self):
        """POST bodies for the configured items; write-only values masked."""
        objects = []
        for item in self.config:
            obj = {}
            for path, value in {**self.spec.CREATE, **self.spec.wanted(item)}.items():
                resource.set_path(obj, path, value)
            for path in self.spec.write_only(item, None):
                resource.set_path(obj, path, WRITE_ONLY_MASK)
            objects.append({self.entity: schema.to_device(self.entity, obj)})
        if not objects:
            return {'data': {'ws_object': ''}}
        return {'data': {'ws_object': objects[0] if len(objects) == 1 else objects}}

    def parse(self, text):
        return [self.facts(obj) for obj in module_base.parse_saved_answer(self.module, text, self.entity)]

    # -- connected states --------------------------------------------------

    def _node(self, client):
        system, target = topology.choose_node(client.get('System'), self.module.params['node_address'])
        return system, target

    def _read_items(self, client, target):
        """The node's items, or None when its release has no carrier for them (a manual setting)."""
        if isinstance(self.carrier, profiles.Manual):
            return None
        try:
            # In the device's names and forms; the module reasons in the model's.
            answer = client.get(self.carrier.entity, node_address=target, resource=self.carrier.resource)
            found = [self.carrier.to_model(obj) for obj in answer]
        except module_base.api.IPOfficeError as exc:
            if not module_base.absent(exc):
                raise
            if self.carrier.probe:
                self.carrier = profiles.Manual(self.spec.setting, 'the node does not serve %s' % self.carrier.resource)
                return None
            raise profiles.ProfileError('API profile %s: setting %s is carried by resource %s, which this node does not '
                                        'serve (%s); nothing was changed' % (self.profile.source, self.spec.setting,
                                                                             self.carrier.resource, exc))
        wrong = None if self.carrier.probe else self.carrier.wrong_form(found)
        if wrong:
            raise profiles.ProfileError('API profile %s: setting %s at %s %s; nothing was changed. The profile may describe '
                                        'another release' % (self.profile.source, self.spec.setting, self.carrier.resource, wrong))
        return found

    def gather(self, client):
        system, target = self._node(client)
        items = self._read_items(client, target)
        return dict(changed=False, gathered=None if items is None else [self.facts(obj) for obj in items],
                    node_address=target or topology.lan1_address(system), carrier=self.carrier.describe(),
                    api_profile=self.profile.name)

    def manual_steps(self, system, node):
        """One step per configured item for a person in Web Manager."""
        state = self.module.params['state']
        steps = []
        for item in self.config:
            setting, label, value = self.spec.manual(item, state)
            step = profiles.manual_step(setting, node, value, self.carrier.why, system.get('Name'))
            if label:
                step['label'] = label
            steps.append(step)
        if state == 'overridden':
            steps.append(dict(profiles.manual_step(self.spec.setting, node, 'remove every record not listed above', self.carrier.why,
                                                   system.get('Name')), label='other records'))
        return steps

    def plan(self, current):
        """Operations for the state, from one read. Raises ModuleInputError if any is unsafe."""
        state = self.module.params['state']
        by_key = {}
        for obj in current:
            by_key.setdefault(self.spec.identity(obj), []).append(obj)
        ops, wanted_keys, problems = [], set(), []
        for item in self.config:
            key = self.spec.identity(self.item_object(item))
            wanted_keys.add(key)
            existing = by_key.get(key, [])
            if state == 'deleted':
                ops.extend(Operation('DELETE', key, current=obj) for obj in existing)
                continue
            if len(existing) > 1:
                problems.append('%s %s exists %d times on the node; remove the duplicates first'
                                % (self.entity, self._label(key), len(existing)))
                continue
            wanted = self.spec.wanted(item)
            if state in ('replaced', 'overridden'):
                wanted = {**self.spec.RESET, **wanted}
            if not existing:
                changes = {**self.spec.CREATE, **wanted}
                changes.update(self.spec.write_only(item, None))
                ops.append(Operation('POST', key, changes=changes))
                continue
            obj = existing[0]
            changes = resource.changes_needed(self.entity, obj, wanted)
            if changes:
                changes.update(self.spec.write_only(item, obj))
            elif self.spec.write_only(item, obj):
                changes = self.spec.write_only(item, obj)
            if changes:
                risk = resource.write_only_at_risk(self.entity, changes)
                if risk:
                    problems.append('%s %s: changing %s needs the whole object written back, which would clear its %s; '
                                    'give the %s to set it as well' % (
                                        self.entity, self._label(key), ', '.join(sorted('.'.join(p) for p in changes)),
                                        ', '.join(risk), ', '.join(r.lower() for r in risk)))
                    continue
                ops.append(Operation('PUT', key, current=obj, changes=changes))
        if state == 'overridden':
            for key, objs in sorted(by_key.items(), key=lambda kv: repr(kv[0])):
                if key in wanted_keys:
                    continue
                for obj in objs:
                    ops.append(Operation('DELETE', key, current=obj))
        for op in ops:
            if op.method == 'DELETE':
                reason = self.spec.protect(op.current)
                if reason:
                    problems.append('%s %s cannot be removed: %s' % (self.entity, self._label(op.key), reason))
        if problems:
            raise module_base.ModuleInputError('nothing was changed: ' + '; '.join(problems))
        return ops

    def item_object(self, item):
        """A configured item as a canonical object, so identity() reads it like a device object."""
        obj = {}
        for path, value in {**self.spec.CREATE, **self.spec.wanted(item)}.items():
            resource.set_path(obj, path, value)
        return obj

    def _label(self, key):
        return '/'.join(str(part) for part in key) if isinstance(key, tuple) else str(key)

    def apply(self, client):
        system, target = self._node(client)
        node = target or topology.lan1_address(system)
        current = self._read_items(client, target)
        if current is None:
            steps = self.manual_steps(system, node)
            if steps:
                self.module.warn('%d change%s on %s cannot be made through this node\'s API (profile %s); a person must make '
                                 '%s in Web Manager: %s' % (len(steps), '' if len(steps) == 1 else 's', node, self.profile.name,
                                                            'it' if len(steps) == 1 else 'them',
                                                            '; '.join(profiles.describe_step(step) for step in steps)))
            return dict(changed=False, node_address=node, operations=[], before=None, after=None, manual_steps=steps,
                        carrier=self.carrier.describe(), api_profile=self.profile.name)
        if self.spec.check_reads_node:
            problems = self.spec.check(system, current, self.config, client=client, target=target)
        else:
            problems = self.spec.check(system, current, self.config)
        if problems:
            raise module_base.ModuleInputError('; '.join(problems))
        ops = self.plan(current)
        before = [self.facts(obj) for obj in current]
        affected_before = sorted((self.facts(op.current) for op in ops if op.current), key=repr)
        predicted = self._predict(current, ops)
        result = dict(changed=bool(ops), node_address=node, operations=[op.describe() for op in ops],
                      before=before, after=[self.facts(obj) for obj in predicted], manual_steps=[],
                      carrier=self.carrier.describe(), api_profile=self.profile.name)
        if self.module._diff:
            # Ansible's diff display takes a mapping (or text), not a bare list: the items go under "config".
            result['diff'] = dict(before={'config': affected_before}, after={'config': self._affected_after(predicted, ops)})
        if not ops or self.module.check_mode:
            return result
        for op in ops:
            module_base.write_and_confirm(self.module, client, self._writer(client, target, op),
                                          lambda op=op: self.outcome(current, self._read_items(client, target), op))
        after = self._read_items(client, target)
        problems = self.verify(current, after, ops)
        if problems:
            raise module_base.ModuleInputError('the writes to %s were not applied as intended: %s' % (node, '; '.join(problems)))
        result['after'] = [self.facts(obj) for obj in after]
        if 'diff' in result:
            result['diff']['after'] = {'config': self._affected_after(after, ops)}
        return result

    def _writer(self, client, target, op):
        """The call that carries out one operation."""
        if op.method == 'POST':
            obj = {}
            for path, value in op.changes.items():
                resource.set_path(obj, path, value)
            return lambda: client.call('POST', self.entity_resource, node_address=target,
                                       objects=[(self.carrier.entity, self.carrier.to_device(schema.to_device(self.entity, obj)))])
        if op.method == 'PUT':
            payload = resource.build_payload(self.entity, op.current, op.changes,
                                             update=self.profile.update_of(self.carrier.resource, self.entity))
            return lambda: client.call('PUT', self.entity_resource, node_address=target,
                                       objects=[(self.carrier.entity, self.carrier.to_device(payload))])
        return lambda: client.call('DELETE', self.entity_resource, node_address=target, guid=op.current.get(schema.GUID_KEY))

    def outcome(self, before, after, op):
        """What a read shows of one operation whose answer was lost: resource.APPLIED, NOT_APPLIED or problems."""
        after_by_guid = dict((obj.get(schema.GUID_KEY), obj) for obj in after)
        if op.method == 'POST':
            before_guids = set(obj.get(schema.GUID_KEY) for obj in before)
            new = [obj for obj in after if obj.get(schema.GUID_KEY) not in before_guids and self.spec.identity(obj) == op.key]
            if not new:
                return resource.NOT_APPLIED
            if len(new) > 1:
                return ['%s %s was created %d times' % (self.entity, self._label(op.key), len(new))]
            problems = [p for p in resource.verify_write(self.entity, {}, new[0], op.changes) if 'although the task did not set it' not in p]
            return problems or resource.APPLIED
        guid = op.current.get(schema.GUID_KEY)
        if op.method == 'DELETE':
            if guid not in after_by_guid:
                return resource.APPLIED
            changed = resource.differences(self.entity, op.current, after_by_guid[guid])
            return ['%s %s is still there, changed in %s' % (self.entity, self._label(op.key), ', '.join('.'.join(p) for p in changed))
                    ] if changed else resource.NOT_APPLIED
        if guid not in after_by_guid:
            return ['%s %s vanished' % (self.entity, self._label(op.key))]
        return resource.write_outcome(self.entity, op.current, after_by_guid[guid], op.changes)

    @property
    def entity_resource(self):
        return self.carrier.resource

    def _predict(self, current, ops):
        deleted = set(id(op.current) for op in ops if op.method == 'DELETE')
        changed = dict((id(op.current), op) for op in ops if op.method == 'PUT')
        result = []
        for obj in current:
            if id(obj) in deleted:
                continue
            result.append(resource.apply_changes(obj, changed[id(obj)].changes) if id(obj) in changed else obj)
        for op in ops:
            if op.method == 'POST':
                obj = {}
                for path, value in op.changes.items():
                    resource.set_path(obj, path, value)
                result.append(schema.normalise(self.entity, schema.to_device(self.entity, obj)))
        return result

    def _affected_after(self, items, ops):
        keys = set(op.key for op in ops if op.method != 'DELETE')
        return sorted((self.facts(obj) for obj in items if self.spec.identity(obj) in keys), key=repr)

    def verify(self, before, after, ops):
        """Every planned change is there, and nothing else changed."""
        problems = []
        after_by_guid = dict((obj.get(schema.GUID_KEY), obj) for obj in after)
        touched = set()
        for op in ops:
            if op.method == 'DELETE':
                guid = op.current.get(schema.GUID_KEY)
                touched.add(guid)
                if guid in after_by_guid:
                    problems.append('%s %s is still there after DELETE' % (self.entity, self._label(op.key)))
            elif op.method == 'PUT':
                guid = op.current.get(schema.GUID_KEY)
                touched.add(guid)
                problems.extend('%s %s: %s' % (self.entity, self._label(op.key), p) for p in
                                resource.verify_write(self.entity, op.current, after_by_guid.get(guid, {}), op.changes))
        before_guids = set(obj.get(schema.GUID_KEY) for obj in before)
        for op in ops:
            if op.method != 'POST':
                continue
            new = [obj for obj in after if obj.get(schema.GUID_KEY) not in before_guids and self.spec.identity(obj) == op.key]
            if len(new) != 1:
                problems.append('%s %s was not created' % (self.entity, self._label(op.key)))
                continue
            touched.add(new[0].get(schema.GUID_KEY))
            problems.extend('%s %s: %s' % (self.entity, self._label(op.key), p) for p in
                            resource.verify_write(self.entity, {}, new[0], op.changes)
                            if 'although the task did not set it' not in p)
        for obj in before:
            guid = obj.get(schema.GUID_KEY)
            if guid in touched:
                continue
            if guid not in after_by_guid:
                problems.append('%s %s vanished although the task did not remove it' % (self.entity, self._label(self.spec.identity(obj))))
            else:
                problems.extend('%s %s: %s' % (self.entity, self._label(self.spec.identity(obj)), p) for p in
                                resource.verify_write(self.entity, obj, after_by_guid[guid], {}))
        extra = [obj for obj in after if obj.get(schema.GUID_KEY) not in before_guids and obj.get(schema.GUID_KEY) not in touched]
        problems.extend('%s %s appeared although the task did not create it' % (self.entity, self._label(self.spec.identity(obj)))
                        for obj in extra)
        return problems
