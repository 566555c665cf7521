"""`chiso` with the HTTP client's timeouts and backoff from CHISO_TEST_HTTP_OPTIONS (JSON), for fault tests.

Everything else is the real command line: the shipped defaults (30 s read timeout, 2 s backoff base) would make
a test that injects timeouts take minutes, so only those knobs are shortened, in a subprocess of the test.
"""

from __future__ import annotations

import functools
import json
import os

import flows.pipeline
from flows.cli import main

if __name__ == "__main__":
    options = json.loads(os.environ.get("CHISO_TEST_HTTP_OPTIONS", "{}"))
    flows.pipeline.make_client = functools.partial(flows.pipeline.make_client, **options)
    main()
