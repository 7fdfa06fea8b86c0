# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX files under extensions/awx/, the execution environment definition
and the molecule scenarios: their structure, and that they match the roles'
meta/argument_specs.yml (for each role that exists)."""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from jinja2 import StrictUndefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
AWX = os.path.join(ROOT, 'extensions', 'awx')
SURVEYS = os.path.join(AWX, 'surveys')

# Which roles each job template's survey feeds (site.yml runs prerequisites, then validate).
SURVEY_ROLES = {
    'site.json': ('prerequisites', 'validate'),
    'validate.json': ('validate',),
    'monitor.json': ('monitor',),
}
SURVEY_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')
# Argument spec types each survey type can feed. AWX answers are strings or
# numbers, never booleans: ansible-core 2.19 refuses a string as a conditional.
COMPATIBLE = {
    'text': ('str', 'path', 'raw'),
    'textarea': ('str', 'path', 'raw'),
    'password': ('str', 'raw'),
    'integer': ('int', 'raw'),
    'float': ('float', 'raw'),
    'multiplechoice': ('str', 'raw'),
    'multiselect': ('list',),
}
# Environment variables AWX refuses in a credential type's env injector.
AWX_ENV_BLOCKLIST = ('VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID',
                     'INVENTORY_UPDATE_ID', 'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES',
                     'CALLBACK_QUEUE', 'CALLBACK_CONNECTION', 'CACHE', 'JOB_CALLBACK_DEBUG', 'INVENTORY_HOSTVARS',
                     'AWX_HOST', 'PROJECT_REVISION', 'SUPERVISOR_CONFIG_PATH')


def _yaml(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _json(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as handle:
        return json.load(handle)


def _role_options(role):
    """The options of a role's main entry point, or None when the role does not exist (yet)."""
    path = os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')
    if not os.path.exists(path):
        return None
    return _yaml('roles', role, 'meta', 'argument_specs.yml')['argument_specs']['main'].get('options', {})


def _templated(value):
    return isinstance(value, str) and '{{' in value


def _inputs():
    return _yaml('extensions', 'awx', 'credential_type', 'inputs.yml')


def _injectors():
    return _yaml('extensions', 'awx', 'credential_type', 'injectors.yml')


def _templates(injectors):
    """(section, key, template) for every template of the injectors."""
    for section in ('file', 'env', 'extra_vars'):
        for key, template in injectors.get(section, {}).items():
            yield section, key, template


# --- credential type ----------------------------------------------------------------


def test_the_credential_type_declares_its_fields_and_marks_the_secrets():
    inputs = _inputs()
    assert set(inputs) <= {'fields', 'required', 'dependencies'}
    fields = dict((field['id'], field) for field in inputs['fields'])
    assert len(fields) == len(inputs['fields']), 'field ids must be unique'
    for field in inputs['fields']:
        assert set(field) <= {'id', 'type', 'label', 'help_text', 'secret', 'multiline', 'format', 'choices', 'default',
                              'ask_at_runtime'}, field
        assert re.match(r'^[a-z_][a-z0-9_]*$', field['id']) and field['type'] in ('string', 'boolean') and field['label']
    assert {'username', 'password', 'api_ca', 'client_cert', 'client_key'} <= set(fields)
    assert fields['password'].get('secret') is True
    assert fields['client_key'].get('secret') is True
    assert fields['username'].get('secret', False) is False
    assert set(inputs['required']) <= set(fields)
    assert {'username', 'password', 'api_ca'} <= set(inputs['required'])
    # The client identity is optional: the validate role then reports two checks as not measured.
    assert 'client_cert' not in inputs['required'] and 'client_key' not in inputs['required']


