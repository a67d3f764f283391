"""checkrun: declarative acceptance tests for asynchronous inference endpoints."""

__version__ = "0.1.0"
