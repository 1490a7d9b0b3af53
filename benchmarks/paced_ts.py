"""A live-camera stand-in for benchmarks: serves an MPEG-TS clip over HTTP, one frame at a time.

    python -m benchmarks.paced_ts CLIP --port N

Every GET receives the clip's bytes cut at frame boundaries, each frame sent at its own time
(25 fps), as a camera's stream arrives over the network. Runs in its own process so that its CPU
is not counted against what is measured. Prints ``READY <port>`` when listening.
"""

from __future__ import annotations

import argparse
import http.server
import sys
import time
from pathlib import Path

import av


def frame_chunks(path: Path) -> tuple[list[bytes], list[float]]:
    """The file cut before each video packet's first byte, with each packet's time in seconds."""
    data = path.read_bytes()
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        tb = float(v.time_base or 0)
        marks = [(p.pos, float(p.pts) * tb) for p in c.demux(v) if p.size and p.pos is not None and p.pts is not None]
    marks.sort()
    chunks, times = [], []
    for i, (pos, t) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(data)
        chunks.append(data[(0 if i == 0 else pos) : end])
        times.append(t - marks[0][1])
    return chunks, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    chunks, times = frame_chunks(args.clip)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            start = time.monotonic()
            try:
                for chunk, t in zip(chunks, times, strict=True):
                    wait = start + t - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    sys.stdout.write(f"READY {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
