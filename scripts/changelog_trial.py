"""Trial release of the changelog: would the next release's changelog be clean?

    python scripts/changelog_trial.py COLLECTION_ROOT WORK_DIR

Copies the collection to WORK_DIR/ansible_collections/<namespace>/<name>, runs
`antsibull-changelog release` there for the version in galaxy.yml, and checks
the CHANGELOG.rst it writes: every module of plugins/modules is named once
(under New Modules, where antsibull-changelog puts it, never again in a fragment),
and every role and playbook the release adds is listed under New Roles and New
Playbooks. The checkout itself is never changed.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import sys

import yaml


def section(text, title):
    """The lines of one section (a title underlined with '-') of the RST changelog."""
    match = re.search(r'^%s\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)' % re.escape(title), text, flags=re.M | re.S)
    return match.group(1) if match else ''


def main(root, work):
    with open(os.path.join(root, 'galaxy.yml'), encoding='utf-8') as handle:
        galaxy = yaml.safe_load(handle)
    with open(os.path.join(root, 'changelogs', 'changelog.yaml'), encoding='utf-8') as handle:
        released = yaml.safe_load(handle).get('releases') or {}
    fqcn = '%s.%s' % (galaxy['namespace'], galaxy['name'])
    copy = os.path.join(work, 'ansible_collections', galaxy['namespace'], galaxy['name'])
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns('.git', 'tests', '.ansible'))
    # antsibull-changelog lists the collection's files with git; a repository of the
    # copy's own keeps it from taking the (git-ignored) copy for part of the checkout.
    subprocess.run(['git', '-c', 'init.defaultBranch=main', 'init', '-q'], cwd=copy, check=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=work)
    subprocess.run(['antsibull-changelog', 'release', '--version', galaxy['version'],
                    '--date', datetime.date.today().isoformat()], cwd=copy, env=env, check=True)
    with open(os.path.join(copy, 'CHANGELOG.rst'), encoding='utf-8') as handle:
        text = handle.read()
    release = text.split('\nv%s\n' % galaxy['version'], 1)[-1]

    problems = []
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(root, 'plugins', 'modules'))
                     if name.endswith('.py') and not name.startswith('_'))
    new_modules = section(release, 'New Modules')
    for module in modules:
        if released:
            break  # only a first release lists every module as new
        listed = new_modules.count('- %s.%s - ' % (fqcn, module))
        if listed != 1:
            problems.append('New Modules lists %s %d times' % (module, listed))
    # A fragment that announces a module again ("dns - new module ...") repeats New Modules.
    for line in release.splitlines():
        match = re.match(r'^- (\S+) - new module\b', line)
        if match:
            problems.append('a fragment announces the module %s, which New Modules already lists' % match.group(1))
    if not released:
        roles = sorted(os.listdir(os.path.join(root, 'roles')))
        playbooks = sorted(name[:-4] for name in os.listdir(os.path.join(root, 'playbooks')) if name.endswith('.yml'))
        for title, names in (('New Roles', roles), ('New Playbooks', playbooks)):
            body = section(release, title)
            for name in names:
                if body.count('- %s.%s - ' % (fqcn, name)) != 1:
                    problems.append('%s does not list %s once' % (title, name))
    if problems:
        print(release)
        sys.exit('trial changelog of %s: %s' % (galaxy['version'], '; '.join(problems)))
    counts = ', '.join('%s %d' % (title, section(release, title).count('\n- '))
                       for title in ('New Modules', 'New Roles', 'New Playbooks'))
    print('trial release %s: %s (%s)' % (galaxy['version'], counts, os.path.join(copy, 'CHANGELOG.rst')))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
