"""Dynamic micro-batching: photos of requests that arrive together share one backbone call.

A model server's classic trick (TF Serving's batching, Triton's dynamic batcher): the network is
much faster per photo on a batch than on one photo at a time, and concurrent requests are
independent. Each photo is queued with the recognizer it was prepared for; one worker task takes
the first waiting photo and, while more photos are on their way (being decoded), waits for them up
to ``max_wait`` seconds (and ``max_batch`` photos), then runs the batch in a single inference
thread, so the event loop never blocks on the network. While a batch runs, new photos queue up and
form the next batch: under load batches fill up by themselves, and a lone request does not wait
at all (nothing else is on its way).

Photos prepared for different recognizers (a model swapped in while requests were in flight) are
run as separate calls; an exception in a call fails only the photos of that call.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor


class MicroBatcher:
    """``await batcher.predict(recognizer, preparing, source) -> dict`` (one photo)."""

    def __init__(self, max_batch: int = 32, max_wait: float = 0.2):
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.batches = 0          # backbone calls made
        self.photos = 0           # photos recognised
        self.incoming = 0         # photos being prepared, soon in the queue
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="petnet-infer")

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._worker())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._thread.shutdown(wait=True)

    async def predict(self, recognizer, preparing, source):
        """Await ``preparing`` (the photo's decoding; its exceptions are the caller's), then
        queue the photo and return its answer."""
        self.incoming += 1
        try:
            prepared = await preparing
        finally:
            self.incoming -= 1
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((recognizer, prepared, source, future))
        return await future

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [await self._queue.get()]
            deadline = time.monotonic() + self.max_wait
            while len(items) < self.max_batch:
                if self._queue.empty():
                    left = deadline - time.monotonic()
                    if left <= 0 or not self.incoming:
                        break
                    try:
                        items.append(await asyncio.wait_for(self._queue.get(), left))
                    except asyncio.TimeoutError:
                        break
                else:
                    items.append(self._queue.get_nowait())
            items = [it for it in items if not it[3].done()]   # requests given up meanwhile
            groups: dict[int, list] = {}
            for it in items:
                groups.setdefault(id(it[0]), []).append(it)
            for group in groups.values():
                rec = group[0][0]
                try:
                    results = await loop.run_in_executor(
                        self._thread, rec.predict_prepared, [g[1] for g in group], [g[2] for g in group])
                except Exception as exc:  # noqa: BLE001 -- fail these photos, keep serving
                    for g in group:
                        if not g[3].done():
                            g[3].set_exception(exc)
                    continue
                self.batches += 1
                self.photos += len(group)
                for g, r in zip(group, results):
                    if not g[3].done():
                        g[3].set_result(r)
