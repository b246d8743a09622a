"""The micro-batcher's policy: a batch is dispatched as soon as an inference thread is free, grows
while every thread is busy, never beyond ``max_batch``; ``workers`` batches run side by side; the
server sizes its pools to the CPUs it may use."""

from __future__ import annotations

import asyncio
import os
import threading

from petnet.serve.batcher import MicroBatcher


class Gated:
    """A recognizer whose calls block until the test opens them, one gate per call."""

    def __init__(self):
        self.calls = []                 # the sources of each call, in the order the calls began
        self.started = threading.Semaphore(0)
        self.gates = []
        self.lock = threading.Lock()

    def predict_prepared(self, prepared, sources):
        gate = threading.Event()
        with self.lock:
            self.calls.append(list(sources))
            self.gates.append(gate)
        self.started.release()
        assert gate.wait(30), "the test never opened the call"
        return [{"source": s, "x": p} for p, s in zip(prepared, sources)]

    def open(self, i):
        self.gates[i].set()


async def _ready(value):
    return value


async def _started(rec):
    """Wait (without blocking the loop) until one more call has begun."""
    assert await asyncio.to_thread(rec.started.acquire, True, 30)


def _run(test):
    asyncio.run(asyncio.wait_for(test(), 60))


def test_dispatch_when_free_grow_while_busy_bounded():
    async def test():
        rec, b = Gated(), MicroBatcher(max_batch=3, workers=1)
        b.start()
        try:
            first = asyncio.ensure_future(b.predict(rec, _ready(0), "a"))
            await _started(rec)                       # a lone photo goes at once, alone
            assert rec.calls == [["a"]]
            more = [asyncio.ensure_future(b.predict(rec, _ready(i), s)) for i, s in enumerate("bcdef", 1)]
            await asyncio.sleep(0.05)                 # all five queued while the thread is busy
            assert len(rec.calls) == 1
            rec.open(0)
            await _started(rec)
            assert rec.calls[1] == ["b", "c", "d"]    # the batch grew while busy, up to max_batch
            rec.open(1)
            await _started(rec)
            assert rec.calls[2] == ["e", "f"]
            rec.open(2)
            answers = await asyncio.gather(first, *more)
            assert [a["source"] for a in answers] == list("abcdef")
            assert [a["x"] for a in answers] == list(range(6))
            assert (b.batches, b.photos, dict(b.sizes)) == (3, 6, {1: 1, 3: 1, 2: 1})
        finally:
            for g in rec.gates:
                g.set()
            await b.stop()
    _run(test)


def test_workers_run_batches_side_by_side():
    async def test():
        rec, b = Gated(), MicroBatcher(max_batch=8, workers=2)
        b.start()
        try:
            a = asyncio.ensure_future(b.predict(rec, _ready(0), "a"))
            await _started(rec)
            c = asyncio.ensure_future(b.predict(rec, _ready(1), "b"))
            await _started(rec)                       # the second thread took "b" while "a" runs
            assert rec.calls == [["a"], ["b"]]
            rest = [asyncio.ensure_future(b.predict(rec, _ready(i), s)) for i, s in enumerate("cd", 2)]
            await asyncio.sleep(0.05)
            assert len(rec.calls) == 2                # both busy: c and d wait together
            rec.open(1)                               # "b" ends first: its thread takes c and d
            await _started(rec)
            assert rec.calls[2] == ["c", "d"]
            assert (await c)["source"] == "b" and not a.done()
            rec.open(0)
            rec.open(2)
            assert [x["source"] for x in await asyncio.gather(a, *rest)] == ["a", "c", "d"]
        finally:
            for g in rec.gates:
                g.set()
            await b.stop()
    _run(test)


def test_a_failing_call_fails_only_its_photos():
    class Broken:
        def predict_prepared(self, prepared, sources):
            raise ValueError("broken model")

    async def test():
        b = MicroBatcher(workers=1)
        b.start()
        try:
            good, bad = Gated(), Broken()
            g = asyncio.ensure_future(b.predict(good, _ready(1), "g"))
            await _started(good)
            x = asyncio.ensure_future(b.predict(bad, _ready(2), "x"))
            y = asyncio.ensure_future(b.predict(good, _ready(3), "y"))
            await asyncio.sleep(0.05)
            good.open(0)
            assert (await g)["source"] == "g"
            await _started(good)                      # x (another recognizer) and y: separate calls
            good.open(1)
            assert (await y)["source"] == "y"
            try:
                await x
                raise AssertionError("the broken call answered")
            except ValueError as exc:
                assert "broken model" in str(exc)
        finally:
            await b.stop()
    _run(test)


def test_pools_sized_to_the_usable_cpus(tmp_path):
    from petnet.serve.service import Config, Service

    from .conftest import TinyBackbone
    cpus = len(os.sched_getaffinity(0))
    for device, workers, threads, max_batch in (("cpu", cpus, 1, 2), ("cuda", 1, None, 32)):
        svc = Service(Config(data_dir=tmp_path / device, backbone_factory=TinyBackbone, device=device))
        try:
            assert svc.batcher.workers == workers and svc.batcher.max_batch == max_batch
            assert svc.backbones._threads == threads
            assert svc.decoder._max_workers == cpus
        finally:
            svc.decoder.shutdown()
            svc.batcher._thread.shutdown()
    svc = Service(Config(data_dir=tmp_path / "two", backbone_factory=TinyBackbone, inference_threads=1,
                         decode_threads=3))
    try:
        assert svc.batcher.workers == 1 and svc.backbones._threads == cpus and svc.decoder._max_workers == 3
    finally:
        svc.decoder.shutdown()
        svc.batcher._thread.shutdown()
