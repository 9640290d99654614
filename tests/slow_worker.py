"""`registry worker` whose validate check first sleeps SLOW_VALIDATE seconds (for kill tests)."""
import os
import sys
import time

from registry.services import checks

_validate = checks.RUNNERS["validate"]


def slow_validate(container, template, sha):
    marker = os.environ.get("SLOW_MARKER")
    if marker:
        with open(marker, "a") as fh:
            fh.write(f"{os.getpid()} {sha}\n")
    time.sleep(float(os.environ.get("SLOW_VALIDATE", "3")))
    return _validate(container, template, sha)


checks.RUNNERS["validate"] = slow_validate

if __name__ == "__main__":
    from api.cli import main

    sys.exit(main(sys.argv[1:]))
