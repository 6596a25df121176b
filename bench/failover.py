"""Closed-loop load for the failover run: CLIENTS clients each send GET URL back to back for SECONDS and
record every request (wall-clock start, latency, status or error), so that bench/run.py can tell the
requests in flight when a replica was killed from those sent after. Each client is a visitor of its own
(its own connection and cookies, so its own ROUTEID): the clients spread over the replicas as real ones do.
Prints one JSON document."""
import asyncio
import json
import sys
import time

import aiohttp


async def client(url, deadline, records):
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=1)) as session:
        while time.time() < deadline:
            start = time.time()
            try:
                async with session.get(url, headers={"Host": "localhost"}) as response:
                    await response.read()
                    records.append([start, time.time() - start, response.status, ""])
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                records.append([start, time.time() - start, 0, type(error).__name__])


async def main(url, clients, seconds):
    records = []
    deadline = time.time() + seconds
    await asyncio.gather(*(client(url, deadline, records) for _ in range(clients)))
    json.dump(records, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
