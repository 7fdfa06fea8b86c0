# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs the dns_check module in the Ansible worker when it runs on the controller, as a module process on any
other host (plugin_utils/api_action.py, CheckModuleAction); its documentation is the module's."""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.plugin_utils.api_action import CheckModuleAction


class ActionModule(CheckModuleAction):
    pass