def test_injectors_reference_only_defined_inputs_and_file_labels():
    fields = [field['id'] for field in _inputs()['fields']]
    injectors = _injectors()
    assert set(injectors) <= {'file', 'env', 'extra_vars'}
    labels = [label.split('.', 1)[1] for label in injectors.get('file', {})]
    assert all(label.startswith('template.') for label in injectors.get('file', {}))
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)

    class Namespace(object):
        pass

    tower = Namespace()
    tower.filename = Namespace()
    for label in labels:
        setattr(tower.filename, label, '/runner/env/tmp_%s' % label)
    namespace = dict((field, 'EXAMPLE') for field in fields)
    namespace['tower'] = tower
    for section, key, template in _templates(injectors):
        names = meta.find_undeclared_variables(env.parse(template))
        assert names <= set(fields) | {'tower'}, (section, key, names - set(fields))
        # As AWX validates a credential type: render with every input set, failing on anything undefined.
        env.from_string(template).render(**namespace)
        for label in re.findall(r'tower\.filename\.(\w+)', template):
            assert label in labels, (section, key, label)


def test_secrets_are_never_environment_variables_and_pem_material_arrives_as_files():
    inputs = _inputs()
    injectors = _injectors()
    secret = set(field['id'] for field in inputs['fields'] if field.get('secret'))
    pem = set(field['id'] for field in inputs['fields'] if field.get('multiline'))
    env = ImmutableSandboxedEnvironment()

    class Namespace(object):
        pass

    tower = Namespace()
    tower.filename = Namespace()
    for label in injectors['file']:
        setattr(tower.filename, label.split('.', 1)[1], '/runner/env/tmp')
    # Each input gets a marker value; what a template outputs shows which inputs it passes on.
    namespace = dict((field['id'], 'VALUE-OF-%s' % field['id']) for field in inputs['fields'])
    namespace['tower'] = tower

    def passes_on(template):
        output = env.from_string(template).render(**namespace)
        return set(name for name in namespace if name != 'tower' and 'VALUE-OF-%s' % name in output)

    for name, template in injectors.get('env', {}).items():
        assert not name.startswith('ANSIBLE_') and name not in AWX_ENV_BLOCKLIST, name
        assert not passes_on(template) & secret, name
    for section in ('env', 'extra_vars'):
        for name, template in injectors.get(section, {}).items():
            assert not passes_on(template) & pem, (section, name)
    written = set()
    for template in injectors['file'].values():
        written |= passes_on(template)
    assert pem <= written


def test_the_credentials_extra_vars_are_what_the_playbooks_and_roles_read():
    extra_vars = _injectors()['extra_vars']
    assert {'ipoffice_username', 'ipoffice_password', 'ipoffice_ca_path'} <= set(extra_vars)
    with open(os.path.join(ROOT, 'playbooks', 'inventory', 'lab.yml'), encoding='utf-8') as handle:
        lab = yaml.safe_load(handle)['all']['vars']
    for name in ('ipoffice_username', 'ipoffice_password', 'ipoffice_ca_path'):
        assert name in lab, name
    validate = _role_options('validate')
    for name in extra_vars:
        if name.startswith('validate_'):
            assert name in validate, name


# --- surveys --------------------------------------------------------------------------


def test_a_survey_for_each_playbook():
    assert sorted(os.listdir(SURVEYS)) == sorted(SURVEY_ROLES)
    for name in SURVEY_ROLES:
        playbook = os.path.join(ROOT, 'playbooks', name.replace('.json', '.yml'))
        if name == 'monitor.json' and not os.path.exists(playbook):
            continue  # playbooks/monitor.yml arrives with the monitor role
        assert os.path.exists(playbook), playbook


@pytest.mark.parametrize('name', sorted(SURVEY_ROLES))
def test_survey_structure(name):
    survey = _json('extensions', 'awx', 'surveys', name)
    assert set(survey) == {'name', 'description', 'spec'} and survey['name'] and survey['spec']
    variables = [question['variable'] for question in survey['spec']]
    assert len(variables) == len(set(variables)), 'variables must be unique'
    for question in survey['spec']:
        where = '%s: %s' % (name, question.get('variable'))
        for key in ('question_name', 'question_description', 'required', 'type', 'variable', 'default'):
            assert key in question, (where, key)
        assert question['type'] in SURVEY_TYPES, where
        assert isinstance(question['required'], bool), where
        assert re.match(r'^[a-z_][a-z0-9_]*$', question['variable']), where
        default = question['default']
        if question['type'] in ('multiplechoice', 'multiselect'):
            choices = question['choices']
            assert isinstance(choices, list) and choices and len(choices) == len(set(choices)), where
            assert default in choices if question['type'] == 'multiplechoice' else set(default.split('\n')) <= set(choices), where
        if question['type'] == 'integer':
            assert isinstance(default, int) and not isinstance(default, bool), where
            assert question['min'] <= default <= question['max'], where
        if question['type'] in ('text', 'textarea') and default != '':
            assert question['min'] <= len(default) <= question['max'], where
        if question['required'] and question['type'] in ('text', 'textarea'):
            assert default == '' or question['min'] <= len(default), where
        # Survey answers are not templated by AWX: a default must be a plain value.
        assert not _templated(default), where


