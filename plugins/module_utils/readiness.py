# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The readiness report: per system, every prerequisite and check with its
value, limit, verdict and fix hint; a fleet summary; JSON and HTML.

The same report, of kind "monitoring", serves the monitor role: per system in
service, the link, the grace period, the alarms and each subscription's
expiry (judged by monitoring.py) instead of the prerequisites.

Pure functions over what the modules returned (system_info, the check
modules, subscription_status), so the report module stays thin and the
rules are unit-tested here. Nothing that could be a secret is ever read:
the inputs are module results, which never carry passwords.
"""

from __future__ import annotations

import json

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, history, link_status, monitoring, profiles, validators
from ansible_collections.ipoffice.subscription.plugins.module_utils import report_html, report_junit

READY = 'ready'
NOT_READY = 'not_ready'
NO_LINK_EXPECTED = 'no_link_expected'
# Nothing failed, but a requirement of the seeds was not measured: not ready either, and not the same as failing.
UNVERIFIED = 'unverified'
VERDICTS = (READY, UNVERIFIED, NOT_READY, NO_LINK_EXPECTED)
VERDICT_TEXT = {READY: 'ready', NOT_READY: 'NOT READY', UNVERIFIED: 'UNVERIFIED', NO_LINK_EXPECTED: 'no link of its own expected'}

# The requirements of Avaya's documents that a verdict rests on, each by the checks that measure it: a system whose
# checks of one of them were not measured (and nothing failed) is unverified, never ready. The settings read through
# the API (prerequisite.*) are not among them: the link and these checks are what proves them.
REQUIREMENTS = (
    ('link.', 'the link to COM is up'),
    ('dns.', 'DNS resolves the subscription server to one address'),
    ('ports.', 'outbound TCP 443 or 8443'),
    ('tls.', 'TLS 1.2 with mutual authentication and the WebSocket upgrade'),
    ('quality.', 'at most 200 ms round trip and at least 128 kbit/s'),
    ('time.', 'an accurate time source'),
)

# The kinds of report: the same format and rules, different checks and words.
# The verdict codes stay the same in both, so machines read both alike.
READINESS = 'readiness'
MONITORING = 'monitoring'
KINDS = {
    READINESS: {
        'title': 'IP Office subscription readiness',
        'verdicts': VERDICT_TEXT,
        'tiles': {READY: 'ready', NOT_READY: 'not ready', UNVERIFIED: 'unverified (not everything measured)',
                  NO_LINK_EXPECTED: 'no link of their own'},
        'blockers': 'What blocks the rest',
        'fleet': 'fleet: %(ready)d of %(holders)d systems ready, %(not_ready)d not ready, %(no_link_expected)d without a link of their own, '
                 '%(unverified)d unverified',
    },
    MONITORING: {
        'title': 'IP Office subscription monitoring',
        'verdicts': {READY: 'healthy', NOT_READY: 'NEEDS ATTENTION', UNVERIFIED: 'UNVERIFIED',
                     NO_LINK_EXPECTED: 'not applicable: no link of its own'},
        'tiles': {READY: 'healthy', NOT_READY: 'need attention', UNVERIFIED: 'unverified (not everything measured)',
                  NO_LINK_EXPECTED: 'not applicable'},
        'blockers': 'What needs attention',
        'fleet': 'fleet: %(ready)d of %(holders)d systems healthy, %(not_ready)d need attention, %(no_link_expected)d not applicable, '
                 '%(unverified)d unverified',
    },
}


def unmeasured_requirements(results):
    """The checks of a requirement (REQUIREMENTS) that were not measured, in order."""
    prefixes = tuple(prefix for prefix, _text in REQUIREMENTS)
    return [item['check'] for item in results if item['status'] == checks.NOT_MEASURED and item['check'].startswith(prefixes)]


def verdict_of(results, holds_link):
    """The verdict of one system from its checks: no link of its own, not ready (a check failed), unverified (nothing
    failed, but a requirement was not measured: a node with no link status at all is one), or ready."""
    if holds_link is False:
        return NO_LINK_EXPECTED
    if any(item['status'] == checks.FAIL for item in results):
        return NOT_READY
    if unmeasured_requirements(results):
        return UNVERIFIED
    return READY


def _kind(doc_or_kind):
    kind = doc_or_kind.get('kind') if isinstance(doc_or_kind, dict) else doc_or_kind
    return KINDS.get(kind or READINESS, KINDS[READINESS])


# Order in the report: what fails first, then what could not be measured, then what passed.
_STATUS_ORDER = {checks.FAIL: 0, checks.NOT_MEASURED: 1, checks.PASS: 2}


def _default_route(node):
    """The node's default route whose gateway is a host on the LAN it names (validators.gateway_problem), or None."""
    lans = dict((lan.get('name'), lan) for lan in node.get('lans') or [])
    for route in node.get('ip_routes') or []:
        if route.get('ip_address') in ('0.0.0.0', '') and route.get('ip_mask') in ('0.0.0.0', ''):
            lan = lans.get(route.get('destination'))
            if lan and validators.gateway_problem(route.get('gateway'), route.get('destination'), lan.get('ip_address'),
                                                  lan.get('ip_mask')) is None:
                return route
    return None


