"""`make bench`: run every benchmark module in eval/benchmarks (or the ones named on argv).

Each benchmark prints its own ratios against a reference measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import eval.benchmarks as package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run, e.g. ann serving")
    parser.add_argument("--workspace", default="workspace")
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a fast check")
    args, rest = parser.parse_known_args(argv)
    found = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("bench_")
    )
    chosen = [f"bench_{n}" for n in args.names] if args.names else found
    failed = []
    for name in chosen:
        print(f"\n===== {name} =====", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"eval.benchmarks.{name}")
            extra = ["--quick"] if args.quick else []
            extra += ["--workspace", args.workspace]  # for those that read a workspace
            module.main(extra + rest)
        except Exception as exc:  # keep going: one broken benchmark must not hide the others
            failed.append(name)
            print(f"{name} FAILED: {exc!r}", flush=True)
        print(f"({name} took {time.perf_counter() - start:.1f}s)", flush=True)
    if failed:
        print(f"\nfailed benchmarks: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