@pytest.mark.parametrize('name', sorted(SURVEY_ROLES))
def test_survey_questions_match_the_roles_argument_specs(name):
    survey = _json('extensions', 'awx', 'surveys', name)
    options = {}
    missing = []
    for role in SURVEY_ROLES[name]:
        role_options = _role_options(role)
        if role_options is None:
            missing.append(role)
            continue
        options.update(role_options)
    checked = 0
    for question in survey['spec']:
        variable = question['variable']
        owner = variable.split('_', 1)[0]
        if owner in missing:
            continue  # that role does not exist yet
        assert variable in options, '%s: %s is not in the argument specs of %s' % (name, variable, SURVEY_ROLES[name])
        option = options[variable]
        kind = option.get('type', 'str')
        assert kind in COMPATIBLE[question['type']], (name, variable, kind, question['type'])
        if option.get('choices'):
            assert question['type'] in ('multiplechoice', 'multiselect'), (name, variable)
            assert sorted(question['choices']) == sorted(option['choices']), (name, variable)
        if option.get('no_log'):
            assert question['type'] == 'password', (name, variable)
        default = option.get('default')
        if default is not None and not _templated(default) and question['default'] != '':
            assert question['default'] == default, (name, variable, question['default'], default)
        checked += 1
    # Every role a survey serves exists: a survey question for a missing role is a mistake, not a skip.
    assert not missing, 'survey %s names roles without meta/argument_specs.yml: %s' % (name, ', '.join(missing))
    assert checked > 0


# --- execution environment ------------------------------------------------------------


def test_the_execution_environment_installs_this_collection_and_its_dependencies():
    ee = _yaml('execution-environment.yml')
    galaxy = _yaml('galaxy.yml')
    assert ee['version'] == 3
    assert ee['images']['base_image']['name']
    deps = ee['dependencies']
    assert 'ansible-core' in deps['ansible_core']['package_pip'] and 'ansible-runner' in deps['ansible_runner']['package_pip']
    tarball = '%s-%s-%s.tar.gz' % (galaxy['namespace'], galaxy['name'], galaxy['version'])
    assert [entry['name'] for entry in deps['galaxy']['collections']] == ['/build/collections/' + tarball]
    assert {'src': 'dist/' + tarball, 'dest': 'collections'} in ee['additional_build_files']
    with open(os.path.join(ROOT, deps['python']), encoding='utf-8') as handle:
        packages = [re.split(r'[<>=!~ ;\[]', line.strip())[0].lower() for line in handle
                    if line.strip() and not line.startswith('#')]
    assert sorted(packages) == ['paramiko']
    assert os.path.exists(os.path.join(ROOT, deps['system']))


# --- molecule -------------------------------------------------------------------------


def test_each_role_has_a_molecule_scenario_without_containers():
    for role in sorted(os.listdir(os.path.join(ROOT, 'roles'))):
        scenario = os.path.join(ROOT, 'extensions', 'molecule', role)
        config = _yaml('extensions', 'molecule', role, 'molecule.yml')
        assert config['driver']['name'] == 'default' and config['driver']['options']['managed'] is False, role
        for playbook in ('create', 'converge', 'verify', 'destroy'):
            path = config['provisioner'].get('playbooks', {}).get(playbook, playbook + '.yml')
            assert os.path.exists(os.path.join(scenario, path)), (role, playbook)
        assert 'idempotence' in config['scenario']['test_sequence'], role
