"""A PostgreSQL server out of reach (a network cut: connections opened, never answered) is the
database being unavailable, a 503 with Retry-After, not an internal error (issue 27: `make
soak-cluster` saw a 500 on node A while its network to PostgreSQL was cut)."""
from __future__ import annotations

import socket
import time

import pytest

from registry.errors import Unavailable
from registry.meta.engine import make_engine


def test_a_connect_that_times_out_is_unavailable():
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:  # the kernel accepts; nobody answers
        port = silent.getsockname()[1]
        engine = make_engine(f"postgresql://postgres@127.0.0.1:{port}/registry?connect_timeout=1")
        started = time.monotonic()
        with pytest.raises(Unavailable) as err:
            engine.connect()
        assert "unavailable" in err.value.message and time.monotonic() - started < 10  # the URL's timeout won
        engine.dispose()
