# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What an operator reads must be true (issue 16), through ansible-playbook against the lab:

- credentials only from the IPOFFICE_* environment, as an AWX credential injects them: site.yml, validate.yml
  and monitor.yml pass end to end with their reports;
- after a failure in the middle of a step: the recap counts the writes applied, the message says what was
  applied, a failed loop item shows one address and not the node's record; a host whose API cannot be read
  gets a verdict line without "(None)";
- a setting the modules refuse is named by the role variable the user set, never blamed on another;
- a report of an earlier run never stays in place after a run that failed before writing its own;
- the report writer never writes through a link planted at its temporary or final name, and says it changed;
- a node whose DNS change waits for a reboot is not ready, and the report and the play's output say why."""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml

from conftest import API_PASSWORD, API_USER, REPO
from linklab import LAB_HOSTS, configure

LAB_INVENTORY = os.path.join(REPO, 'playbooks', 'inventory', 'lab.yml')
# The names a credential (AWX's, or any other) would hold: none of them may be in the inventory.
CREDENTIAL_VARS = ('ipoffice_host', 'ipoffice_username', 'ipoffice_password', 'ipoffice_ca_path')


def _inventory(lab, tmp_path, hosts, drop=(), **extra):
    """The lab inventory for `hosts` ({name: host vars}), its paths made concrete, with `extra` vars, without `drop`."""
    with open(LAB_INVENTORY) as handle:
        base = yaml.safe_load(handle)['all']['vars']
    # Each host's checks present the identity of the system lab.yml names for it (lab_identity).
    base.update(validate_com_ca_path=lab.ca_path,
                validate_client_cert=os.path.join(lab.state, 'identities', '{{ lab_identity }}.pem'),
                validate_client_key=os.path.join(lab.state, 'identities', '{{ lab_identity }}.key'),
                validate_report_dir=str(tmp_path / 'readiness'), monitor_report_dir=str(tmp_path / 'monitoring'),
                ipoffice_ca_path=lab.ca_path)
    base.update(extra)
    for name in drop:
        base.pop(name, None)
    hosts = dict((name, dict(host_vars, lab_identity=LAB_HOSTS[name]['lab_identity'])) for name, host_vars in hosts.items())
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump({'all': {'vars': base, 'children': {'lab': {'hosts': hosts}}}}))
    return str(path)


