"""``python -m edgeos figures|paper [...]``: regenerate the figures, or measure the paper's claims."""

import sys

USAGE = ("usage: python -m edgeos figures [--out DIR] [--quick] [--only NAME...]\n"
         "       python -m edgeos paper [--out DIR] [--quick] [--only NAME...]")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("figures", "paper"):
        print(USAGE, file=sys.stderr)
        return 2
    if sys.argv[1] == "paper":
        from . import paper
        return paper.main(sys.argv[2:])
    from . import figures
    return figures.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
