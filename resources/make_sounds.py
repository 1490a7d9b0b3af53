"""Writes ``resources/alarm.wav``: a short, soft two-tone chime (run once; the WAV is committed).

Two bell-like notes (E5 then C5, a falling major third, like a hall's announcement chime), each
a sine with a few quiet overtones, a fast attack and an exponential decay; 16-bit mono 22.05 kHz,
about one second. Only the standard library: ``python resources/make_sounds.py``.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
NOTES = ((659.25, 0.0), (523.25, 0.42))  # (Hz, start in seconds)
NOTE_SECONDS = 0.62
TOTAL_SECONDS = 1.1
PEAK = 0.55  # of full scale: clearly audible, never harsh


def _note(t: float, freq: float) -> float:
    if t < 0 or t > NOTE_SECONDS:
        return 0.0
    attack = min(1.0, t / 0.008)
    decay = math.exp(-t * 5.5)
    tone = (math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(2 * math.pi * 2 * freq * t) * math.exp(-t * 4)
            + 0.12 * math.sin(2 * math.pi * 3 * freq * t) * math.exp(-t * 8))
    return attack * decay * tone / 1.47


def samples() -> list[int]:
    out = []
    n = int(RATE * TOTAL_SECONDS)
    for i in range(n):
        t = i / RATE
        v = sum(_note(t - start, freq) for freq, start in NOTES)
        fade = min(1.0, (n - i) / (RATE * 0.05))  # no click at the end
        out.append(round(max(-1.0, min(1.0, v * PEAK * fade)) * 32767))
    return out


def write(path: Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(s := samples())}h", *s))


if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "alarm.wav"
    write(target)
    print(f"wrote {target}")  # noqa: T201