def _read_back(result, carrier):
    """A prerequisite judged from what the API read: say so, and where."""
    result['details']['evidence'] = 'read back through the API (%s)' % carrier if carrier else 'read back through the API'
    return result


def _not_readable(name, setting, status_node, summary, limit):
    """A prerequisite the node's release does not show through its API: judged from the link, or not at all.

    A link to COM that is up shows the settings it needs in effect (not which value they hold);
    anything else is not confirmed, and never passed."""
    spec = profiles.SETTINGS[setting]
    link_up = bool(status_node) and status_node.get('ready') is True
    where = '%s > %s' % (spec.where, spec.label)
    if link_up and profiles.LINK in spec.confirmed_by:
        evidence = ((status_node.get('link') or {}).get('evidence')) or 'link_status'
        return checks.result(name, checks.PASS, measured='in effect (the link to COM is up)', limit=limit, summary=summary,
                             evidence='confirmed by %s: %s (%s)' % (profiles.LINK, spec.how, 'read from the link status'
                                                                    if evidence == 'link_status' else 'judged from the licences'),
                             manual=True, where=where)
    reason = ('%s confirms it once the link to COM is up' % profiles.LINK if spec.confirmed_by
              else 'no check can see it through the API or the network: confirm it in Web Manager')
    return checks.result(name, checks.NOT_MEASURED, measured=None, limit=limit,
                         summary='%s: not readable through this release\'s API (%s); not confirmed: %s' % (summary, where, reason),
                         evidence='not confirmed: %s' % reason, manual=True, where=where)


