"""python -m bouncesink.classify: rewrite classify/_readings.py, the table of how every
Prefilter and Guarded pattern reads (see prefilter.analysed), after a pattern changed."""

import os
import sys

import bouncesink.parse  # noqa: F401  every rule table and guarded pattern, built at import
from bouncesink.classify import prefilter, rules


def main() -> int:
    for i in range(len(rules.PROVIDER_RULES)):  # host patterns are guarded when first used
        rules._provider_conditions(i)
    path = os.path.join(os.path.dirname(os.path.abspath(prefilter.__file__)), "_readings.py")
    print(f"{path}: {prefilter.write_table(path)} patterns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
