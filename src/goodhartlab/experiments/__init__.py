"""The catalog packages: one per experiment (Config, run, report).

Nothing is imported here: `core.registry.CATALOG` names each package by import string, and a package is
imported only when its experiment runs or reports.
"""
