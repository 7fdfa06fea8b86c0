# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Whether a module's main() runs inside the Ansible worker (plugin_utils/api_action.py) or as a module
process, and what stands in for AnsibleModule there. The API modules and the check modules build their
module through module_class(), so one module file serves both ways of running."""

from __future__ import annotations

import contextlib

from ansible.module_utils.basic import AnsibleModule


class _InController(object):
    """Set while a module's main() runs inside the worker: module_class stands in for AnsibleModule;
    session_source, when the inventory host uses the httpapi connection, hands out the session that
    connection holds (None: an API module logs in itself)."""

    current = None

    def __init__(self, module_class, session_source):
        self.module_class = module_class
        self.session_source = session_source


@contextlib.contextmanager
def in_controller(module_class, session_source=None):
    _InController.current = _InController(module_class, session_source)
    try:
        yield
    finally:
        _InController.current = None


def module_class():
    """AnsibleModule in a module process; the worker's stand-in inside the worker."""
    return _InController.current.module_class if _InController.current is not None else AnsibleModule


def session_source():
    return _InController.current.session_source if _InController.current is not None else None
