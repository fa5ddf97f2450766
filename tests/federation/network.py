"""Nodes of a test network, each a real ``xyd serve`` process with its own data folder and
SQLite database on a loopback port; the test acts as one node or another in its own
process (``acting_as``) to ingest, register, sync and read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.servers import free_port
from xinyidai.core import db as core_db
from xinyidai.core.settings import get_settings
from xinyidai.federation import keys

XYD = str(Path(sys.executable).with_name("xyd"))


@dataclass
class NetworkNode:
    name: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def variables(self) -> dict[str, str]:
        return {
            "XYD_DATA_DIR": str(self.folder),
            "XYD_DATABASE_URL": f"sqlite:///{self.folder / 'xyd.db'}",
            "XYD_NODE_NAME": self.name,
            "XYD_ENV": "test",
            "XYD_OUTBOUND_ALLOW_LOOPBACK": "true",
            "XYD_FEDERATION_RETRY_BASE_SECONDS": "1",
            "XYD_FEDERATION_TIMEOUT_SECONDS": "30",
        }

    def create(self, template: Path) -> str:
        """A migrated database and a node key; the public key."""
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, self.folder / "xyd.db")
        with acting_as(self):
            return keys.public_text(keys.create_key())

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [XYD, *args],
            env={**os.environ, **self.variables},
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )

    def start(self, within: float = 60) -> None:
        log = (self.folder / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [XYD, "serve", "--port", str(self.port)],
            env={**os.environ, **self.variables},
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} stopped: see {self.folder / 'serve.log'}")
            try:
                httpx.get(self.url + "/api/v1/regions", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@contextmanager
def acting_as(node: NetworkNode) -> Iterator[None]:
    """This process configured as ``node`` (its database, data folder and name)."""
    saved = {name: os.environ.get(name) for name in node.variables}
    os.environ.update(node.variables)
    get_settings.cache_clear()
    core_db.reset_engines()
    try:
        yield
    finally:
        core_db.get_engine().dispose()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        core_db.reset_engines()