def _play(lab, inventory, playbook, *args, env=None):
    run_env = dict(os.environ, IPOFFICE_LAB_STATE=lab.state, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0')
    run_env.update(env or {})
    proc = subprocess.run(['ansible-playbook', '-i', inventory, playbook] + list(args), capture_output=True, text=True,
                          env=run_env, timeout=900, check=False)
    assert API_PASSWORD not in proc.stdout + proc.stderr
    return proc


def _recap(output):
    return dict((host, dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', rest)))
                for host, rest in re.findall(r'^(\S+)\s+:\s+(ok=.*)$', output, re.M))


def _fatal(output, host):
    """The message of the last fatal line of a host."""
    found = re.findall(r'^fatal: \[%s\]: FAILED! => (\{.*\})$' % re.escape(host), output, re.M)
    assert found, output[-3000:]
    return json.loads(found[-1])['msg']


def _prerequisites_play(tmp_path):
    """The first play of site.yml (the prerequisites role) as a playbook of its own."""
    with open(os.path.join(REPO, 'playbooks', 'site.yml')) as handle:
        site = yaml.safe_load(handle)
    path = tmp_path / 'prerequisites.yml'
    path.write_text(yaml.safe_dump([site[0]], sort_keys=False))
    return str(path)


def _playbook(name):
    return os.path.join(REPO, 'playbooks', name)


# --- credentials from the environment only ------------------------------------------------------------------


def test_site_validate_and_monitor_take_their_credentials_from_the_environment_alone(fresh_lab, tmp_path):
    inventory = _inventory(fresh_lab, tmp_path, {'ip500-single': {}}, drop=CREDENTIAL_VARS)
    with open(inventory) as handle:
        text = handle.read()
    assert not [name for name in CREDENTIAL_VARS if name in text], text
    env = {'IPOFFICE_HOST': '127.0.10.1', 'IPOFFICE_USERNAME': API_USER, 'IPOFFICE_PASSWORD': API_PASSWORD,
           'IPOFFICE_CA_PATH': fresh_lab.ca_path}

    site = _play(fresh_lab, inventory, _playbook('site.yml'), env=env)
    output = site.stdout + site.stderr
    # Configured, and the report written; the DNS change of this run waits for a reboot: never a silent "ready".
    assert site.returncode == 2 and 'ip500-single (127.0.11.1): NOT READY - reboot.pending' in output, output[-4000:]
    report = json.loads((tmp_path / 'readiness' / 'readiness.json').read_text())
    assert [entry['system'] for entry in report['systems']] == ['ip500-single']
    assert report['systems'][0]['reboot_pending'] is True and report['systems'][0]['failed_checks'][0] == 'reboot.pending'

    fresh_lab.control('POST', '/lab/reboot')
    validate = _play(fresh_lab, inventory, _playbook('validate.yml'), env=env)
    assert validate.returncode == 0, (validate.stdout + validate.stderr)[-4000:]
    assert 'ip500-single (127.0.11.1): ready' in validate.stdout
    report = json.loads((tmp_path / 'readiness' / 'readiness.json').read_text())
    assert report['fleet']['all_ready'] is True
    # validate.yml alone made no change, so it has none to report as waiting.
    assert report['systems'][0]['reboot_pending'] is False

    monitor = _play(fresh_lab, inventory, _playbook('monitor.yml'), env=env)
    assert monitor.returncode == 0, (monitor.stdout + monitor.stderr)[-4000:]
    assert json.loads((tmp_path / 'monitoring' / 'monitoring.json').read_text())['fleet']['ready'] == 1


# --- a failure in the middle of a step -----------------------------------------------------------------------


def test_a_step_that_fails_on_one_node_counts_and_names_the_writes_it_applied_on_the_others(fresh_lab, tmp_path):
    inventory = _inventory(fresh_lab, tmp_path, {'scn': {'ipoffice_host': '127.0.20.1'}})
    # The first write of the play (scn-1's default route) is lost twice: the module reads back, sends once
    # more, reads again and stops; the same step then writes the routes of scn-2 and scn-3.
    fresh_lab.control('POST', '/lab/systems/scn-1/faults', {'drop_before_write_count': 2})
    start = fresh_lab.last_seq()
    run = _play(fresh_lab, inventory, _prerequisites_play(tmp_path))
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-3000:]
    applied = [entry['system'] for entry in fresh_lab.requests(start) if entry['write'] and entry['applied']]
    assert applied == ['scn-2', 'scn-3'], applied

    # The recap counts them, although Ansible counts no change of a failed task.
    assert _recap(output)['scn']['changed'] >= 1 and _recap(output)['scn']['failed'] == 1, _recap(output)
    message = _fatal(output, 'scn')
    assert message.startswith("Default route via the customer's router: scn-1 (127.0.21.1): POST iproutes was sent")
    assert message.endswith('This run applied: default route on scn-2, scn-3; re-run to finish (every step reads before it writes)')
    assert not message.rstrip('.').endswith('nothing was changed')
    # The failed item shows its address, not the node's record (LANs, routes, users: about 2 KB).
    failed = [line for line in output.splitlines() if line.startswith('failed: [scn]')]
    assert len(failed) == 1 and '"item": "127.0.21.1"' in failed[0] and '"lans"' not in failed[0], failed
    assert len(failed[0]) < 1000, len(failed[0])


def test_a_host_whose_api_cannot_be_read_gets_a_verdict_line_without_none(fresh_lab, tmp_path):
    inventory = _inventory(fresh_lab, tmp_path, {'ip500-single': {'ipoffice_host': '127.0.10.1'}},
                           ipoffice_username=API_USER, ipoffice_password='Wrong-Passw0rd')
    run = _play(fresh_lab, inventory, _playbook('validate.yml'))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert '"ip500-single: NOT READY - api.readable: check the address, the service user' in output, output[-3000:]
    assert '(None)' not in output


def test_a_connection_option_that_is_wrong_is_not_blamed_on_a_role_variable(fresh_lab, tmp_path):
    inventory = _inventory(fresh_lab, tmp_path, {'ip500-single': {'ipoffice_host': '127.0.10.1'}},
                           ipoffice_username=API_USER, ipoffice_password=API_PASSWORD)
    start = fresh_lab.last_seq()
    run = _play(fresh_lab, inventory, _prerequisites_play(tmp_path), env={'IPOFFICE_PORT': 'seventy'})
    message = _fatal(run.stdout, 'ip500-single')
    assert message.startswith("argument 'port' is of type str") and 'not a variable of this role: a connection option' in message
    assert 'prerequisites_dns_server' not in message
    assert fresh_lab.requests(start) == []


# --- reports ---------------------------------------------------------------------------------------------------


def test_a_run_that_fails_before_its_report_leaves_no_earlier_report_in_place(fresh_lab, tmp_path):
    inventory = _inventory(fresh_lab, tmp_path, {'ip500-single': {'ipoffice_host': '127.0.10.1'}},
                           ipoffice_username=API_USER, ipoffice_password=API_PASSWORD)
    earlier = {'readiness': ('readiness.json', 'readiness.html', 'readiness.xml'),
               'monitoring': ('monitoring.json', 'monitoring.html', 'monitoring.xml')}

    def plant():
        for folder, names in earlier.items():
            (tmp_path / folder).mkdir(exist_ok=True)
            for name in names:
                (tmp_path / folder / name).write_text('{"fleet": {"all_ready": true}} from an earlier run')

    # Each run fails on a bad setting, before it reads a system: the earlier verdict must not stay as if current.
    for playbook, bad, folder in (('validate.yml', 'validate_dns_port=70000', 'readiness'),
                                  ('monitor.yml', 'monitor_expiry_warning_days=-1', 'monitoring'),
                                  ('site.yml', 'ipoffice_time_zone=Mars/Base', 'readiness')):
        plant()
        run = _play(fresh_lab, inventory, _playbook(playbook), '-e', bad)
        assert run.returncode != 0, (playbook, run.stdout[-2000:])
        left = [name for name in earlier[folder] if (tmp_path / folder / name).exists()]
        assert left == [], (playbook, left)
    # Check mode writes nothing, so it leaves the report in place.
    plant()
    _play(fresh_lab, inventory, _playbook('validate.yml'), '--check', '-e', 'validate_dns_port=70000')
    assert (tmp_path / 'readiness' / 'readiness.json').exists()


def test_the_report_writer_never_writes_through_a_planted_link_and_says_it_changed(fresh_lab, tmp_path):
    configure(fresh_lab, 'ip500-single')
    inventory = _inventory(fresh_lab, tmp_path, {'ip500-single': {'ipoffice_host': '127.0.10.1'}},
                           ipoffice_username=API_USER, ipoffice_password=API_PASSWORD)
    folder = tmp_path / 'readiness'
    folder.mkdir()
    victims = dict((name, tmp_path / ('victim-%s' % name)) for name in ('tmp', 'html'))
    for victim in victims.values():
        victim.write_text('not yours')
    # Another local user plants links where the writer used to put its temporary file, and at the report itself.
    os.symlink(str(victims['tmp']), str(folder / 'readiness.json.tmp'))
    os.symlink(str(victims['html']), str(folder / 'readiness.html'))
    run = _play(fresh_lab, inventory, _playbook('validate.yml'))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert [victim.read_text() for victim in victims.values()] == ['not yours', 'not yours']
    for name in ('readiness.json', 'readiness.html', 'readiness.xml'):
        assert not os.path.islink(str(folder / name)) and (folder / name).stat().st_mode & 0o777 == 0o644, name
    assert json.loads((folder / 'readiness.json').read_text())['fleet']['all_ready'] is True
    # No temporary file is left behind; the planted link is left alone.
    assert sorted(os.listdir(str(folder))) == ['readiness.html', 'readiness.json', 'readiness.json.tmp', 'readiness.xml']
    assert re.search(r'TASK \[ipoffice\.subscription\.validate : Write the readiness report of the fleet\] \*+\nchanged: ', output)