def prerequisite_checks(node, status_node=None):
    """The settings the link needs, judged from system_info's facts of one node.

    A setting the node's API profile has no carrier for (carriers: manual) is
    judged from the node's link instead (status_node, subscription_status's facts)."""
    carriers = node.get('carriers') or {}
    manual = dict((setting, carriers.get(setting) == profiles.MANUAL) for setting in profiles.SETTINGS)
    dns = node.get('dns') or {}
    times = node.get('time') or {}
    subscription = node.get('subscription') or {}
    route = _default_route(node)
    comadmin = [user for user in node.get('service_users') or [] if user.get('name') == 'COMAdmin']
    comadmin_status = comadmin[0].get('account_status') if comadmin else None

    def judged(name, setting, ok, summary, limit, **kwargs):
        if manual[setting]:
            return _not_readable(name, setting, status_node, summary, limit)
        return _read_back(checks.passed_if(name, ok, limit=limit, summary=summary, **kwargs), carriers.get(setting))

    # The time source is one check over two settings (source and server): unreadable when either is.
    manual['time_source'] = manual['time_source'] or manual['time_server']
    results = [
        judged('prerequisite.default_route', 'default_route', route is not None, 'default route',
               '0.0.0.0/0.0.0.0 via a gateway on LAN1 or LAN2',
               measured=('0.0.0.0/0 via %s on %s' % (route.get('gateway'), route.get('destination'))) if route else None,
               hint=("add a default route (0.0.0.0/0.0.0.0) whose gateway is the customer's router, a host on the route's LAN (LAN1 or "
                     "LAN2): the customer's network administrator names the router, the installer sets ipoffice_default_gateway "
                     "and runs playbooks/site.yml (module ipoffice.subscription.ip_route)")),
        judged('prerequisite.dns_server', 'dns_server', bool(dns.get('server')), 'DNS server',
               'a DNS server (8.8.8.8 when the customer has none)', measured=dns.get('server') or None,
               hint=("set the DNS server: the installer sets ipoffice_dns_server (8.8.8.8 when the customer has none) and runs "
                     "playbooks/site.yml (module ipoffice.subscription.dns); the customer's DNS must resolve *.avaya-sub.com and "
                     "storage.googleapis.com; a DNS change acts after a reboot")),
        judged('prerequisite.time_source', 'time_source', times.get('source') == 'SNTP' and bool(times.get('server')), 'time source',
               'SNTP from a reachable time server (time.google.com)',
               measured=('%s %s' % (times.get('source') or '', times.get('server') or '')).strip() or None,
               hint=("set the time source to SNTP: the installer sets ipoffice_time_server (time.google.com by default) and runs "
                     "playbooks/site.yml (module ipoffice.subscription.time); the customer's firewall lets SNTP (UDP 123) out "
                     "through the default route")),
        judged('prerequisite.time_zone', 'time_zone', bool(times.get('time_zone')), 'time zone', "the site's time zone",
               measured=times.get('time_zone') or None,
               hint=("set the site's time zone: the installer sets ipoffice_time_zone (an IANA name such as Europe/London) and "
                     "runs playbooks/site.yml (module ipoffice.subscription.time)")),
    ]
    if node.get('holds_subscription_link') is not False:
        results.extend([
            judged('prerequisite.customer_id', 'customer_id', bool(subscription.get('customer_id')), 'customer ID',
                   'the customer ID from the order e-mail', measured=subscription.get('customer_id') or None,
                   hint=("set the customer ID from the order e-mail: the installer sets ipoffice_customer_id (quoted, as text) and "
                         "runs playbooks/site.yml (module ipoffice.subscription.subscription)")),
            judged('prerequisite.server_address', 'license_server', bool(subscription.get('server_address')), 'subscription server',
                   'the subscription server address from the order e-mail', measured=subscription.get('server_address') or None,
                   hint=("set the subscription server address from the order e-mail (a region host such as "
                         "admin.uk1.avaya-sub.com): the installer sets ipoffice_subscription_server and runs playbooks/site.yml "
                         "(module ipoffice.subscription.subscription)")),
            judged('prerequisite.comadmin', 'comadmin', comadmin_status == 'Enabled', 'COMAdmin service user', 'Enabled',
                   measured=comadmin_status or 'missing',
                   hint=("create or enable the COMAdmin service user, whose security settings the link uses: the installer sets "
                         "ipoffice_comadmin_password and runs playbooks/site.yml (module ipoffice.subscription.service_user)")),
        ])
    return results


def _node_of(result):
    item = result.get('item')
    return item.get('node_address') if isinstance(item, dict) else None


