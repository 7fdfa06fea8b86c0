#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: readiness_report
short_description: Write the subscription readiness report of a fleet of IP Office systems
version_added: 0.1.0
description:
  - Turns what C(system_info), the check modules (C(dns_check), C(port_check), C(tls_check), C(link_quality_check),
    C(time_check)) and C(subscription_status) returned into one report. Per system, it lists every prerequisite
    and check with the value measured, the limit, pass or fail, and a fix hint. It adds a fleet summary with how
    many systems are ready and what blocks the rest.
  - Writes C(readiness.json) for machines and C(readiness.html) for people, and with V(junit) in O(formats) C(readiness.xml)
    for CI systems and dashboards.
  - >-
    The HTML page is self-contained (no scripts, no external files) and built for a fleet of hundreds. It opens with a
    summary table, one row per system with failing systems first and a column per area (route, DNS, time, ports, TLS,
    link quality, link, manual steps, pending reboot), each cell linking to that area's checks further down. Then it
    lists what blocks the rest, with what to do, and each system in detail, failing checks first. Values are written for
    people (units, thousands separators, singular or plural, yes or no).
  - >-
    The JUnit XML file has one test suite per system and one test case per check: a failed check is a C(failure) whose
    message is the fix hint, a check that was not measured is C(skipped) with the reason. The system's verdict, link
    and pending reboot are properties of its suite.
  - A system is V(ready) when no check failed, the link is connected and its licences are valid (none on the grace
    period), and every requirement of Avaya's documents was measured. A Server Edition Secondary or Expansion is
    V(no_link_expected), because only the Primary has a link.
  - Checks that were skipped or could not run are reported as such, never as passed. A check that nobody could
    measure is V(not_measured).
  - >-
    A system where nothing failed but a check of a requirement was not measured (the link up, DNS, TCP 443/8443, TLS
    1.2 with mutual authentication and the WebSocket upgrade, round trip and throughput, the time source: checks
    C(link.*), C(dns.*), C(ports.*), C(tls.*), C(quality.*), C(time.*)) is V(unverified), never V(ready): for example
    a throughput that a real COM offers no way to measure, or a node whose link status could not be read. Its entry
    lists those checks in C(unmeasured_requirements), and RV(unverified) names its inventory host.
  - The inputs are module results, which never carry passwords, so no secret can reach the report.
  - Runs on the controller. The validate role calls it once per play, with every host's results.
  - The HTML page is rendered with Jinja2, which ansible-core brings with it on the controller.
  - >-
    With O(kind=monitoring) it writes the same kind of report for systems in service (the monitor role):
    C(monitoring.json), C(monitoring.html) and C(monitoring.xml). Per node that holds a link it judges, from the C(status) input, the
    link state, the days left in the 30-day error mode, the daily alarms, and each subscription licence that has
    expired or expires within O(expiry_warning_days). Days are counted from the node's own date (the newest timestamp
    of its status), not the controller's. Prerequisites are not judged. A node without a link of its own is not
    applicable and never counts as needing attention.
  - >-
    A node whose release has no link status resource is judged from its documented licences (C(link.evidence) V(licences)
    in C(subscription_status)). They show that the grace period runs, not since when: the days left are stated only
    when O(alarm) (an alarm from that node) or an earlier alarm kept in O(history) measured them, and are otherwise
    reported as not measured, with the reason. Each check's C(details.evidence) says what it rests on.
  - >-
    With O(kind=monitoring) the report also has C(timeline): every system in error mode with the date its error mode
    began and the date telephony stops, soonest first. With O(history), one JSON line per system is appended to that
    file on each run, and earlier lines bound the dates that nothing measured.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the report is built and returned but no file is written.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: >-
      Every run writes the report anew (it carries the time it was made and fresh measurements), and returns
      C(changed=true) when it wrote the files; in check mode it writes nothing and returns C(changed=true), for the files
      a real run would write.
