#!/usr/bin/env python3
"""Keypress latency, memory and idle CPU of the real console through a pty, at several fleet sizes
(docs/benchmarks.md).

Each console runs in a pty of 200x50 against a Redis database holding one fleet size (seeded by
tollgate-bench-console). pyte, a terminal emulator, reads what the console writes; a press of
j or k is timed from the write to the moment the emulated screen shows the moved selection in the
footer (2/N after j, 1/N after k); the time to the first byte the console writes back is kept
too (the emulator's own parsing is in the first figure, not in the second). Sizes run one after another, twice, alternating, so machine
noise falls on both. After the presses the console is left alone (its own refreshes go on) for
SETTLE seconds, then for IDLE more: its CPU time over those (/proc/PID/stat) and its RSS at the end
(VmRSS, and the high-water mark VmHWM) are kept. What is measured is the console an on-call
engineer leaves open, not its first read. Usage: bench-keys.py BINARY REDIS_HOST:PORT SIZE[,SIZE...]
"""
import fcntl, os, pty, random, select, statistics, struct, sys, termios, time

import pyte

WIDTH, HEIGHT, PRESSES, ROUNDS, SETTLE, IDLE = 200, 50, 60, 2, 20, 20


def console(binary, url):
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.execv(binary, [binary, "--redis", url, "--refresh", "1"])
    screen = pyte.Screen(WIDTH, HEIGHT)
    return pid, fd, screen, pyte.ByteStream(screen)


def pump(fd, stream, done, timeout):
    """Feeds the emulator until done(); returns when the first byte arrived."""
    deadline = time.perf_counter() + timeout
    first = None
    while not done():
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError("the screen did not change in time")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data = os.read(fd, 65536)
            first = first or time.perf_counter()
            stream.feed(data)
    return first


def measure(binary, url, size):
    pid, fd, screen, stream = console(binary, url)
    footer = lambda: screen.display[HEIGHT - 1]
    pump(fd, stream, lambda: f"1/{size}" in footer(), 60)
    latencies, firsts = [], []
    for i in range(PRESSES):
        key, want = ("j", f"2/{size}") if i % 2 == 0 else ("k", f"1/{size}")
        time.sleep(random.uniform(0.05, 0.25))
        try:   # what arrived meanwhile (refreshes) is read before the clock starts
            while select.select([fd], [], [], 0)[0]:
                stream.feed(os.read(fd, 65536))
        except OSError:
            break
        start = time.perf_counter()
        os.write(fd, key.encode())
        first = pump(fd, stream, lambda: want in footer(), 10)
        latencies.append((time.perf_counter() - start) * 1000)
        firsts.append(((first or time.perf_counter()) - start) * 1000)
    def cpu_seconds():
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime

    def drain(seconds):   # reads what the console writes, so it never blocks on a full pty
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            if select.select([fd], [], [], left)[0]:
                stream.feed(os.read(fd, 65536))

    drain(SETTLE)
    before, t0 = cpu_seconds(), time.perf_counter()
    drain(IDLE)
    idle = (cpu_seconds() - before) / (time.perf_counter() - t0) * 100
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if ":" in line)
    rss, hwm = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    os.write(fd, b"q")
    os.waitpid(pid, 0)
    os.close(fd)
    return latencies, firsts, (idle, rss, hwm)


def main():
    binary, redis, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
    results = {s: [] for s in sizes}
    firsts = {s: [] for s in sizes}
    idles = {s: [] for s in sizes}
    for _ in range(ROUNDS):
        for i, size in enumerate(sizes):
            shown, first, idle = measure(binary, f"redis://{redis}/{1 + i}", size)
            results[size] += shown
            firsts[size] += first
            idles[size].append(idle)
    print(f"keypress to screen through a pty, {WIDTH}x{HEIGHT}, j/k on the overview ({ROUNDS} x {PRESSES} presses per size, ms)")
    p90 = {}
    for size in sizes:
        xs = sorted(results[size])
        fs = sorted(firsts[size])
        p90[size] = xs[int(len(xs) * 0.9)]
        print(f"  {size:>6} tenants   on screen: median {statistics.median(xs):6.2f}  p90 {p90[size]:6.2f}  max {xs[-1]:6.2f}"
              f"   first byte: median {statistics.median(fs):5.2f}  p90 {fs[int(len(fs) * 0.9)]:5.2f}")
    if len(sizes) > 1:
        print(f"  p90 at {sizes[-1]} / p90 at {sizes[0]}: {p90[sizes[-1]] / p90[sizes[0]]:.2f}x (target <= 1.5x)")
    print(f"the same consoles left alone after the presses, 1 s refresh: CPU over {IDLE} s after {SETTLE} s, RSS at the end (each of {ROUNDS} rounds)")
    for size in sizes:
        runs = "; ".join(f"CPU {c:4.1f}% of a core, RSS {r:5.1f} MB (peak {h:5.1f} MB)" for c, r, h in idles[size])
        print(f"  {size:>6} tenants   {runs}")
    print("  targets: CPU <= 3% and RSS <= 64 MB at 10,000 tenants, RSS <= 300 MB at 100,000")


if __name__ == "__main__":
    main()
