"""Dynamic micro-batching: photos of requests that arrive together share one backbone call.

A model server's classic trick (TF Serving's batching, Triton's dynamic batcher): concurrent
requests are independent, so the photos waiting when the network is free go through it together.
Each photo is queued with the recognizer it was prepared for. The batch adapts to the load by
itself: when an inference thread is free, the photos waiting are dispatched at once (a lone
request never waits for company); while every inference thread is busy, new photos queue up and
form the next batch (up to ``max_batch``). So under light load batches are small and answers
quick, under heavy load batches grow with the queue and the network never idles while photos
wait. ``max_wait`` > 0 adds the old policy on top: a batch smaller than ``max_batch`` waits up to
that long for photos still being decoded (off by default: measured slower on a busy machine).

``workers`` inference threads run batches side by side (each call runs in its own thread, so the
event loop never blocks on the network). Photos prepared for different recognizers (a model
swapped in while requests were in flight) are run as separate calls; an exception in a call fails
only the photos of that call.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor


class MicroBatcher:
    """``await batcher.predict(recognizer, preparing, source) -> dict`` (one photo)."""

    def __init__(self, max_batch: int = 32, max_wait: float = 0.0, workers: int = 1):
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.workers = workers
        self.batches = 0          # backbone calls made
        self.photos = 0           # photos recognised
        self.incoming = 0         # photos being prepared, soon in the queue
        self.sizes: Counter = Counter()   # batch size -> how many calls had it
        self._queue: asyncio.Queue | None = None
        self._free: asyncio.Semaphore | None = None
        self._task: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()
        self._thread = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="petnet-infer")

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._free = asyncio.Semaphore(self.workers)
        self._task = asyncio.get_running_loop().create_task(self._dispatch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
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

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            await self._free.acquire()            # an inference thread is free; meanwhile the queue grew
            try:
                items = await self._take(first)
            except BaseException:
                self._free.release()
                raise
            task = loop.create_task(self._run(loop, items))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _take(self, first) -> list:
        """``first`` and the photos waiting behind it (up to ``max_batch``); with ``max_wait``, also
        those still being decoded, for at most that long."""
        items = [first]
        while len(items) < self.max_batch and not self._queue.empty():
            items.append(self._queue.get_nowait())
        if self.max_wait > 0:
            deadline = time.monotonic() + self.max_wait
            while len(items) < self.max_batch and self.incoming:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    items.append(await asyncio.wait_for(self._queue.get(), left))
                except asyncio.TimeoutError:
                    break
        return items

    async def _run(self, loop, items) -> None:
        try:
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
                self.sizes[len(group)] += 1
                for g, r in zip(group, results):
                    if not g[3].done():
                        g[3].set_result(r)
        finally:
            self._free.release()
