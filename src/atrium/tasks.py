"""Scheduled jobs of every domain: importing this module registers them with the runtime."""

from __future__ import annotations
