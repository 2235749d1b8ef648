"""Causerie: a self-hosted, privacy-first live chat for websites."""

__version__ = "0.1.0"
