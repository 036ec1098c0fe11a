"""What the client scripts of testdata/python share: their environment and
their step records.

Each step prints one JSON line {"step", "ok", "details"} (or "error" and
"traceback" when it failed) on the standard output it was given; the Go
tests read them (internal/app runSteps).
"""

import json
import os
import sys
import traceback


def env(name):
    """The environment variable name, which the script cannot run without."""
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{os.path.basename(sys.argv[0])}: environment variable {name} is not set")
    return value


class Steps:
    def __init__(self, out):
        self.out = out
        self.failed = []

    def emit(self, record):
        print(json.dumps(record, default=str), file=self.out, flush=True)

    def run(self, name, fn):
        try:
            details = fn()
        except Exception as e:  # report every failure as a step result
            self.failed.append(name)
            self.emit({"step": name, "ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
            return
        self.emit({"step": name, "ok": True, "details": details})
