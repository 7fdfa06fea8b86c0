# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A customer site the controller cannot see, for the probe-host tests.

Three network namespaces of this test's own, joined by veth links on
198.18.0.0/15 (the range set aside for network tests, RFC 2544):

    controller (ansible-playbook)      site (the lab)                   probe host
    ctl0 198.18.0.1/30  ---------  198.18.0.2/30 site0
                                   198.18.0.5/30 site1  ---------  198.18.0.6/30 probe0

- site: the whole lab runs here (labctl.py in this namespace): the systems'
  Management API and LAN addresses, the site's DNS servers, the time source,
  COM and the shaping proxy, all on the site's own loopback, exactly where
  the rest of the system tests have them. An sshd on 127.0.30.1:22 stands
  for the Server Edition Primary's Linux (its LAN1 address).
- probe host: nothing but sshds on 198.18.0.6: port 22; 2222 with the same
  host key, which the tests' known_hosts records wrongly; 2224 with a host
  key known_hosts does not hold; 2223 in a mount namespace where no Python
  exists. Its only routes lead into the site.
- controller: its only routes are the /32s of the Management API endpoints
  and of the probe host, through the site: it reaches the API on 7070 and
  SSH on 22, and nothing of DNS, time, COM or the lab's control port, which
  fail at once with "Network is unreachable". Its loopback stays down.

Loopback addresses cross a veth only where the link allows it
(route_localnet), which is how 127.0.x addresses of the site are routed.
The probe host's login is the unprivileged account scripts/lib.sh creates;
sshd checks keys only, the tests write known_hosts, and nothing turns host
key checking off. Everything is removed again by close().
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from conftest import LABCTL, Lab

CLONE_NEWNET = 0x40000000
PROBE_USER = 'ipoffice-probe'
CONTROLLER_ADDRESS = '198.18.0.1'
SITE_ADDRESS = '198.18.0.2'
SITE_PROBE_SIDE = '198.18.0.5'
PROBE_ADDRESS = '198.18.0.6'
SE_LINUX_ADDRESS = '127.0.30.1'
# Ports of the probe host's sshd: the real one, the same sshd under a host key known_hosts records wrongly, and a
# second sshd that sees no Python.
SSH_PORT = 22
MISMATCH_PORT = 2222
NO_PYTHON_PORT = 2223
# An sshd whose host key known_hosts does not hold under any name (OpenSSH would match the probe's own key through
# the entry without a port).
UNKNOWN_KEY_PORT = 2224
# What the controller may reach: the lab's Management API endpoints (tests/lab/topology.yml).
API_ENDPOINTS = ('127.0.10.1', '127.0.20.1', '127.0.30.1', '127.0.30.2', '127.0.30.3')
SSHD = '/usr/sbin/sshd'

_libc = ctypes.CDLL(None, use_errno=True)


def run_in_netns(name, function, *args, **kwargs):
    """function(*args) in a thread that joined the network namespace `name`: every socket it opens is there.

    A network namespace belongs to a thread, so the caller's own namespace stays as it was."""
    outcome = {}

    def target():
        try:
            handle = os.open('/run/netns/%s' % name, os.O_RDONLY)
            try:
                if _libc.setns(handle, CLONE_NEWNET) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, 'setns into %s failed: %s' % (name, os.strerror(error)))
            finally:
                os.close(handle)
            outcome['value'] = function(*args, **kwargs)
        except BaseException as exc:  # pylint: disable=broad-except
            outcome['error'] = exc

    thread = threading.Thread(target=target, name='netns-%s' % name)
    thread.start()
    thread.join()
    if 'error' in outcome:
        raise outcome['error']
    return outcome.get('value')


def _ip(*args):
    subprocess.run(['ip'] + list(args), check=True, capture_output=True, text=True)


def _in(namespace, *command, **kwargs):
    return subprocess.run(['ip', 'netns', 'exec', namespace] + list(command), check=kwargs.pop('check', True),
                          capture_output=True, text=True, **kwargs)


