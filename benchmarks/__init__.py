"""Benchmarks of the phenotype renderer: detection, phenotype check, speed, contact sheets.

Each is a module run as ``python -m benchmarks.<name> --help``.
"""
