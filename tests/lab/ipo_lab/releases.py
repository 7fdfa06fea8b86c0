"""What each emulated system's Management API serves: the lab's stand-ins for IP Office releases.

Every system keeps the same configuration inside the lab (its System object
with DNS, time and subscription settings, its IP routes and service users):
that is what its link agent acts on, and what a person changes through the
front panel (control.py), as they would in Web Manager. A release decides only
what the API shows of it and accepts:

- ``model``: every resource and field of the collection's model (what the lab
  always served): ``iproutes``, ``serviceusers``, ``rightsgroups``,
  ``subscriptionstatus`` and the DNS, TimeSettings and Subscription sections
  of ``systems``.
- ``documented``: only what Avaya's Management API guide documents. ``systems``
  without the model's sections (and without the model's SystemType), and
  ``licenses``; every other resource answers 404. A System PUT may leave out
  the GUID, as the guide's PBXLicense example does.
"""

from __future__ import annotations

MODEL = 'model'
DOCUMENTED = 'documented'
NAMES = (MODEL, DOCUMENTED)

ALL_RESOURCES = ('systems', 'licenses', 'subscriptionstatus', 'iproutes', 'serviceusers', 'rightsgroups')


class Release:
    def __init__(self, name, resources, hidden_system_fields=(), put_without_guid=False):
        self.name = name
        self.resources = frozenset(resources)
        # Top-level System fields this release's API neither shows nor accepts.
        self.hidden_system_fields = tuple(hidden_system_fields)
        self.put_without_guid = put_without_guid

    def serves(self, resource):
        return resource in self.resources

    def system_view(self, fields):
        """The System fields this release's API shows and accepts."""
        return dict((name, field) for name, field in fields.items() if name not in self.hidden_system_fields)

    def visible(self, system):
        """The stored System as this release's API shows it (hidden fields left out)."""
        return dict((name, value) for name, value in system.items() if name not in self.hidden_system_fields)

    def hidden(self, system):
        return dict((name, value) for name, value in system.items() if name in self.hidden_system_fields)


RELEASES = {
    MODEL: Release(MODEL, ALL_RESOURCES),
    DOCUMENTED: Release(DOCUMENTED, ('systems', 'licenses'),
                        hidden_system_fields=('SystemType', 'DNS', 'TimeSettings', 'Subscription'), put_without_guid=True),
}


def release(name):
    return RELEASES[name]