def collected_checks(check_results, node_address):
    """The check results of one node out of the registered loop results of the check modules.

    check_results: [{'check': 'dns', 'results': [registered loop results], 'skipped_because': why,
    'not_run': why the whole check did not run, or empty}, ...].
    A skipped item becomes not_measured ("not run", with the group's
    skipped_because when given), an item whose module did not run to the end
    (or whose host could not be reached) becomes a failed check carrying its
    message: the report never goes quiet about a check that did not happen.
    """
    found = []
    for group in check_results or []:
        name = group.get('check') or 'check'
        if group.get('not_run'):
            # The whole check did not run (the play's tags left it out): said for every node, never silence.
            found.append(checks.result('%s.not_run' % name, checks.NOT_MEASURED, summary='not run: %s' % group['not_run']))
            continue
        for result in group.get('results') or []:
            if not isinstance(result, dict) or _node_of(result) != node_address:
                continue
            if result.get('skipped'):
                found.append(checks.result('%s.not_run' % name, checks.NOT_MEASURED, summary='not run: %s' % (
                    group.get('skipped_because') or result.get('false_condition') or result.get('skip_reason') or 'skipped')))
            elif 'checks' not in result:
                # With failed_when false a module error leaves failed unset: no checks list means it did not run.
                message = result.get('msg', 'unknown error')
                found.append(checks.result('%s.error' % name, checks.FAIL, summary='the check could not run: %s' % message,
                                           hint=('the %s check could not run (%s): the installer fixes what this names (the '
                                                 'setting, or the path to the host the checks run on) and runs '
                                                 'playbooks/validate.yml again' % (name, message))))
            else:
                found.extend(item for item in result['checks'] if isinstance(item, dict) and item.get('check'))
    return found


# -- vantage point: where the network checks ran ------------------------------------------------------------------

CONTROLLER = 'controller'
PROBE_HOST = 'probe_host'
FROM_THE_SYSTEM = 'read from the IP Office through its Management API'
CONTROLLER_WARNING = ("their network checks ran on the controller, so the verdict describes the controller's network, "
                      "not the site's: set validate_probe_host to a host in the site's network (docs/validate.md)")


def vantage_point(spec):
    """{'kind', 'host', 'address', 'text'} of the host the network checks ran on, or None when nobody said.

    spec: what the validate role passes (host, address, port, connection, user, controller)."""
    if not spec or not spec.get('host'):
        return None
    kind = CONTROLLER if spec.get('controller') else PROBE_HOST
    address = spec.get('address') or spec['host']
    port = spec.get('port')
    where = address if port in (None, '', 22, '22') else '%s port %s' % (address, port)
    if kind == CONTROLLER:
        text = 'the controller (%s)' % spec['host']
    else:
        text = 'probe host %s (%s)' % (spec['host'], where)
    return {'kind': kind, 'host': spec['host'], 'address': address, 'text': text}


def _lines(*texts):
    """The lines of texts worth quoting: without Ansible's "Task failed: " and ssh's rows of @."""
    found = []
    for text in texts:
        for line in str(text or '').splitlines():
            line = line.strip()
            if line.startswith('Task failed: '):
                line = line[len('Task failed: '):]
            line = line.strip('@ ').rstrip(':').strip()
            if line:
                found.append(line)
    return found


def _quote(lines, *keywords):
    """The first line holding the first keyword that any line holds (any case), else the first line."""
    for word in keywords:
        for line in lines:
            if word in line.lower():
                return line
    return lines[0] if lines else 'no message'


