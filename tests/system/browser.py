# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Open a page in headless Chromium (Debian's package) and evaluate
JavaScript in it over the DevTools protocol, so a test can read what a person
sees: the rendered text (innerText honours CSS) and computed colours.

Chromium listens for DevTools on 127.0.0.1 only; the page is a local file."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

from websockets.sync.client import connect


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _targets(port):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open('http://127.0.0.1:%d/json/list' % port, timeout=2) as response:
        return json.load(response)


def evaluate(html_path, expressions, timeout=60):
    """{name: value} of each JavaScript expression evaluated in the loaded page."""
    binary = shutil.which('chromium') or shutil.which('chromium-browser')
    if binary is None:
        raise RuntimeError('chromium is not installed (scripts/lib.sh installs Debian\'s chromium package)')
    port = _free_port()
    profile = tempfile.mkdtemp(prefix='ipo-chromium-')
    url = 'file://' + html_path
    proc = subprocess.Popen([binary, '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
                             '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=%d' % port,
                             '--user-data-dir=' + profile, url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        page = None
        while page is None:
            if time.monotonic() > deadline:
                raise RuntimeError('chromium did not open %s within %d s' % (url, timeout))
            try:
                page = next((t for t in _targets(port) if t.get('type') == 'page' and t.get('url') == url), None)
            except OSError:
                pass
            if page is None:
                time.sleep(0.2)
        with connect(page['webSocketDebuggerUrl'], max_size=None, open_timeout=timeout) as devtools:
            ids = iter(range(1, 1000))

            def run(expression):
                request = next(ids)
                devtools.send(json.dumps({'id': request, 'method': 'Runtime.evaluate',
                                          'params': {'expression': expression, 'returnByValue': True}}))
                while True:
                    reply = json.loads(devtools.recv(timeout=timeout))
                    if reply.get('id') == request:
                        if 'exceptionDetails' in reply['result']:
                            raise RuntimeError('%s raised in the page: %s' % (expression, reply['result']['exceptionDetails'].get('text')))
                        return reply['result']['result'].get('value')

            # The tab may still show its first, empty document (also "complete"): wait for ours.
            while run('document.readyState === "complete" && location.href === %s' % json.dumps(url)) is not True:
                if time.monotonic() > deadline:
                    raise RuntimeError('the page did not finish loading')
                time.sleep(0.1)
            return dict((name, run(expression)) for name, expression in expressions.items())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
