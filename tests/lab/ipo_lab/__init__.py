"""IP Office Management API lab: an HTTPS emulator of many IP Office systems on loopback.

Start and stop it with ``tests/lab/labctl.py``; ``tests/lab/README.md`` describes
the topology file, the credentials, the control API and the request log.
"""