def probe_problem(spec):
    """Why the network checks could not run on the probe host, as (cause, fix); None when they could.

    spec['reach'] is the probe host's answer to the role's first contact (Ansible's ping): unreachable with
    Ansible's connection message, or a module that did not run (no Python there)."""
    reach = (spec or {}).get('reach') or {}
    if not (reach.get('unreachable') or reach.get('failed')):
        return None
    lines = _lines(reach.get('msg'), reach.get('module_stdout'), reach.get('module_stderr'))
    lowered = '\n'.join(lines).lower()
    user = spec.get('user') or 'its user'
    where = '%s:%s' % (spec.get('address') or spec.get('host'), spec.get('port') or 22)
    if reach.get('unreachable'):
        if 'host key mismatch' in lowered or 'has changed' in lowered:
            return ('its SSH host key does not match the one known_hosts holds for %s (Ansible: %s)'
                    % (where, _quote(lines, 'host key mismatch', 'host key for', 'has changed')),
                    'another machine answers at that address, or the probe host was reinstalled: compare its host key '
                    'fingerprint with the probe host itself, then update known_hosts; host key checking stays on')
        # paramiko asks whether to trust an unknown key (its one question), and with no terminal to answer it the
        # connection fails on the question itself.
        asked = spec.get('connection') == 'paramiko' and ('not interactive' in lowered or 'rejected by user' in lowered)
        if asked or 'authenticity' in lowered or 'host key is known' in lowered or 'host key verification failed' in lowered:
            return ('its SSH host key is not in known_hosts (Ansible: %s)'
                    % _quote(lines, 'host key is known', 'not interactive', 'rejected', 'host key', 'authenticity'),
                    'add the probe host\'s key to known_hosts after checking its fingerprint on the probe host itself')
        if 'authenticat' in lowered or 'permission denied' in lowered or 'invalid/incorrect' in lowered:
            return ('it refused the SSH key of user %s (Ansible: %s)' % (user, _quote(lines, 'authenticat', 'permission denied')),
                    'put the controller\'s public key in ~%s/.ssh/authorized_keys on the probe host, or name the right '
                    'private key (ansible_ssh_private_key_file)' % user)
        return ('SSH to %s cannot be reached (Ansible: %s)' % (where, _quote(lines, 'connect')),
                'check that the probe host is up, that sshd listens on that address and port, and that the controller '
                'may reach it')
    if reach.get('rc') == 127 or 'no python' in lowered or 'interpreter' in lowered \
            or ('python' in lowered and ('not found' in lowered or 'no such file' in lowered)):
        return ('it has no Python interpreter (%s)' % _quote(lines, 'interpreter', 'python'),
                'install Python 3 (3.8 or later) on the probe host, or point ansible_python_interpreter at it; the '
                'checks need nothing else there')
    return ('a module sent there failed (Ansible: %s)' % '; '.join(lines[:2] or ['no message']),
            'run the play with -vvv to see what the probe host answered')


def _at_vantage(results, text):
    """The results with where they were measured."""
    return [dict(item, vantage_point=text) for item in results]


def link_checks(status_node):
    """First connection and licences, from subscription_status's facts of one node (link_status.judge_link's rule).

    No link status at all is not measured (and so never ready: the verdict is unverified at best)."""
    if not status_node:
        return [checks.result('link.first_connection', checks.NOT_MEASURED, limit='connected to COM',
                              summary='not measured: the link status could not be read')]
    link = status_node.get('link') or {}
    judged = link_status.judge_link(status_node)
    connected = judged['connected']
    results = [checks.passed_if(
        'link.first_connection', connected, measured=('connected on port %s' % link.get('port')) if connected else link.get('state'),
        limit='connected to COM', hint=judged['text'], summary='link to COM', reason=link.get('reason'))]
    if connected:
        results.append(monitoring.licences_check(status_node))
    return results


def _ordered(results):
    return sorted(results, key=lambda item: _STATUS_ORDER.get(item['status'], 3))


def _notes(node_checks, status_node):
    notes = []
    port = ((status_node or {}).get('link') or {}).get('port')
    # A port that is not open does not fail a node when another port is: the system tries it, then moves on.
    closed = [item['check'].split('.', 1)[1] for item in node_checks
              if item['check'].startswith('ports.') and item['check'] != 'ports.any_open' and item.get('measured') not in (None, 'open')]
    if closed and any(item['check'] == 'ports.any_open' and item['status'] == checks.PASS for item in node_checks):
        notes.append('TCP %s not open (%s): the system tries it first and then uses %s' % (
            ', '.join(closed), ', '.join(str(item.get('measured')) for item in node_checks
                                         if item['check'] in ['ports.' + name for name in closed]),
            port or 'the other port'))
    elif port and int(port) != 443:
        notes.append('the link runs on port %s' % port)
    unmeasured = [item['check'] for item in node_checks if item['status'] == checks.NOT_MEASURED]
    if unmeasured:
        notes.append('not measured: %s' % ', '.join(unmeasured))
    return notes