class SiteLab(Lab):
    """The lab of the site namespace: its control API is reached from inside that namespace."""

    def __init__(self, state, namespace):
        super(SiteLab, self).__init__(state)
        self.namespace = namespace

    def control(self, method, path, body=None):
        return run_in_netns(self.namespace, Lab.control, self, method, path, body)

    def inside(self, function, *args, **kwargs):
        """function(*args) with the site's network: e.g. linklab.configure, which talks to the API endpoints."""
        return run_in_netns(self.namespace, function, *args, **kwargs)


def reachable(address, port, timeout=2.0, udp_probe=None):
    """'open', or why not ('unreachable', 'refused', 'timeout', ...), for TCP; for UDP, whether an answer came."""
    if udp_probe is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
            sock.send(udp_probe)
            sock.recv(512)
            return 'open'
        except socket.timeout:
            return 'timeout'
        except OSError as exc:
            return os.strerror(exc.errno) if exc.errno else str(exc)
        finally:
            sock.close()
    try:
        socket.create_connection((address, port), timeout=timeout).close()
        return 'open'
    except socket.timeout:
        return 'timeout'
    except OSError as exc:
        return os.strerror(exc.errno) if exc.errno else str(exc)


def _keygen(path, comment):
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], check=True)
    with open(path + '.pub') as handle:
        return ' '.join(handle.read().split()[:2])


_SSHD_CONFIG = '''\
# sshd of a probe host in the system tests (tests/system/sitenet.py)
{listen}
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized_keys}
# The keys live in the test's own folder, not in the user's home.
StrictModes no
AllowUsers {user}
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp internal-sftp
LogLevel VERBOSE
'''

# A mount namespace where /usr/bin holds everything of the real one except Python: a probe host without Python.
_HIDE_PYTHON = '''\
set -e
mkdir -p "$1"
mount --bind /usr/bin "$1"
mount -t tmpfs -o mode=0755 tmpfs /usr/bin
for entry in "$1"/*; do
    name=${entry##*/}
    case "$name" in python*) continue ;; esac
    "$1/ln" -s "$entry" "/usr/bin/$name"
done
shift
exec "$@"
'''


