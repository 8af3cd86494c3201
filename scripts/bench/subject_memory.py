"""Measures nats-server resident memory per distinct subject in a file-backed stream.

Usage: $TILLSTREAM_CACHE/venv/bin/pip install nats-py
       $TILLSTREAM_CACHE/venv/bin/python scripts/bench/subject_memory.py 1000000
Starts its own nats-server on 127.0.0.1:4422 with a scratch store in /tmp/subjmem/store.
"""
import asyncio, os, subprocess, time, uuid, sys
import nats
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SD = "/tmp/subjmem/store"
def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
def start():
    return subprocess.Popen([os.path.join(os.environ.get("TILLSTREAM_CACHE", os.path.expanduser("~/.cache/tillstream")), "venv/bin/nats-server"),"-a","127.0.0.1","-p","4422","-js","-sd",SD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
async def main():
    subprocess.run(["rm","-rf",SD])
    p = start(); time.sleep(1)
    nc = await nats.connect("nats://127.0.0.1:4422")
    js = nc.jetstream()
    await js.add_stream(name="POS", subjects=["pos.>"])
    base = rss(p.pid)
    payload = b"x" * 600
    t = time.time()
    futs = []
    for i in range(N):
        futs.append(js.publish(f"pos.3.t507f1f77bcf86cd799439011.sale.{uuid.uuid4()}", payload))
        if len(futs) >= 2000:
            await asyncio.gather(*futs); futs = []
    if futs: await asyncio.gather(*futs)
    el = time.time() - t
    time.sleep(2)
    after = rss(p.pid)
    await nc.close(); p.terminate(); p.wait()
    p = start(); time.sleep(5)
    restarted = rss(p.pid)
    p.terminate(); p.wait()
    print(f"N={N} publish {el:.1f}s base_rss={base}MB after={after}MB after_restart={restarted}MB per_subject_bytes={(restarted-base)*1024*1024/N:.0f}")
asyncio.run(main())
