# ccdesk — the README's commands. `make setup` installs system packages.
CARGO ?= cargo

.PHONY: setup demo supervise serve test install-check lint bench bench-cluster bench-idle bench-miss bench-agent bench-render bench-supervise bench-media bench-sip bench-asr bench-quick

setup:
	@scripts/setup.sh

## The demo: a contact center on loopback, simulated customers, you as alice.
demo: setup
	$(CARGO) run --release -- demo $(ARGS)

## The supervisor console over a busy demo floor (twenty agents).
supervise: setup
	$(CARGO) run --release -- demo --supervise --scenario floor $(ARGS)

## Run the contact center on 127.0.0.1:7070 with config/server.toml.
serve: setup
	$(CARGO) run --release -- serve --config config/server.toml

## Formatting, lints, every test, and every benchmark in its quick mode.
test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets
	$(MAKE) --no-print-directory bench-quick
	$(MAKE) --no-print-directory install-check

## `cargo install` gives a working ccdesk: install the debug build the tests
## made into a scratch root, then run the demo headless from there, away
## from the source tree (the sounds are embedded in the binary).
install-check:
	@root=$$(mktemp -d) && \
	$(CARGO) install -q --path . --debug --locked --root "$$root" --target-dir target && \
	cd "$$root" && ./bin/ccdesk demo --headless --scenario training | grep -q "offered      1" && \
	./bin/ccdesk completions bash | grep -q _ccdesk && \
	./bin/ccdesk man | grep -q '^.TH ccdesk' && \
	echo "install-check: the installed ccdesk runs the demo from $$root" && rm -rf "$$root"

## Every benchmark cut down to seconds, on the debug build the tests made:
## each must complete and print its figures, so none silently stops working.
## (bench-render's quick mode is `cargo test --all-targets`, which runs each
## criterion benchmark once.)
bench-quick:
	$(CARGO) run -q -- bench --quick
	$(CARGO) run -q -- bench --quick --idle 200
	$(CARGO) run -q -- bench --quick --miss
	$(CARGO) run -q -- bench --quick --nodes 3
	$(CARGO) run -q --example agent_bench -- quick
	$(CARGO) run -q --example supervise_bench -- quick
	$(CARGO) run -q --example media_bench -- quick
	$(CARGO) run -q --example media_bench -- quick speech
	$(CARGO) run -q --example asr_bench -- quick
	$(CARGO) run -q --example sip_bench -- quick

## The load against one node, then three nodes on NATS, then the owner's SIGKILL (docs/BENCHMARKS.md).
bench-cluster: setup
	$(CARGO) run --release -- bench --nodes 3 --agents $(or $(AGENTS),1000) --rate $(or $(RATE),200) --duration $(or $(DURATION),30)

## Load benchmark: 1,000 agents, 200 calls/s (AGENTS=, RATE=, DURATION= change them; docs/BENCHMARKS.md).
bench: setup
	$(CARGO) run --release -- bench --agents $(or $(AGENTS),1000) --rate $(or $(RATE),200) --duration $(or $(DURATION),30)

## Memory of 10,000 idle agent connections.
bench-idle: setup
	$(CARGO) run --release -- bench --idle 10000

## After an offer rings out, how soon a colleague who becomes free gets it.
bench-miss: setup
	$(CARGO) run --release -- bench --miss

## Agent terminal: key-to-screen latency, memory, idle frames (real binary in a pty).
bench-agent: setup
	$(CARGO) build --release
	$(CARGO) run --release --example agent_bench

## Supervisor console: bytes written to the terminal a minute on a busy floor.
bench-supervise: setup
	$(CARGO) build --release
	$(CARGO) run --release --example supervise_bench

## Call audio: latency through the server, concurrent sessions relayed, codec CPU
## (RECORD=norecord: without recordings; SPEECH=speech: memory per recognised call).
bench-media: setup
	$(CARGO) run --release --example media_bench -- $(or $(SESSIONS),300) 20 $(RECORD) $(SPEECH)

## Telephony: concurrent SIP calls (sipp, G.711) bridged to agents' WebRTC/Opus legs,
## server CPU per call, call set-up time (CALLS=, RECORD=norecord, FAIR=fair).
bench-sip: setup
	$(CARGO) run --release --example sip_bench -- $(or $(CALLS),150) 20 $(RECORD) $(FAIR)

## Speech recognition: real-time factor, word error rate per voice, legs at real time, latency.
bench-asr: setup
	$(CARGO) run --release --example asr_bench -- $(or $(LEGS),16) 20

## Drawing a busy 120x40 screen (criterion).
bench-render: setup
	$(CARGO) bench --bench render
