"""``python -m edgeos figures [--out DIR] [--quick] [--only NAME...]``: regenerate the figures."""

import sys

from . import figures


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("figures",):
        print("usage: python -m edgeos figures [--out DIR] [--quick] [--only NAME...]", file=sys.stderr)
        return 2
    return figures.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
