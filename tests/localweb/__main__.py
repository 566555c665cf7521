"""`python -m tests.localweb [--port N]`: serve the sample sites until Ctrl-C and print the host map."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from .server import LocalWeb


def main(argv: list[str] | None = None) -> int:
    """Parse options, start the server, print where it listens, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.localweb", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument(
        "--generate",
        metavar="HOST=N",
        action="append",
        default=[],
        help="also serve N synthetic articles under HOST (repeatable)",
    )
    args = parser.parse_args(argv)
    web = LocalWeb(port=args.port, latency=args.latency)
    for spec in args.generate:
        host, _, count = spec.partition("=")
        web.add_generated_site(host, int(count or 1000))
    web.start()
    print(f"localweb serving on {web.base_url}", flush=True)
    print(json.dumps(web.host_map(), indent=2), flush=True)
    print(f"try: curl -H 'Host: vov.vn' {web.base_url}/robots.txt", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        web.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
