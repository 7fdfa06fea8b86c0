# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters over the manual steps the configuration modules return (module_utils/profiles.py does the work)."""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import profiles


def manual_step_status(steps, statuses, entered=None):
    return profiles.confirm_steps(steps, statuses, entered or ())


def manual_step_lines(steps):
    return profiles.step_lines(steps)


class FilterModule(object):
    def filters(self):
        return {
            'manual_step_status': manual_step_status,
            'manual_step_lines': manual_step_lines,
        }
