#!/usr/bin/env python3
"""A MaskLens folder evaluation spread over a Dask cluster, one case per task.
Without --address it starts a LocalCluster on this machine (worker processes);
with --address tcp://scheduler:8786 it uses a running cluster, whose workers
need the masklens package and the folders at the same paths. Writes the
report masklens-cli evaluate-folder writes (the same bytes).
  python3 examples/dask/evaluate_folder.py /data/preds /data/labels -o results.json
Exit status: 0 every case evaluated; 1 some case failed (the report is still
written, with status "error" on those cases) or no pairs."""
import argparse
import sys

import masklens
from distributed import Client, LocalCluster


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pred_dir")
    parser.add_argument("target_dir")
    parser.add_argument("--address", help="a running scheduler (default: a LocalCluster here)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--metrics", default=None, help="as masklens-cli --metrics")
    parser.add_argument("-o", "--output", default="results.json")
    args = parser.parse_args()

    if args.address:
        client = Client(args.address)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    with client:
        # Each case runs on one worker; threads=1 leaves the cores to the workers.
        result = masklens.evaluate_folder(args.pred_dir, args.target_dir, metrics=args.metrics, threads=1,
                                          executor=client)
    with open(args.output, "w") as out:
        out.write(result.to_csv() if args.output.endswith(".csv") else result.to_json())
    print(f"{args.output}: {result.failed} failed case(s)", file=sys.stderr)
    return 1 if result.failed or not result.any_pairs else 0


# The guard matters: Dask's worker processes import this file again.
if __name__ == "__main__":
    sys.exit(main())
