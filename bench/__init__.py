"""Benchmarks: ``python -m bench [NAME ...]`` (or ``make bench``).

Each ``bench/bench_*.py`` module defines ``run() -> list[dict]``; every dict is printed as
one line of JSON and must carry ``name``, ``value``, ``unit`` and, where a baseline was
measured in the same run, ``baseline``, ``baseline_value`` and ``ratio``.
"""