options:
  hosts:
    description:
      - One entry per inventory host (one API endpoint, which may serve several nodes).
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: The inventory host name.
        type: str
        required: true
      error:
        description: Why this host could not be read; its entry then says so and counts as not ready.
        type: str
        default: ""
      systems:
        description: The C(systems) list that C(system_info) returned for this host (with C(ip_routes) and C(service_users)).
        type: list
        elements: dict
        default: []
      status:
        description: The C(systems) list that C(subscription_status) returned for this host.
        type: list
        elements: dict
        default: []
      check_results:
        description:
          - >-
            One entry per check task, with C(check) (a short name such as V(dns)) and C(results) (the registered
            C(results) of that task, which looped over this host's nodes).
          - Each result needs C(item.node_address) to say which node it belongs to.
          - >-
            An entry may add C(skipped_because), the reason shown for its skipped results (for example that DNS gave
            no address to try the ports on).
        type: list
        elements: dict
        default: []
      manual_steps:
        description:
          - The C(manual_steps) the configuration modules returned for this host's nodes (settings their API profile
            has no carrier for). Each is judged against the node's link in C(status) and listed with its status
            (C(confirmed), C(entered) or C(open)) and the evidence.
        type: list
        elements: dict
        default: []
      manual_steps_entered:
        description: Settings the installer reports having entered by hand; shown as C(entered), never as measured.
        type: list
        elements: str
        default: []
      vantage_point:
        description:
          - >-
            Where this host's network checks ran: C(host) (the inventory name of the probe host, or V(localhost)),
            C(address), C(port), C(connection), C(user), C(controller) (V(true) when that is the controller), and
            C(reach), the probe host's answer to the role's first contact (C(unreachable), C(failed), C(msg), C(rc),
            C(module_stderr)).
          - >-
            Every check of the host's nodes then names its vantage point (C(vantage_point) of each check, and of each
            system). When the checks ran on the controller, the summary and the page say plainly that the verdict
            describes the controller's network. When the probe host could not be reached or could not run a module,
            each node that holds a link gets one failed check, C(probe.reachable), naming the probe host and the
            cause, and no network check counts as passed.
          - Empty when unknown (then nothing is said about it).
        type: dict
        default: {}
  dest:
    description:
      - Directory for C(readiness.json), C(readiness.html) and C(readiness.xml) (C(monitoring.json), C(monitoring.html) and
        C(monitoring.xml) with O(kind=monitoring)); created when missing.
      - Each file is written to a new temporary file in this directory, created exclusively (never through a link
        planted at its name), then renamed over the report, so a reader never sees half a report and a symbolic
        link at the report's name is replaced, not followed.
    type: path
    required: true
  kind:
    description:
      - V(readiness) judges the prerequisites, the checks and the first connection (the validate role).
      - >-
        V(monitoring) judges systems in service: link state, grace period days left, alarms and subscription expiry
        (the monitor role). C(systems) then only names the nodes; C(check_results) may add more checks.
    type: str
    choices: [readiness, monitoring]
    default: readiness
  expiry_warning_days:
    description:
      - With O(kind=monitoring), a subscription licence that expires within this many days fails, so whoever orders
        subscriptions renews in time, including time for the renewal order to be processed.
      - Ignored with O(kind=readiness).
    type: int
    default: 30
  alarm:
    description:
      - >-
        With O(kind=monitoring), the alarm that started this run, as the C(ipoffice.subscription.syslog_alarms) event
        source reports it in the event's C(payload) (C(system), C(address), C(kind), C(reason), C(grace_day),
        C(days_left), C(error_mode_since), C(raised), C(text)). It is evidence for the node it names (by LAN1 address
        or system name).
      - Empty for a scheduled run.
    type: dict
    default: {}
  history:
    description:
      - >-
        With O(kind=monitoring), a file of earlier verdicts on the controller (JSON lines). It is read first and this
        run's verdicts are appended (not in check mode); it is created when missing. Empty for none.
      - A line that cannot be read is skipped, counted in RV(history_skipped) and never fails the run.
    type: path
    default: ""
  formats:
    description:
      - Which files to write. V(json) is C(readiness.json), V(html) C(readiness.html), V(junit) C(readiness.xml)
        (C(monitoring.*) with O(kind=monitoring)).
      - The validate and monitor roles write all three by default (their C(validate_report_formats) and C(monitor_report_formats)).
    type: list
    elements: str
    choices: [json, html, junit]
    default: [json, html]
requirements:
  - jinja2 (for V(html); it comes with ansible-core)
'''

EXAMPLES = r'''
- name: Write the fleet's report once, with every host's results
  ipoffice.subscription.readiness_report:
    hosts: "{{ ansible_play_hosts_all | map('extract', hostvars, 'my_readiness_inputs') | list }}"
    dest: "{{ playbook_dir }}/readiness"
  delegate_to: localhost
  run_once: true
  register: report

- name: Show one line per system
  ansible.builtin.debug:
    var: report.lines
  run_once: true

