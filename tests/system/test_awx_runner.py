# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The playbooks as AWX runs them: `ansible-runner run` on a private data
directory laid out the way AWX lays out a job (project, inventory, the job
template's and the survey's extra variables, the credentials' files, variables
and environment), against the lab. The job's events and final status are what
AWX shows; no artifact may hold a password."""

from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile

import yaml

from jinja2.sandbox import ImmutableSandboxedEnvironment

from conftest import API_PASSWORD, API_USER, REPO, close_persistent_connections
from linklab import LAB_DNS, LAB_SNTP, SERVER, CUSTOMER, configure

AWX = os.path.join(REPO, 'extensions', 'awx')
LAB_INVENTORY = os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')
# What the credential supplies is taken out of the inventory.
CREDENTIAL_VARS = ('ipoffice_username', 'ipoffice_password', 'ipoffice_ca_path', 'validate_client_cert',
                   'validate_client_key')
# AWX's pattern for the Machine credential's password prompt (--ask-pass).
SSH_PASSWORD_PROMPT = r'SSH password:\s*?$'


class _Unsafe(str):
    pass


class _UnsafeDumper(yaml.SafeDumper):
    pass


_UnsafeDumper.add_representer(_Unsafe, lambda dumper, data: dumper.represent_scalar('!unsafe', str(data)))


def _unsafe(value):
    """As AWX's safe_dump: every string of a credential's extra variables is marked !unsafe (never templated)."""
    if isinstance(value, dict):
        return dict((key, _unsafe(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_unsafe(item) for item in value]
    return _Unsafe(value) if isinstance(value, str) else value


def _inject_credential(pdd, inputs):
    """What AWX's CredentialType.inject_credential does with extensions/awx/credential_type/:
    files from the `file` templates in env/, then `env` and `extra_vars` rendered in a
    sandbox whose namespace holds only the inputs that have a value. Returns the
    environment and the ansible-playbook arguments it adds."""
    with open(os.path.join(AWX, 'credential_type', 'inputs.yml')) as handle:
        fields = [field['id'] for field in yaml.safe_load(handle)['fields']]
    with open(os.path.join(AWX, 'credential_type', 'injectors.yml')) as handle:
        injectors = yaml.safe_load(handle)
    assert set(inputs) <= set(fields)

    class Namespace(object):
        pass

    tower = Namespace()
    namespace = dict((key, value) for key, value in inputs.items() if value)
    namespace['tower'] = tower
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = os.path.join(pdd, 'env')
    for label, template in injectors.get('file', {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w') as out:
            out.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if not hasattr(tower, 'filename'):
            tower.filename = Namespace()
        setattr(tower.filename, label.split('.', 1)[1], path)
    env = dict((key, sandbox.from_string(template).render(**namespace))
               for key, template in injectors.get('env', {}).items())
    extra_vars = dict((key, sandbox.from_string(template).render(**namespace))
                      for key, template in injectors.get('extra_vars', {}).items())
    handle, path = tempfile.mkstemp(dir=env_dir)
    with os.fdopen(handle, 'w') as out:
        out.write(yaml.dump(_unsafe(extra_vars), Dumper=_UnsafeDumper, default_flow_style=False))
    os.chmod(path, stat.S_IRUSR)
    return env, ['-e', '@%s' % path]


def _survey_answers(name, answers):
    """A launch through the survey: each question answered (or left at its default),
    checked the way AWX checks it before the job starts."""
    with open(os.path.join(AWX, 'surveys', name)) as handle:
        spec = json.load(handle)['spec']
    unknown = set(answers) - set(question['variable'] for question in spec)
    assert not unknown, 'not questions of %s: %s' % (name, sorted(unknown))
    result = {}
    for question in spec:
        value = answers.get(question['variable'], question['default'])
        if question['type'] == 'integer':
            assert isinstance(value, int) and question['min'] <= value <= question['max'], question['variable']
        elif question['type'] == 'multiplechoice':
            assert value in question['choices'], question['variable']
        elif question['type'] in ('text', 'textarea'):
            assert not question['required'] or value, question['variable']
            assert question['min'] <= len(value) <= question['max'], question['variable']
        result[question['variable']] = value
    return result


def _lab_inventory(lab, hosts, httpapi=False):
    """The lab inventory as an AWX inventory: the hosts asked for, without what the credential supplies;
    httpapi: each host's endpoint as the httpapi connection's ansible_host (docs/connection.md)."""
    with open(LAB_INVENTORY) as handle:
        inventory = yaml.safe_load(handle)
    variables = inventory['all']['vars']
    for name in CREDENTIAL_VARS:
        variables.pop(name, None)
    # Values that were derived from the lab's CA path in the inventory.
    variables['validate_com_ca_path'] = lab.ca_path
    kept = {}
    for group, body in inventory['all']['children'].items():
        members = dict((host, hostvars) for host, hostvars in body.get('hosts', {}).items() if host in hosts)
        if httpapi:
            members = dict((host, {'ansible_host': hostvars['ipoffice_host']}) for host, hostvars in members.items())
        if members:
            kept[group] = {'hosts': members}
    assert sorted(host for body in kept.values() for host in body['hosts']) == sorted(hosts)
    inventory['all']['children'] = kept
    return inventory


def _job(tmp_path, lab, playbook, hosts, extra_vars, credential_inputs=None, cmdline=(), passwords=None,
         inventory_vars=None, env=None, httpapi=False):
    """Lay out a private data directory as AWX does for a job, run it with ansible-runner, return the result."""
    pdd = str(tmp_path / 'job')
    for sub in ('env', 'inventory', 'project'):
        os.makedirs(os.path.join(pdd, sub))
    # The project: the repository's playbooks, as an SCM project update would check them out.
    shutil.copytree(os.path.join(REPO, 'playbooks'), os.path.join(pdd, 'project', 'playbooks'))
    inventory = _lab_inventory(lab, hosts, httpapi)
    inventory['all']['vars'].update(inventory_vars or {})
    with open(os.path.join(pdd, 'inventory', 'hosts.yml'), 'w') as handle:
        yaml.safe_dump(inventory, handle)
    env = dict(env or {})
    env.update({
        # The collection under test where the EE would have it installed.
        'ANSIBLE_COLLECTIONS_PATH': os.environ['ANSIBLE_COLLECTIONS_PATH'],
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'JOB_ID': '42',
    })
    args = list(cmdline)
    if credential_inputs:
        credential_env, credential_args = _inject_credential(pdd, credential_inputs)
        env.update(credential_env)
        args += credential_args
    with open(os.path.join(pdd, 'env', 'envvars'), 'w') as handle:
        yaml.safe_dump(env, handle)
    with open(os.path.join(pdd, 'env', 'extravars'), 'w') as handle:
        yaml.safe_dump(extra_vars, handle)
    with open(os.path.join(pdd, 'env', 'settings'), 'w') as handle:
        yaml.safe_dump({'job_timeout': 900, 'pexpect_timeout': 10, 'suppress_ansible_output': False}, handle)
    if args:
        with open(os.path.join(pdd, 'env', 'cmdline'), 'w') as handle:
            handle.write(shlex.join(args))
    if passwords:
        with open(os.path.join(pdd, 'env', 'passwords'), 'w') as handle:
            json.dump(passwords, handle)
    run_env = dict(os.environ)
    for name in ('ANSIBLE_CONFIG', 'ANSIBLE_INVENTORY'):
        run_env.pop(name, None)
    proc = subprocess.run([sys.executable, '-m', 'ansible_runner', 'run', pdd, '-p', playbook, '--ident', '42',
                           '--limit', ','.join(hosts)],
                          capture_output=True, text=True, env=run_env, timeout=900, check=False)
    return _Job(pdd, proc)


class _Job(object):
    def __init__(self, pdd, proc):
        self.pdd = pdd
        self.proc = proc
        self.artifacts = os.path.join(pdd, 'artifacts', '42')
        self.events = []
        for path in glob.glob(os.path.join(self.artifacts, 'job_events', '*.json')):
            with open(path) as handle:
                self.events.append(json.load(handle))
        self.events.sort(key=lambda event: event['counter'])

    def read(self, name):
        with open(os.path.join(self.artifacts, name)) as handle:
            return handle.read().strip()

    @property
    def output(self):
        stdout = os.path.join(self.artifacts, 'stdout')
        text = open(stdout).read() if os.path.exists(stdout) else ''
        return text[-4000:] + self.proc.stdout[-2000:] + self.proc.stderr[-2000:]

    def of(self, kind):
        return [event for event in self.events if event['event'] == kind]

    def artifact_files(self):
        for folder, _dirs, files in os.walk(os.path.join(self.pdd, 'artifacts')):
            for name in files:
                yield os.path.join(folder, name)


def _assert_nothing_leaks(job, *secrets):
    files = list(job.artifact_files())
    assert len(files) > 10, files  # command, rc, status, stdout and the events
    for path in files:
        with open(path, 'rb') as handle:
            content = handle.read()
        for secret in secrets:
            assert secret.encode() not in content, 'a secret in %s' % os.path.relpath(path, job.pdd)
    assert not [secret for secret in secrets if secret in job.proc.stdout + job.proc.stderr]


# The client identity the custom credential carries: a system registered to the customer (ip500-single is LAB-0001's),
# which COM accepts for every system of that customer the job checks.
CREDENTIAL_IDENTITY = 'ip500-single'


def _key_body(lab):
    """A line from the middle of the credential identity's private key."""
    with open(os.path.join(lab.state, 'identities', CREDENTIAL_IDENTITY + '.key')) as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.startswith('-----')]
    return lines[len(lines) // 2]


def _read(path):
    with open(path) as handle:
        return handle.read()


def test_site_as_an_awx_job_with_the_custom_credential_and_the_survey(fresh_lab, tmp_path):
    hosts = ['ip500-single', 'se-primary']
    # The sites already use the customer's DNS server (a DNS change would wait for a reboot, and the job could not
    # end ready): set on the front panel and in effect.
    for name in ('ip500-single', 'se-primary', 'se-secondary', 'se-expansion'):
        fresh_lab.control('POST', '/lab/systems/%s/panel' % name, {'dns_server': LAB_DNS})
    fresh_lab.control('POST', '/lab/reboot')
    report_dir = str(tmp_path / 'readiness')
    # The job template's own extra variables, then the survey's answers for the lab.
    extra_vars = {'validate_report_dir': report_dir, 'validate_wait_delay': 2}
    extra_vars.update(_survey_answers('site.json', {
        'prerequisites_customer_id': CUSTOMER, 'prerequisites_subscription_server': SERVER,
        'prerequisites_time_zone': 'Europe/London', 'prerequisites_dns_server': LAB_DNS,
        'prerequisites_time_server': LAB_SNTP, 'validate_wait_timeout': 60}))
    credential = {
        'username': API_USER, 'password': API_PASSWORD, 'api_ca': _read(fresh_lab.ca_path),
        'client_cert': _read(os.path.join(fresh_lab.state, 'identities', CREDENTIAL_IDENTITY + '.pem')),
        'client_key': _read(os.path.join(fresh_lab.state, 'identities', CREDENTIAL_IDENTITY + '.key')),
    }
    job = _job(tmp_path, fresh_lab, 'playbooks/site.yml', hosts, extra_vars, credential_inputs=credential)

    assert job.proc.returncode == 0, job.output
    assert job.read('status') == 'successful' and job.read('rc') == '0'
    # Lines printed outside the playbook's own events (a library's deprecation warning at start-up) come as
    # "verbose" events: the job's structure is the rest.
    kinds = [event['event'] for event in job.events if event['event'] != 'verbose']
    assert kinds[0] == 'playbook_on_start' and kinds[-1] == 'playbook_on_stats', kinds[:3] + kinds[-3:]
    assert not job.of('runner_on_failed') and not job.of('runner_on_unreachable')
    stats = job.of('playbook_on_stats')[0]['event_data']
    assert not stats['failures'] and not stats['dark'] and sorted(stats['ok']) == sorted(hosts)
    assert sorted(stats['changed']) == sorted(hosts)  # the systems were configured

    # Every role of site.yml ran its tasks on every host.
    roles = ['validate'] + (['prerequisites'] if os.path.isdir(os.path.join(REPO, 'roles', 'prerequisites')) else [])
    ok = job.of('runner_on_ok')
    for role in roles:
        for host in hosts:
            assert [event for event in ok if event['event_data'].get('role') == role
                    and event['event_data']['host'] == host], (role, host)
    # The readiness report: written once, every link-holding node ready.
    report = [event for event in ok if event['event_data']['task'] == 'Write the readiness report of the fleet']
    assert len(report) == 1 and report[0]['event_data']['role'] == 'validate'
    verdicts = [event for event in ok if event['event_data']['task'] == 'Show the verdict of every system']
    lines = verdicts[0]['event_data']['res']['msg']
    for verdict in ('ip500-single (127.0.11.1): ready', 'se-primary (127.0.30.1): ready'):
        assert [line for line in lines if line == verdict or line.startswith(verdict + ' - ')], (verdict, lines)
    assert [line for line in lines if line.startswith('fleet: 2 of 2 systems ready, 0 not ready, 2 without')], lines
    with open(os.path.join(report_dir, 'readiness.json')) as handle:
        assert json.load(handle)['fleet']['all_ready'] is True
    # The client identity from the credential was used: the WebSocket upgrade and throughput were measured.
    assert 'not_measured' not in json.dumps([entry['not_measured'] for entry in json.load(
        open(os.path.join(report_dir, 'readiness.json')))['systems']])

    _assert_nothing_leaks(job, API_PASSWORD, _key_body(fresh_lab))


def test_validate_as_an_awx_job_with_a_network_credential(fresh_lab, tmp_path):
    """AWX's standard Network credential instead of the custom type: AWX puts its user and password in
    ANSIBLE_NET_USERNAME / ANSIBLE_NET_PASSWORD, and the inventory maps them to the collection's variables."""
    configure(fresh_lab, 'ip500-single')
    mapping = {'ipoffice_username': "{{ lookup('ansible.builtin.env', 'ANSIBLE_NET_USERNAME') }}",
               'ipoffice_password': "{{ lookup('ansible.builtin.env', 'ANSIBLE_NET_PASSWORD') }}",
               'ipoffice_ca_path': fresh_lab.ca_path}
    # Without a client identity (only the custom type has one) the WebSocket upgrade and the throughput are not
    # measured: the system is unverified, never ready, and this job accepts that explicitly.
    extra_vars = {'validate_report_dir': str(tmp_path / 'readiness'), 'validate_accept_unverified': True}
    extra_vars.update(_survey_answers('validate.json', {'validate_wait_timeout': 60, 'validate_wait_delay': 2}))
    job = _job(tmp_path, fresh_lab, 'playbooks/validate.yml', ['ip500-single'], extra_vars, inventory_vars=mapping,
               env={'ANSIBLE_NET_USERNAME': API_USER, 'ANSIBLE_NET_PASSWORD': API_PASSWORD})

    assert job.proc.returncode == 0, job.output
    assert job.read('status') == 'successful' and job.read('rc') == '0'
    stats = job.of('playbook_on_stats')[0]['event_data']
    assert not stats['failures'] and not stats['dark']
    verdicts = [event for event in job.of('runner_on_ok')
                if event['event_data']['task'] == 'Show the verdict of every system']
    assert verdicts[0]['event_data']['res']['msg'][0].startswith(
        'ip500-single (127.0.11.1): UNVERIFIED - not measured: tls.websocket (no client_cert and client_key given')
    assert json.load(open(os.path.join(str(tmp_path / 'readiness'), 'readiness.json')))['systems'][0]['unmeasured_requirements'] == [
        'tls.websocket', 'quality.throughput']
    # The events and the output are clean, but ansible-runner records the job's environment in
    # artifacts/<job>/command: a password passed in the environment lands there. This is why the
    # custom credential type passes the password as an extra variable file instead (docs/awx.md).
    leaked = [path for path in job.artifact_files() if API_PASSWORD.encode() in open(path, 'rb').read()]
    assert [os.path.relpath(path, job.artifacts) for path in leaked] == ['command']


def test_a_machine_credentials_password_reaches_the_tasks_but_not_the_argument_validation(fresh_lab, tmp_path):
    """AWX's Machine credential passes -u and answers the --ask-pass prompt. The user becomes ansible_user; the
    password is not a variable when the role's arguments are validated (validate_api_password then falls back to
    empty), but ansible-core puts it into each task's variables as ansible_password, so the module_defaults of the
    role's API tasks get it and the read logs in as the credential's user (docs/awx.md)."""
    mapping = {'ipoffice_username': '{{ ansible_user }}', 'ipoffice_password': '{{ ansible_password }}',
               'ipoffice_ca_path': fresh_lab.ca_path}
    extra_vars = {'validate_report_dir': str(tmp_path / 'readiness')}
    start = fresh_lab.last_seq()
    job = _job(tmp_path, fresh_lab, 'playbooks/validate.yml', ['ip500-single'], extra_vars,
               cmdline=['-u', API_USER, '--ask-pass'], passwords={SSH_PASSWORD_PROMPT: API_PASSWORD},
               inventory_vars=mapping)
    # The system was read as the credential's user; it is not ready (the lab's systems are not configured yet).
    assert [request for request in fresh_lab.requests(start) if request['resource'] != 'authenticate' and request.get('user') == API_USER]
    report = json.load(open(str(tmp_path / 'readiness' / 'readiness.json')))
    entry = [item for item in report['systems'] if item['inventory_host'] == 'ip500-single'][0]
    assert 'api.readable' not in entry['failed_checks'] and entry['verdict'] == 'not_ready', entry['failed_checks']
    assert job.read('status') == 'failed'
    _assert_nothing_leaks(job, API_PASSWORD)


def test_a_machine_credential_drives_the_httpapi_connection(fresh_lab, tmp_path):
    """With the httpapi connection the Machine credential's user and password are the connection's own
    (ansible_user, and the --ask-pass answer): nothing to map, one login for the job."""
    connection = {'ansible_connection': 'ansible.netcommon.httpapi', 'ansible_network_os': 'ipoffice.subscription.ipoffice',
                  'ansible_httpapi_use_ssl': True, 'ansible_httpapi_ca_path': fresh_lab.ca_path}
    extra_vars = {'validate_report_dir': str(tmp_path / 'readiness')}
    start = fresh_lab.last_seq()
    job = _job(tmp_path, fresh_lab, 'playbooks/validate.yml', ['ip500-single'], extra_vars,
               cmdline=['-u', API_USER, '--ask-pass'], passwords={SSH_PASSWORD_PROMPT: API_PASSWORD},
               inventory_vars=connection, httpapi=True,
               env={'ANSIBLE_PERSISTENT_CONTROL_PATH_DIR': str(tmp_path / 'pc')})
    close_persistent_connections(str(tmp_path / 'pc'))
    log = fresh_lab.requests(start)
    assert [request for request in log if request['resource'] != 'authenticate' and request.get('user') == API_USER], job.output[-3000:]
    assert len([request for request in log if request['resource'] == 'authenticate' and request['method'] == 'GET']) == 1
    report = json.load(open(str(tmp_path / 'readiness' / 'readiness.json')))
    entry = [item for item in report['systems'] if item['inventory_host'] == 'ip500-single'][0]
    assert 'api.readable' not in entry['failed_checks'] and entry['verdict'] == 'not_ready', entry['failed_checks']
    _assert_nothing_leaks(job, API_PASSWORD)