def _network_checks(check_results, node, vantage_spec):
    """The node's network checks, each naming where it ran; one failure instead when the probe host was unusable."""
    where = vantage_point(vantage_spec)
    problem = probe_problem(vantage_spec)
    if problem:
        cause, fix = problem
        place = where['text'] if where else 'the probe host'
        failure = checks.result('probe.reachable', checks.FAIL, measured=None, limit='the checks run on the probe host',
                                summary='the network checks could not run on %s: %s' % (place, cause), hint=fix)
        return _at_vantage([failure], place), where, cause
    found = collected_checks(check_results, node.get('node_address'))
    return (_at_vantage(found, where['text']) if where else found), where, None


def system_report(host, node, status_node, check_results, kind=READINESS, expiry_warning_days=monitoring.DEFAULT_EXPIRY_WARNING_DAYS,
                  fallback_today=None, manual_steps=None, entered=(), vantage_spec=None):
    """One node's entry in the report.

    readiness: the prerequisites, the collected checks, the first connection.
    monitoring: the link, grace period, alarms and expiries of monitoring.py
    (days counted from the device's date, else fallback_today), and the
    collected checks; a node without a link of its own gets none.
    vantage_spec: where the network checks ran (see vantage_point); each
    check then names it, and the system's entry too.
    """
    holds_link = node.get('holds_subscription_link')
    where = problem = None
    if kind == MONITORING:
        results = []
        if holds_link is not False:
            results = monitoring.node_checks(status_node, expiry_warning_days, fallback_today)
            # The validate role's network checks, when monitor ran them, name where they ran as in readiness.
            network, where, problem = _network_checks(check_results, node, vantage_spec)
            results += network
    else:
        results = prerequisite_checks(node, status_node)
        if holds_link is not False:
            network, where, problem = _network_checks(check_results, node, vantage_spec)
            results += network
            results += link_checks(status_node)
        if vantage_spec:
            results = [item if item.get('vantage_point') else dict(item, vantage_point=FROM_THE_SYSTEM) for item in results]
    summary = checks.add_up(results)
    verdict = verdict_of(results, holds_link)
    link = (status_node or {}).get('link') or {}
    report = {
        'system': node.get('name'),
        'inventory_host': host,
        'node_address': node.get('node_address'),
        'system_type': node.get('system_type'),
        'role': node.get('role'),
        'holds_subscription_link': holds_link,
        'verdict': verdict,
        'link': {'state': link.get('state'), 'port': link.get('port'), 'reason': link.get('reason_text') or link.get('reason')},
        'failed_checks': summary['failed'],
        'not_measured': summary['not_measured'],
        # The requirements' checks nobody measured: what makes the verdict unverified when nothing failed.
        'unmeasured_requirements': unmeasured_requirements(results) if holds_link is not False else [],
        'counts': summary['counts'],
        'notes': _notes(results, status_node),
        'checks': _ordered(results),
        'api_profile': node.get('api_profile'),
        # Settings a person must enter in Web Manager on this node, each judged against this run's link.
        'manual_steps': profiles.confirm_steps([step for step in manual_steps or [] if step.get('node') == node.get('node_address')],
                                               [dict(status_node, node_address=node.get('node_address'))] if status_node else [],
                                               entered),
        'vantage_point': where,
    }
    reboots = [step for step in report['manual_steps'] if step['setting'] == 'reboot' and step['status'] == profiles.OPEN]
    if reboots:
        # A setting that acts only after a reboot is not in effect yet: never ready before it.
        waiting = checks.result('reboot.pending', checks.FAIL, measured='waits for a reboot', limit='no change waiting for a reboot',
                                hint='reboot %s in a maintenance window (%s): %s; this collection does not reboot' % (
                                    node.get('name') or node.get('node_address'), profiles.SETTINGS['reboot'].where,
                                    reboots[0]['value']), summary='reboot')
        # First among the failures: until the reboot, the other failures may only be its consequences.
        report['checks'] = _ordered([waiting] + report['checks'])
        summary = checks.add_up(report['checks'])
        report.update(failed_checks=summary['failed'], not_measured=summary['not_measured'], counts=summary['counts'])
        if holds_link is not False:
            report['verdict'] = NOT_READY
        report['reboot_pending'] = True
    else:
        report['reboot_pending'] = False
    open_steps = [step for step in report['manual_steps'] if step['status'] == profiles.OPEN]
    if open_steps:
        report['notes'].append('%d manual step%s open in Web Manager' % (len(open_steps), '' if len(open_steps) == 1 else 's'))
    if problem:
        report['notes'].insert(0, 'the network checks could not run on %s: %s' % (where['text'] if where else 'the probe host', problem))
    elif where:
        report['notes'].append('network checks from %s' % where['text'])
    if holds_link is False:
        report['notes'].insert(0, 'a Server Edition %s has no subscription link of its own: the Primary carries it' % (node.get('role') or 'server'))
    elif kind == MONITORING and status_node:
        report['notes'].append('days counted from %s' % monitoring.reference_date(status_node, fallback_today)[1])
    return report