- name: Write the monitoring report; licences expiring within 45 days need attention
  ipoffice.subscription.readiness_report:
    kind: monitoring
    expiry_warning_days: 45
    hosts: "{{ ansible_play_hosts_all | map('extract', hostvars, 'my_monitor_inputs') | list }}"
    dest: "{{ playbook_dir }}/monitoring"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
report:
  description: The report as written to C(readiness.json) (C(monitoring.json)).
  returned: always
  type: dict
  contains:
    kind:
      description: V(readiness) or V(monitoring).
      type: str
    title:
      description: The report's title.
      type: str
    generated:
      description: When the report was made (ISO 8601 UTC).
      type: str
    fleet:
      description: >-
        C(systems), C(ready), C(not_ready), C(unverified), C(no_link_expected), C(all_ready) (no system not ready or
        unverified), C(blockers) (each failing check with the systems it blocks, most common first),
        C(unverified_systems), C(vantage_points) (where the network checks ran, as text) and
        C(checked_from_controller) (the systems whose network checks ran on the controller).
      type: dict
    systems:
      description: >-
        One entry per system, failing ones first, then unverified ones. Each has C(system), C(inventory_host),
        C(node_address), C(system_type), C(role), C(holds_subscription_link), C(verdict) (V(ready), V(unverified),
        V(not_ready) or V(no_link_expected)), C(link), C(failed_checks), C(not_measured), C(unmeasured_requirements)
        (the checks of a requirement that were not measured), C(counts), C(notes), C(checks), C(api_profile),
        C(manual_steps), C(reboot_pending) (true while a change of this run waits for the system's reboot, its
        C(reboot) manual step open; null when the system could not be read)
        and C(vantage_point) (C(kind) V(controller) or V(probe_host), C(host), C(address) and C(text); V(null) when not
        known or the system has no link of its own).
        Each check has C(check), C(status), C(passed), C(measured), C(limit), C(unit), C(summary), C(hint) and
        C(details), and, when the vantage point is known, C(vantage_point): where it was measured, or that it was read
        from the IP Office. A prerequisite's C(details.evidence) says whether it was read back through the API,
        confirmed by a check, or not confirmed.
      type: list
      elements: dict
lines:
  description: One line per system, a line saying so when network checks ran on the controller, and a fleet line.
  returned: always
  type: list
  elements: str
  sample:
    - "scn-2 (192.0.2.32): NOT READY - ports.any_open: allow outbound TCP 443 and 8443"
    - "checked from the controller: scn-2 - their network checks ran on the controller, so the verdict describes the
      controller's network, not the site's: set validate_probe_host to a host in the site's network (docs/validate.md)"
    - "fleet: 2 of 3 systems ready, 1 not ready, 0 without a link of their own, 0 unverified"
not_ready:
  description: >-
    Inventory hosts with at least one system that is not ready (with O(kind=monitoring): that needs attention).
  returned: always
  type: list
  elements: str
unverified:
  description: >-
    Inventory hosts with at least one system whose verdict is V(unverified): nothing failed, but a requirement was not
    measured. The validate role fails them unless C(validate_accept_unverified) is true.
  returned: always
  type: list
  elements: str
paths:
  description: Files written (empty in check mode).
  returned: always
  type: list
  elements: str
history_skipped:
  description: Lines of O(history) that were not history entries and were skipped.
  returned: always
  type: int
