"""Data for development and benchmarks: a small demo data set and a large generated one."""

from opsgraph.seed.bulk import BulkStats, seed_bulk
from opsgraph.seed.demo import DemoResult, seed_demo

__all__ = ["BulkStats", "DemoResult", "seed_bulk", "seed_demo"]
