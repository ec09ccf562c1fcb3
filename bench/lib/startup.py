"""Time Rampart's start-up: from launching `rampart serve --ephemeral` to the first successful
`GET /_rampart/health`, polled in a tight loop. Prints one line per start and a summary line:

    START ms=12.34
    STARTUP runs=5 median_ms=12.34 min_ms=11.00 max_ms=15.00

Usage: startup.py RAMPART_BIN RUNS   (root credentials come from the environment)
Each server is stopped with SIGTERM (SIGKILL after 10 s) before the next start.
"""

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/_rampart/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_start(binary: str) -> float:
    port = free_port()
    deadline_s = 30.0
    started = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", "--ephemeral", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if healthy(port):
                return (time.perf_counter() - started) * 1000.0
            if proc.poll() is not None:
                sys.exit(f"rampart exited with {proc.returncode} before answering")
            if time.perf_counter() - started > deadline_s:
                sys.exit(f"rampart did not answer within {deadline_s} s")
            time.sleep(0.0002)
    finally:
        stop(proc)


def main() -> None:
    binary, runs = sys.argv[1], int(sys.argv[2])
    times = []
    for _ in range(runs):
        ms = one_start(binary)
        times.append(ms)
        print(f"START ms={ms:.2f}", flush=True)
    print(
        f"STARTUP runs={runs} median_ms={statistics.median(times):.2f} "
        f"min_ms={min(times):.2f} max_ms={max(times):.2f}"
    )


if __name__ == "__main__":
    main()
