"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

``ansible-test sanity`` (and ``units``/``integration`` with ``--venv``) create
empty virtual environments and bootstrap pip into them with a ``get-pip.py``
script that ansible-test downloads from a host these machines cannot reach.
ansible-test first looks for a cached copy at
``~/.ansible/test/cache/get_pip_<version>.py`` (dots replaced by
underscores); ``scripts/lib.sh`` installs this file there.

ansible-test runs the cached script through its ``quiet_pip.py`` wrapper as
``__main__`` with arguments such as::

    --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel

This stand-in:

1. drops ``--no-setuptools`` / ``--no-wheel`` (get-pip.py options that pip
   itself does not know);
2. runs ``python -m ensurepip --upgrade --default-pip`` in a subprocess
   (running it in-process breaks pip's configuration);
3. runs ``python -m pip install --upgrade <remaining args>`` so the exact
   pip version ansible-test asked for is installed from the package index.
"""

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = frozenset(('--no-setuptools', '--no-wheel'))


def main(argv):
    """Bootstrap pip into the running interpreter's environment."""
    args = [arg for arg in argv if arg not in GET_PIP_ONLY_OPTIONS]

    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])

    if any(not arg.startswith('-') for arg in args):
        subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args)

    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
