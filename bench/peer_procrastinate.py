"""The queue peer: procrastinate (a PostgreSQL job queue) draining N no-op jobs on the same database server.

    python bench/peer_procrastinate.py <postgres conninfo> <N> <concurrency>

Applies procrastinate's schema, defers N no-op jobs in batches (not timed), then times one worker process
(`run_worker(wait=False)`: it stops when the queue is empty). Prints one JSON line: jobs, seconds, rows_per_second.
"""
import asyncio
import json
import sys
import time

import procrastinate

CONNINFO, N, CONCURRENCY = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=CONNINFO))


@app.task(name="noop", queue="bench")
async def noop(i: int) -> None:
    return None


async def main() -> None:
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        for start in range(0, N, 1000):
            await noop.batch_defer_async(*({"i": i} for i in range(start, min(N, start + 1000))))
        started = time.perf_counter()
        await app.run_worker_async(queues=["bench"], wait=False, concurrency=CONCURRENCY, install_signal_handlers=False)
        seconds = time.perf_counter() - started
        async with app.connector.pool.connection() as conn:
            left = (await (await conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")).fetchone())[0]
    print(json.dumps({"jobs": N, "left": left, "seconds": round(seconds, 3), "concurrency": CONCURRENCY,
                      "rows_per_second": round((N - left) / seconds, 1)}))


asyncio.run(main())
