# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Compare, build payloads and verify writes: the diff logic, once.

Objects here are canonical (schema.normalise). A change is a mapping from a
path (tuple of element names, e.g. ('DNS', 'DNSServerIPAddress')) to the
wanted value. The functions are pure so unit tests can drive them; the
modules call them between a read and a write.
"""

from __future__ import annotations

import copy

from ansible_collections.ipoffice.subscription.plugins.module_utils import schema


def field_at(entity_name, path):
    """The schema spec at a path (sections only), or None."""
    fields = schema.entity(entity_name).fields
    spec = None
    for key in path:
        spec = fields.get(key) if fields is not None else None
        if spec is None:
            return None
        fields = spec.fields if spec.kind == 'section' else None
    return spec


def get_path(obj, path, default=None):
    node = obj
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def set_path(obj, path, value):
    node = obj
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def comparable(spec, value):
    """Values that mean the same compare equal: list order where it does not matter, host name case."""
    if spec is not None and spec.kind == 'list':
        return sorted(value or [])
    if spec is not None and getattr(spec, 'empty_equals', None) is not None and value in ('', None):
        return spec.empty_equals
    if spec is not None and spec.kind == 'str' and getattr(spec, 'case_insensitive', False):
        return (value or '').lower()
    return value


def changes_needed(entity_name, current, wanted):
    """The subset of wanted {path: value} that differs from current."""
    result = {}
    for path, value in wanted.items():
        spec = field_at(entity_name, path)
        if spec is not None and spec.write_only:
            result[path] = value  # cannot be read back: the caller decides whether to send it
        elif comparable(spec, get_path(current, path)) != comparable(spec, value):
            result[path] = value
    return result


def apply_changes(current, changes):
    result = copy.deepcopy(current)
    for path, value in changes.items():
        set_path(result, path, value)
    return result


def _writable(fields, obj):
    """The object without the fields the schema says a write must not carry (read-only, computed); an
    item's key attribute stays, because it names the item. Fields the schema does not know are kept."""
    result = {}
    for key, value in (obj or {}).items():
        spec = fields.get(key) if fields is not None else None
        if spec is None:
            result[key] = value
        elif spec.kind == 'section':
            result[key] = _writable(spec.fields, value) if isinstance(value, dict) else value
        elif spec.kind == 'items':
            result[key] = [_writable(spec.fields, item) if isinstance(item, dict) else item for item in value]
        elif spec.writable or key.startswith('@'):
            result[key] = value
    return result


def build_payload(entity_name, current, changes, update=None):
    """The device-form object to PUT, by how the device applies a PUT (the schema's declaration for the
    entity, or update, an API profile's). Never a read-only or computed field; never a write-only one
    (a password reads back empty) unless a change sets it.

    merge: the object's identity (its GUID) and each touched section (a top-level field, with what it
    holds) as read, with the changes applied: a small write, as Avaya's examples make them.
    replace: the whole object as read, with the changes applied, so nothing is cleared.
    """
    ent = schema.entity(entity_name)
    full = apply_changes(current, changes)
    for path in schema.write_only_paths(ent.fields):
        if path not in changes:
            schema.drop_path(full, path)
    full = _writable(ent.fields, full)
    if (update or ent.update) == 'merge':
        obj = {}
        if schema.GUID_KEY in current:
            obj[schema.GUID_KEY] = current[schema.GUID_KEY]
        for key in sorted(set(path[0] for path in changes)):
            if key in full:
                obj[key] = full[key]
    else:
        obj = full
    return schema.to_device(ent.name, obj)


def write_only_at_risk(entity_name, changes):
    """Write-only fields a replace would clear because the task does not set them.

    Only for entities whose declaration says the device clears absent
    write-only fields on a replace (schema Entity.clears_write_only)."""
    ent = schema.entity(entity_name)
    if ent.update != 'replace' or not ent.clears_write_only:
        return []
    return ['.'.join(path) for path in schema.write_only_paths(ent.fields) if path not in changes]


def _leaves(fields, obj, prefix=()):
    """(path, spec, value) of every scalar the object holds, known or not."""
    for key, value in (obj or {}).items():
        spec = fields.get(key) if fields is not None else None
        path = prefix + (key,)
        if spec is not None and spec.kind == 'section':
            yield from _leaves(spec.fields, value, path)
        elif spec is None and isinstance(value, dict):
            yield from _leaves(None, value, path)
        else:
            yield path, spec, value


def differences(entity_name, before, after):
    """Paths whose values differ between two canonical objects (write-only fields ignored)."""
    fields = schema.entity(entity_name).fields
    old = dict((path, (spec, value)) for path, spec, value in _leaves(fields, before))
    new = dict((path, (spec, value)) for path, spec, value in _leaves(fields, after))
    result = []
    for path in sorted(set(old) | set(new)):
        spec = (old.get(path) or new.get(path))[0]
        if spec is not None and getattr(spec, 'write_only', False):
            continue
        if comparable(spec, old.get(path, (None, None))[1]) != comparable(spec, new.get(path, (None, None))[1]):
            result.append(path)
    return result


def verify_write(entity_name, before, after, changes):
    """Problems after a write: intended changes missing, or anything else changed."""
    problems = []
    for path, value in changes.items():
        spec = field_at(entity_name, path)
        if spec is not None and spec.write_only:
            continue
        if comparable(spec, get_path(after, path)) != comparable(spec, value):
            problems.append('%s is %r, not %r as written' % ('.'.join(path), get_path(after, path), value))
    for path in differences(entity_name, before, after):
        if path not in changes:
            problems.append('%s changed from %r to %r although the task did not set it'
                            % ('.'.join(path), get_path(before, path), get_path(after, path)))
    return problems


def reboot_needed(entity_name, changes):
    return any(getattr(field_at(entity_name, path), 'reboot', False) for path in changes)


# What a read after a write of unknown outcome shows (module_base.write_and_confirm).
APPLIED = 'applied'
NOT_APPLIED = 'not applied'


def write_outcome(entity_name, before, after, changes):
    """APPLIED if after is before with the changes, NOT_APPLIED if after is exactly before,
    else the list of problems (a mix, or something else changed)."""
    hidden = [path for path in changes if getattr(field_at(entity_name, path), 'write_only', False)]
    if hidden and len(hidden) == len(changes):
        return ['only write-only fields were sent (%s), which read back empty, so a read cannot tell whether they were applied'
                % ', '.join(sorted('.'.join(path) for path in hidden))]
    problems = verify_write(entity_name, before, after, changes)
    if not problems:
        return APPLIED
    if not differences(entity_name, before, after):
        return NOT_APPLIED
    return problems
