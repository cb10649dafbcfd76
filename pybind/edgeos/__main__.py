"""``python -m edgeos figures|paper|sweep|batch [...]``: regenerate the figures, measure the paper's
claims, or run sweeps and batches of scenarios (on a Dask cluster with ``--dask``)."""

import sys

USAGE = ("usage: python -m edgeos figures [--out DIR] [--quick] [--only NAME...]\n"
         "       python -m edgeos paper [--out DIR] [--quick] [--only NAME...] [--dask SPEC]\n"
         "       python -m edgeos sweep [the options of edgeos sweep] [--dask SPEC]\n"
         "       python -m edgeos batch SCENARIO|FOLDER... [--seeds 1,2] [--out DIR] [--dask SPEC]")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("figures", "paper", "sweep", "batch"):
        print(USAGE, file=sys.stderr)
        return 2
    if sys.argv[1] == "paper":
        from . import paper
        return paper.main(sys.argv[2:])
    if sys.argv[1] in ("sweep", "batch"):
        from . import cli
        return cli.main(sys.argv[1:])
    from . import figures
    return figures.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
