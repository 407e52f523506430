"""`payer-simulator --dir CLEARINGHOUSE_DIR --config rules.yaml [--once]`

Watches `<dir>/outbound` for 837P and 270 files and answers them in `<dir>/inbound` (999, 277CA and
835 for claims, see processor; a 271 for eligibility inquiries, see eligibility). The
folder defaults to $CLEARINGHOUSE_DIR and the rule table to $PAYER_SIMULATOR_RULES, else the demo
rules shipped beside this package (services/payer-simulator/demo-rules.yaml).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from payer_simulator.config import RulesError, load_rules
from payer_simulator.processor import Simulator

log = logging.getLogger("payer_simulator")

DEMO_RULES = Path(__file__).resolve().parents[2] / "demo-rules.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payer-simulator",
        description="Answer 837P files in a clearinghouse folder with 999, 277CA and 835 files, and 270 "
        "eligibility inquiries with 271s.",
    )
    parser.add_argument(
        "--dir", type=Path, default=os.environ.get("CLEARINGHOUSE_DIR"), help="clearinghouse folder"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("PAYER_SIMULATOR_RULES") or DEMO_RULES,
        help="rule table (YAML)",
    )
    parser.add_argument("--once", action="store_true", help="answer what is there, then exit")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes (default 2)")
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=1.0,
        help="leave files changed less than this many seconds ago for the next pass (default 1)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if args.dir is None:
        print("payer-simulator: --dir or CLEARINGHOUSE_DIR is required", file=sys.stderr)
        return 2
    try:
        rules = load_rules(args.config)
    except RulesError as error:
        print(f"payer-simulator: {error}", file=sys.stderr)
        return 2
    simulator = Simulator(args.dir, rules, settle_seconds=args.settle_seconds)
    log.info("payer simulator on dir=%s payers=%s", args.dir, ",".join(sorted(rules.payers)))
    if args.once:
        simulator.run_once()
        return 0
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop.is_set():
        try:
            simulator.run_once()
        except OSError:
            # A shared volume can hiccup; the next pass retries from the journal in the state file.
            log.exception("pass failed; retrying")
        stop.wait(args.interval)
    log.info("payer simulator stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