class Site(object):
    """The controller, site and probe-host namespaces of one pytest worker, the lab in the site and the sshds."""

    def __init__(self, state):
        tag = '%d' % os.getpid()
        self.controller = 'ipo-ctl-%s' % tag
        self.site = 'ipo-site-%s' % tag
        self.probe = 'ipo-probe-%s' % tag
        self.namespaces = []
        self.daemons = []
        self.state = state
        # Keys and configuration: readable by the probe user (public keys only; private keys stay 0600).
        self.dir = tempfile.mkdtemp(prefix='ipo-site-')
        os.chmod(self.dir, 0o755)
        self.lab = None

    # -- set-up ---------------------------------------------------------------------------------------------------

    def open(self):
        try:
            self._network()
            self._start_lab()
            self._keys()
            self._start_sshds()
        except BaseException:
            self.close()
            raise
        return self

    def _network(self):
        for name in (self.controller, self.site, self.probe):
            _ip('netns', 'add', name)
            self.namespaces.append(name)
        _ip('-n', self.site, 'link', 'set', 'lo', 'up')
        _ip('link', 'add', 'ctl0', 'netns', self.controller, 'type', 'veth', 'peer', 'name', 'site0', 'netns', self.site)
        _ip('link', 'add', 'probe0', 'netns', self.probe, 'type', 'veth', 'peer', 'name', 'site1', 'netns', self.site)
        for namespace, device, address in ((self.controller, 'ctl0', CONTROLLER_ADDRESS), (self.site, 'site0', SITE_ADDRESS),
                                           (self.site, 'site1', SITE_PROBE_SIDE), (self.probe, 'probe0', PROBE_ADDRESS)):
            _ip('-n', namespace, 'addr', 'add', address + '/30', 'dev', device)
            _ip('-n', namespace, 'link', 'set', device, 'up')
            # Addresses of 127.0.0.0/8 may cross this link (the site's services live on its loopback).
            _in(namespace, 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.%s.route_localnet=1' % device)
        _in(self.site, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        for address in API_ENDPOINTS + (PROBE_ADDRESS,):
            _ip('-n', self.controller, 'route', 'add', address + '/32', 'via', SITE_ADDRESS)
        _ip('-n', self.probe, 'route', 'add', '127.0.0.0/8', 'via', SITE_PROBE_SIDE)
        _ip('-n', self.probe, 'route', 'add', CONTROLLER_ADDRESS + '/32', 'via', SITE_PROBE_SIDE)
        self._server_linux_source()

    def _server_linux_source(self):
        """The Server Edition Primary's Linux shares the site namespace with the lab, whose own clients would speak
        from 127.0.0.1: the probe user's connections there speak from the Primary's LAN1 address instead (a routing
        rule by user ahead of the local table), so the lab's logs tell the Primary's checks apart."""
        uid = subprocess.run(['id', '-u', PROBE_USER], check=True, capture_output=True, text=True).stdout.strip()
        _ip('-n', self.site, 'route', 'add', 'local', '127.0.0.0/8', 'dev', 'lo', 'src', SE_LINUX_ADDRESS, 'table', '30')
        _ip('-n', self.site, 'rule', 'add', 'pref', '10', 'uidrange', '%s-%s' % (uid, uid), 'lookup', '30')
        _ip('-n', self.site, 'rule', 'add', 'pref', '100', 'lookup', 'local')
        _ip('-n', self.site, 'rule', 'del', 'pref', '0')

    def _start_lab(self):
        subprocess.run(['ip', 'netns', 'exec', self.site, sys.executable, LABCTL, 'stop', '--state', self.state],
                       check=False, capture_output=True)
        started = _in(self.site, sys.executable, LABCTL, 'start', '--state', self.state, '--fresh', check=False)
        if started.returncode != 0:
            raise RuntimeError('the site lab did not start:\n%s\n%s' % (started.stdout, started.stderr))
        self.lab = SiteLab(self.state, self.site)

    def _keys(self):
        self.client_key = os.path.join(self.dir, 'id_probe')
        self.wrong_key = os.path.join(self.dir, 'id_wrong')
        self.host_keys = {}
        authorized = _keygen(self.client_key, 'controller')
        _keygen(self.wrong_key, 'not authorized')
        for name in ('probe', 'server', 'other', 'unknown'):
            self.host_keys[name] = _keygen(os.path.join(self.dir, 'host_%s' % name), name)
        self.authorized_keys = os.path.join(self.dir, 'authorized_keys')
        with open(self.authorized_keys, 'w') as handle:
            handle.write(authorized + '\n')
        os.chmod(self.authorized_keys, 0o644)
        # What the controller knows: the probe host's and the Primary's real host keys, and for port 2222 a key
        # that is not the one that sshd presents (a host key mismatch).
        self.known_hosts = os.path.join(self.dir, 'known_hosts')
        with open(self.known_hosts, 'w') as handle:
            handle.write('%s %s\n' % (PROBE_ADDRESS, self.host_keys['probe']))
            handle.write('[%s]:%d %s\n' % (PROBE_ADDRESS, MISMATCH_PORT, self.host_keys['other']))
            handle.write('[%s]:%d %s\n' % (PROBE_ADDRESS, NO_PYTHON_PORT, self.host_keys['probe']))
            handle.write('%s %s\n' % (SE_LINUX_ADDRESS, self.host_keys['server']))

    def _sshd_config(self, name, listen, host_key):
        path = os.path.join(self.dir, 'sshd_%s.conf' % name)
        with open(path, 'w') as handle:
            handle.write(_SSHD_CONFIG.format(
                listen='\n'.join('ListenAddress %s:%d' % item for item in listen), host_key=os.path.join(self.dir, host_key),
                authorized_keys=self.authorized_keys, user=PROBE_USER))
        return path

    def _start_sshds(self):
        # sshd wants its privilege separation directory, which only the packaged service would create.
        os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
        probe = self._sshd_config('probe', [(PROBE_ADDRESS, SSH_PORT), (PROBE_ADDRESS, MISMATCH_PORT)], 'host_probe')
        unknown = self._sshd_config('unknown', [(PROBE_ADDRESS, UNKNOWN_KEY_PORT)], 'host_unknown')
        no_python = self._sshd_config('nopython', [(PROBE_ADDRESS, NO_PYTHON_PORT)], 'host_probe')
        server = self._sshd_config('server', [(SE_LINUX_ADDRESS, SSH_PORT)], 'host_server')
        hide = os.path.join(self.dir, 'hide_python.sh')
        with open(hide, 'w') as handle:
            handle.write(_HIDE_PYTHON)
        # Each is waited for from the controller, through the links (the probe host's own loopback stays down).
        self._daemon(self.probe, [SSHD, '-D', '-e', '-f', probe], (PROBE_ADDRESS, SSH_PORT))
        self._daemon(self.probe, ['unshare', '--mount', '--propagation', 'private', 'sh', hide,
                                  os.path.join(self.dir, 'realbin'), SSHD, '-D', '-e', '-f', no_python],
                     (PROBE_ADDRESS, NO_PYTHON_PORT))
        self._daemon(self.probe, [SSHD, '-D', '-e', '-f', unknown], (PROBE_ADDRESS, UNKNOWN_KEY_PORT))
        self._daemon(self.site, [SSHD, '-D', '-e', '-f', server], (SE_LINUX_ADDRESS, SSH_PORT))

    def _daemon(self, namespace, command, listening):
        log = open(os.path.join(self.dir, 'sshd-%d.log' % len(self.daemons)), 'w')
        proc = subprocess.Popen(['ip', 'netns', 'exec', namespace] + command, stdout=log, stderr=subprocess.STDOUT)
        self.daemons.append((proc, log))
        deadline = time.monotonic() + 10
        while run_in_netns(self.controller, reachable, *listening, timeout=0.5) != 'open':
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                with open(log.name) as handle:
                    raise RuntimeError('sshd did not listen on %s:%d:\n%s' % (listening + (handle.read(),)))
            time.sleep(0.1)

    # -- use ----------------------------------------------------------------------------------------------------

    def in_controller(self, function, *args, **kwargs):
        return run_in_netns(self.controller, function, *args, **kwargs)

    def in_probe(self, function, *args, **kwargs):
        return run_in_netns(self.probe, function, *args, **kwargs)

    def controller_command(self, command):
        """A command line that runs in the controller's namespace."""
        return ['ip', 'netns', 'exec', self.controller] + list(command)

    def sshd_log(self):
        text = []
        for proc, log in self.daemons:
            log.flush()
            with open(log.name) as handle:
                text.append(handle.read())
        return '\n'.join(text)

    # -- tear-down ------------------------------------------------------------------------------------------------

    def close(self):
        for proc, log in self.daemons:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            log.close()
        self.daemons = []
        if self.lab is not None:
            _in(self.site, sys.executable, LABCTL, 'stop', '--state', self.state, check=False)
        for name in reversed(self.namespaces):
            # What this test started there and is still running (an ssh master, a session): end it by its id.
            pids = subprocess.run(['ip', 'netns', 'pids', name], capture_output=True, text=True, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 15)
                except (OSError, ValueError):
                    pass
            subprocess.run(['ip', 'netns', 'del', name], check=False, capture_output=True)
        self.namespaces = []
        shutil.rmtree(self.dir, ignore_errors=True)