def unreadable_host(host, error):
    """An entry for an inventory host whose API could not be read: not ready, saying why."""
    result = checks.result('api.readable', checks.FAIL, measured=None, limit='the Management API answers',
                           hint=('check the address, the service user and its rights, and the CA: the installer corrects ipoffice_host, '
                                 'the service user (a rights group with Management API Read and Write) or ipoffice_ca_path, '
                                 'then runs the play again'),
                           summary=error)
    return {
        'system': host, 'inventory_host': host, 'node_address': None, 'system_type': None, 'role': None,
        'holds_subscription_link': None, 'verdict': NOT_READY, 'link': {'state': None, 'port': None, 'reason': None},
        'failed_checks': ['api.readable'], 'not_measured': [], 'unmeasured_requirements': [],
        'counts': {checks.PASS: 0, checks.FAIL: 1, checks.NOT_MEASURED: 0},
        'notes': ['the system could not be read: %s' % error], 'checks': [result], 'api_profile': None, 'manual_steps': [],
        'vantage_point': None,
        'reboot_pending': None,
    }


def host_reports(host, info_systems, status_systems, check_results, error=None, kind=READINESS,
                 expiry_warning_days=monitoring.DEFAULT_EXPIRY_WARNING_DAYS, fallback_today=None, manual_steps=None, entered=(),
                 vantage_spec=None):
    if error:
        return [unreadable_host(host, error)]
    status_by_node = dict((item.get('node_address'), item) for item in status_systems or [])
    return [system_report(host, node, status_by_node.get(node.get('node_address')), check_results, kind, expiry_warning_days, fallback_today,
                          manual_steps, entered, vantage_spec)
            for node in info_systems or []]


