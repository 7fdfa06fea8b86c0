# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The execution environment: `ansible-builder create` turns execution-environment.yml
into a complete build context. Building the image itself needs podman or docker,
which these machines do not have (docs/awx.md says so).

It lives with the system tests because, like them, it drives the real command-line
tools (ansible-galaxy, ansible-builder from the test virtualenv) as a user would;
it needs neither the lab nor the network."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile

import yaml

from conftest import REPO


def _run(*args):
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, '%s\n%s\n%s' % (' '.join(args), proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def _sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_ansible_builder_creates_the_build_context(tmp_path):
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        galaxy = yaml.safe_load(handle)
    with open(os.path.join(REPO, 'execution-environment.yml')) as handle:
        definition = yaml.safe_load(handle)
    tarball = '%(namespace)s-%(name)s-%(version)s.tar.gz' % galaxy

    # What a user does at the repository root, in a folder of its own: build the
    # collection into dist/, then let ansible-builder write the build context.
    work = tmp_path / 'ee'
    work.mkdir(parents=True)
    for name in ('execution-environment.yml', 'bindep.txt', 'requirements.txt'):
        shutil.copy(os.path.join(REPO, name), str(work / name))
    _run('ansible-galaxy', 'collection', 'build', '--output-path', str(work / 'dist'), REPO)
    assert (work / 'dist' / tarball).exists()
    _run('ansible-builder', 'create', '-f', str(work / 'execution-environment.yml'), '-c', str(work / 'context'),
         '--output-filename', 'Containerfile', '-v', '2')

    context = work / 'context'
    containerfile = (context / 'Containerfile').read_text()
    build = context / '_build'
    # The base image, ansible-core and ansible-runner, the collection, the Python and system dependencies.
    assert 'ARG EE_BASE_IMAGE="%s"' % definition['images']['base_image']['name'] in containerfile
    assert 'ansible-core>=2.19,<2.20' in containerfile and 'ansible-runner' in containerfile
    assert 'ansible-galaxy collection install' in containerfile and 'COPY _build /build' in containerfile
    assert 'introspect.py introspect' in containerfile and 'install-from-bindep' in containerfile
    assert _sha256(str(build / 'collections' / tarball)) == _sha256(str(work / 'dist' / tarball))
    requirements = yaml.safe_load((build / 'requirements.yml').read_text())
    assert requirements['collections'] == [{'name': '/build/collections/' + tarball, 'type': 'file'}]
    python = (build / 'requirements.txt').read_text()
    for package in ('paramiko',):
        assert package in python, package
    assert 'tzdata' in (build / 'bindep.txt').read_text()
    for script in ('assemble', 'introspect.py', 'install-from-bindep', 'check_ansible', 'check_galaxy', 'entrypoint'):
        assert (build / 'scripts' / script).exists(), script

    # The tarball the image installs holds the roles, playbooks and AWX files, and no test output.
    with tarfile.open(str(work / 'dist' / tarball)) as archive:
        names = set(name.lstrip('./') for name in archive.getnames())
    for expected in ('MANIFEST.json', 'roles/validate/tasks/main.yml', 'playbooks/site.yml',
                     'extensions/awx/credential_type/inputs.yml', 'extensions/awx/surveys/site.json',
                     'extensions/molecule/validate/molecule.yml'):
        assert expected in names, expected
    assert not [name for name in names if name.startswith(('tests/output', '.venv', 'context/', 'dist/'))]
