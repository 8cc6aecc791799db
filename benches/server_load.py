#!/usr/bin/env python3
"""Load test of `skiff server`: submit many small workflows at once through the REST API, wait until all
have ended, check that none was lost, and print the throughput.

Python 3 standard library only. Usage:

    server_load.py URL [--workflows 1000] [--clients 64] [--token TOKEN] [--timeout 900]

Exits 1 when a submission failed, a run is missing, or a run did not succeed.
"""

import argparse
import concurrent.futures
import json
import sys
import time
import urllib.error
import urllib.request

WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "load-", "labels": {"bench": "server-load"}},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "container": {"image": "busybox", "command": ["echo"], "args": ["hello"]},
            }
        ],
    },
}


def request(base, method, path, token, body=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"{}")


def submit(base, token, i):
    last = None
    for attempt in range(3):
        try:
            wf = request(base, "POST", "/api/v1/workflows/argo", token, {"workflow": WORKFLOW})
            return wf["metadata"]["name"]
        except (urllib.error.URLError, OSError) as e:  # a connection reset is retried, a 4xx/5xx is not
            last = e
            if isinstance(e, urllib.error.HTTPError):
                break
            time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"submission {i} failed: {last}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--workflows", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--token", default=None)
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    base = args.url.rstrip("/")

    start = time.monotonic()
    names, errors = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.clients) as pool:
        futures = [pool.submit(submit, base, args.token, i) for i in range(args.workflows)]
        for f in concurrent.futures.as_completed(futures):
            try:
                names.append(f.result())
            except Exception as e:  # noqa: BLE001 - every failure is reported
                errors.append(str(e))
    submitted = time.monotonic()
    submit_s = submitted - start
    print(f"submitted {len(names)}/{args.workflows} in {submit_s:.2f}s "
          f"({len(names) / submit_s:.1f} workflows/s, {args.clients} clients)")
    if errors:
        print(f"{len(errors)} submissions failed, e.g. {errors[0]}", file=sys.stderr)

    wanted = set(names)
    phases = {}
    deadline = time.monotonic() + args.timeout
    fields = "items.metadata.name,items.status.phase"
    while True:
        listed = request(base, "GET", f"/api/v1/workflows/argo?fields={fields}", args.token)
        phases = {i["metadata"]["name"]: i["status"]["phase"] for i in listed.get("items") or []}
        done = [n for n in wanted if phases.get(n) not in (None, "Pending", "Running")]
        if len(done) == len(wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    end = time.monotonic()
    total_s = end - start

    missing = [n for n in wanted if n not in phases]
    unfinished = [n for n in wanted if phases.get(n) in ("Pending", "Running")]
    failed = [n for n in wanted if phases.get(n) not in (None, "Pending", "Running", "Succeeded")]
    succeeded = [n for n in wanted if phases.get(n) == "Succeeded"]
    print(f"finished {len(succeeded)} Succeeded, {len(failed)} failed, {len(unfinished)} unfinished, "
          f"{len(missing)} missing, in {total_s:.2f}s end to end "
          f"({len(succeeded) / total_s:.1f} workflows/s)")
    print(f"distinct names: {len(wanted)} of {len(names)} submitted")
    ok = (not errors and len(wanted) == args.workflows and len(names) == args.workflows
          and not missing and not unfinished and not failed)
    print("OK: none lost" if ok else "LOST OR FAILED RUNS", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
