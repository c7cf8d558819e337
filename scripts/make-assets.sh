#!/usr/bin/env bash
# Regenerate the sounds in assets/ (they are committed; this is how they were made).
# Needs flite (Debian package `flite`) and python3.
set -euo pipefail
cd "$(dirname "$0")/../assets"
flite -voice slt -t "Hello, thank you for taking my call. I have a question about my order." -o greeting.wav
python3 - <<'PY'
# Hold music: eight seconds of a slow arpeggio (C, E, G, C', G, E) of soft
# sine tones, 16 kHz mono 16-bit, made to loop without a click.
import math, struct, wave
rate, beat = 16000, 0.6667
notes = [261.63, 329.63, 392.00, 523.25, 392.00, 329.63] * 2
out = []
for hz in notes:
    n = int(rate * beat)
    for i in range(n):
        t = i / rate
        env = min(1.0, t / 0.05) * math.exp(-2.5 * t)
        v = 0.22 * env * (math.sin(2 * math.pi * hz * t) + 0.3 * math.sin(4 * math.pi * hz * t))
        out.append(int(max(-1.0, min(1.0, v)) * 32767))
with wave.open("hold.wav", "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", s) for s in out))
PY
