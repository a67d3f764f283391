"""Fixtures of the local-stack integration tests: clients and a per-module deployer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_stack_kit import Clients, Deployer

from runner.local.stack import LocalStack


@pytest.fixture(scope="session")
def clients(local_stack: LocalStack) -> Clients:
    return Clients(local_stack.url)


@pytest.fixture(scope="module")
def deployer(clients: Clients, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployer]:
    deployer = Deployer(clients, tmp_path_factory.mktemp("models"))
    yield deployer
    deployer.cleanup()