'''

import datetime
import fcntl
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ipoffice.subscription.plugins.module_utils import history, monitoring, readiness, report_html

_FILES = {'json': ('%s.json', readiness.to_json), 'html': ('%s.html', readiness.to_html), 'junit': ('%s.xml', readiness.to_junit)}


def _write(path, text):
    """Write next to the target and rename, so a reader never sees half a report.

    The temporary file gets a name nobody can predict and is created exclusively (mkstemp: O_CREAT|O_EXCL, which
    never follows a link planted at the name), so another local user cannot make this write go elsewhere; the
    rename replaces whatever stands at the report's name, a link included, and never writes through it."""
    handle, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), 0o644)
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _read_history(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return history.parse_lines(handle.read())
    except FileNotFoundError:
        return [], 0


def _append_history(path, entries):
    """One line per system; under a lock, so two runs (an alarm's and the schedule's) never interleave lines."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'a', encoding='utf-8') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(''.join(json.dumps(item, sort_keys=True) + '\n' for item in entries))
        handle.flush()
        os.fsync(handle.fileno())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hosts=dict(type='list', elements='dict', required=True, options=dict(
                host=dict(type='str', required=True),
                error=dict(type='str', default=''),
                systems=dict(type='list', elements='dict', default=[]),
                status=dict(type='list', elements='dict', default=[]),
                check_results=dict(type='list', elements='dict', default=[]),
                manual_steps=dict(type='list', elements='dict', default=[]),
                manual_steps_entered=dict(type='list', elements='str', default=[]),
                vantage_point=dict(type='dict', default={}),
            )),
            dest=dict(type='path', required=True),
            formats=dict(type='list', elements='str', choices=sorted(_FILES), default=['json', 'html']),
            kind=dict(type='str', choices=[readiness.READINESS, readiness.MONITORING], default=readiness.READINESS),
            expiry_warning_days=dict(type='int', default=30),
            alarm=dict(type='dict', default={}),
            history=dict(type='path', default=''),
        ),
        supports_check_mode=True,
    )
    kind = module.params['kind']
    if 'html' in module.params['formats'] and not report_html.HAS_JINJA2:
        module.fail_json(msg=missing_required_lib('jinja2', reason='for the HTML report'), exception=report_html.JINJA2_IMPORT_ERROR)
    warning_days = module.params['expiry_warning_days']
    if warning_days < 0:
        module.fail_json(msg='expiry_warning_days must be 0 or more, got %d' % warning_days)
    now = datetime.datetime.now(datetime.timezone.utc)
    monitored = kind == readiness.MONITORING
    history_path = module.params['history'] if monitored else ''
    previous, skipped = [], 0
    if history_path:
        try:
            previous, skipped = _read_history(history_path)
        except (OSError, UnicodeDecodeError) as exc:
            module.fail_json(msg='cannot read the monitor history %r: %s' % (history_path, exc))
    reports = []
    for entry in module.params['hosts']:
        status = entry['status']
        if monitored:
            # What else measured each node's grace period: its alarm, or an earlier one kept in the history.
            info = dict((node.get('node_address'), node) for node in entry['systems'])
            status = [monitoring.with_evidence(node, info.get(node.get('node_address')), module.params['alarm'],
                                               history.episode(previous, entry['host'], node.get('name')), now) for node in status]
        # The controller's date only counts for a node that reported no timestamp of its own.
        reports.extend(readiness.host_reports(entry['host'], entry['systems'], status, entry['check_results'], entry['error'],
                                              kind=kind, expiry_warning_days=warning_days, fallback_today=now.date(),
                                              manual_steps=entry['manual_steps'], entered=entry['manual_steps_entered'],
                                              vantage_spec=entry['vantage_point']))
    generated = now.strftime('%Y-%m-%dT%H:%M:%SZ')
    doc = readiness.document(reports, generated, kind)
    added = []
    if monitored:
        if module.params['alarm']:
            doc['alarm'] = dict((key, value) for key, value in module.params['alarm'].items() if key != 'raw')
        added = history.entries(doc, generated)
        doc['timeline'] = history.timeline(doc, previous + added)
    paths = []
    if not module.check_mode:
        dest = module.params['dest']
        try:
            os.makedirs(dest, exist_ok=True)
            for fmt in module.params['formats']:
                name, render = _FILES[fmt]
                path = os.path.join(dest, name % kind)
                _write(path, render(doc))
                paths.append(path)
        except OSError as exc:
            module.fail_json(msg='cannot write the %s report to dest %r: %s' % (kind, dest, exc), report=doc, changed=bool(paths))
        if history_path and added:
            try:
                _append_history(history_path, added)
            except OSError as exc:
                module.fail_json(msg='cannot append to the monitor history %r: %s' % (history_path, exc), report=doc,
                                 changed=bool(paths))
            paths.append(history_path)
    not_ready = sorted(set(report['inventory_host'] for report in doc['systems'] if report['verdict'] == readiness.NOT_READY))
    unverified = sorted(set(report['inventory_host'] for report in doc['systems'] if report['verdict'] == readiness.UNVERIFIED))
    # Writing the report files is a change on the controller; check mode predicts the one a real run makes.
    changed = bool(module.params['formats']) if module.check_mode else bool(paths)
    module.exit_json(changed=changed, report=doc, lines=readiness.text_lines(doc), not_ready=not_ready, unverified=unverified,
                     paths=paths, history_skipped=skipped)


if __name__ == '__main__':
    main()
