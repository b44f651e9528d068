"""Atrium: an open-source one-stop financial service platform.

The package is one folder per domain (see docs/architecture.md). Imports point from high layers to low:
kit, config -> db -> events -> identity -> ledger -> limits -> accounts -> payments -> demo -> web -> app/cli.
"""

__version__ = "0.1.0"