def fleet_summary(reports):
    """How many systems are ready, unverified and not ready, and what blocks the rest (each failing check with the
    systems it blocks). all_ready only when none is not ready or unverified."""
    blockers = {}
    for report in reports:
        for name in report['failed_checks']:
            blockers.setdefault(name, []).append(report['system'])
    counts = dict((verdict, sum(1 for report in reports if report['verdict'] == verdict)) for verdict in VERDICTS)
    places = [report.get('vantage_point') for report in reports if report.get('vantage_point')]
    return {
        'systems': len(reports),
        'ready': counts[READY],
        'not_ready': counts[NOT_READY],
        'unverified': counts[UNVERIFIED],
        'no_link_expected': counts[NO_LINK_EXPECTED],
        'all_ready': counts[NOT_READY] == 0 and counts[UNVERIFIED] == 0,
        'blockers': [{'check': name, 'systems': sorted(systems)} for name, systems in sorted(blockers.items(), key=lambda kv: (-len(kv[1]), kv[0]))],
        'unverified_systems': sorted(report['system'] or report['inventory_host'] for report in reports if report['verdict'] == UNVERIFIED),
        'vantage_points': sorted(set(place['text'] for place in places)),
        'checked_from_controller': sorted(report['system'] for report in reports
                                          if (report.get('vantage_point') or {}).get('kind') == CONTROLLER),
    }


def controller_line(fleet):
    """The plain warning for systems whose network checks ran on the controller, or None."""
    systems = fleet.get('checked_from_controller') or []
    if not systems:
        return None
    return 'checked from the controller: %s - %s' % (', '.join(systems), CONTROLLER_WARNING)


def ordered_reports(reports):
    """Failing systems first, then unverified ones, then ready ones, then those without a link of their own; by name
    within each."""
    rank = {NOT_READY: 0, UNVERIFIED: 1, READY: 2, NO_LINK_EXPECTED: 3}
    return sorted(reports, key=lambda report: (rank.get(report['verdict'], 3), report.get('system') or ''))


def document(reports, generated, kind=READINESS):
    reports = ordered_reports(reports)
    return {'kind': kind, 'title': _kind(kind)['title'], 'generated': generated, 'fleet': fleet_summary(reports), 'systems': reports}


def to_json(doc):
    return json.dumps(doc, indent=2, sort_keys=True) + '\n'


def text_lines(doc):
    """One line per system, for the play's output."""
    words = _kind(doc)
    lines = []
    for report in doc['systems']:
        # A host whose API could not be read has no node address: its line names the host alone.
        where = ' (%s)' % report['node_address'] if report.get('node_address') else ''
        line = '%s%s: %s' % (report['system'], where, words['verdicts'][report['verdict']])
        if report['failed_checks']:
            first = [item for item in report['checks'] if item['status'] == checks.FAIL][0]
            line += ' - %s: %s' % (first['check'], first['hint'])
        elif report['verdict'] == UNVERIFIED:
            line += ' - %s' % unverified_text(report)
        elif report['notes']:
            line += ' - ' + '; '.join(report['notes'])
        lines.append(line)
    fleet = doc['fleet']
    warning = controller_line(fleet)
    if warning:
        lines.append(warning)
    lines.append(words['fleet'] % dict(fleet, holders=fleet['systems'] - fleet['no_link_expected']))
    # Monitoring: when each system's error mode began and when its telephony stops (history.py), soonest first.
    lines.extend('timeline: %s' % line for line in history.timeline_lines(doc.get('timeline') or []))
    return lines


def to_html(doc):
    """A self-contained page: the fleet's counts, a summary table (one row per system, failing ones first, a
    column per area linking to its checks), what blocks the rest, then each system with failing checks first.

    The page is a Jinja2 template in report_html.py; any verdict code gets its own CSS class and words."""
    model = report_html.page_model(doc, _kind(doc), VERDICT_TEXT, CONTROLLER_WARNING, (doc.get('kind') or READINESS) == MONITORING)
    return report_html.render(model)


def to_junit(doc):
    """The checks as JUnit XML: one test suite per system, one test case per check (report_junit.py)."""
    return report_junit.to_junit(doc, dict(VERDICT_TEXT, **_kind(doc)['verdicts']))


def unverified_text(report):
    """Why a system is unverified: each requirement's check that was not measured, with its reason."""
    return checks.unmeasured_text(report['checks'], report['unmeasured_requirements'])
