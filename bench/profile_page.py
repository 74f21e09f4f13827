"""Profile one page in-process (cProfile) on the data set of ``bench/pages.py``: where a page's
time goes. A script, not a test.

Usage: ``.venv/bin/python bench/profile_page.py finance /kasse --requests 50 --top 25``
(role: anon, applicant, reviewer, finance; the schema must have been built by bench/pages.py).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pages  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("role")
    p.add_argument("path")
    p.add_argument("--database-url", default=pages.DEFAULT_URL)
    p.add_argument("--schema", default="kp_bench_pages")
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    url = pages._schema_url(args.database_url, args.schema)
    os.environ.update(pages._prod_env(url))
    ids = pages.sample_ids(url)
    from app import create_app

    app = create_app()
    app.config["SESSION_COOKIE_SECURE"] = False
    app.config["SESSION_COOKIE_NAME"] = "session"
    client = app.test_client()
    if args.role != "anon":
        pages.client_login(client, ids[args.role])
    path = args.path.format(**ids)
    assert client.get(path).status_code == 200
    started = time.process_time()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.requests):
        client.get(path)
    prof.disable()
    cpu = (time.process_time() - started) / args.requests * 1000
    print(f"{path}: {cpu:.2f} ms CPU per request under the profiler")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
