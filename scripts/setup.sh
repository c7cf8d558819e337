#!/usr/bin/env bash
# Install the system packages ccdesk builds and runs with (Debian/Ubuntu).
# Installs only what is missing; uses sudo when not root.
set -euo pipefail

packages=(
  pkg-config         # finds the C libraries below
  cmake              # builds the bundled Opus codec
  libasound2-dev     # ALSA, for audio devices
  libpocketsphinx3   # speech recognition, opened at run time by src/speech/asr.rs
  libsphinxbase3     # pocketsphinx's support library, opened at run time too
  pocketsphinx-en-us # the US English model pocketsphinx recognises with
  flite              # text to speech for simulated callers, src/speech/tts.rs
  sip-tester         # sipp: the independent SIP peer of the telephony tests
  baresip-core       # baresip: a SIP softphone, a desk phone in tests
  nats-server        # NATS with JetStream: several nodes (tests start their own)
  postgresql         # PostgreSQL: shared records (tests start their own)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "ccdesk setup: please install ${missing[*]} with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "ccdesk setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
