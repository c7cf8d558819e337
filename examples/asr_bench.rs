//! Speech recognition figures on this machine:
//!
//! 1. what a decoder costs to make (time, memory);
//! 2. one stream, decoded as fast as it goes: real-time factor (decoding
//!    time over audio time) and word error rate per flite voice, with the
//!    default options and with pocketsphinx's own (the flat-lexicon second
//!    pass on);
//! 3. N concurrent legs on the shared worker pool, each fed one 20 ms
//!    frame per tick at real time as the media bridge does: whether
//!    recognition keeps up (the legs' queues stay short, every sentence's
//!    final arrives) and the latency from a sentence's last voiced frame
//!    being pushed to its final event (the 300 ms hangover included).
//!
//! Each leg says the six test sentences in its own voice and order, a
//! second apart (about 75 % speech: busier than a real call's leg).
//!
//! Run: `cargo run --release --example asr_bench -- [max legs] [seconds]`
//! (default 16 legs, 20 s per step); `make bench-asr`; `quick` (what CI
//! runs): one leg, 2 s steps. With `--tune` first
//! it compares decoding options instead (one stream per voice); with
//! `ASR_BENCH_DEBUG` set it prints every final of step 3.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ccdesk::speech::leg::SLICE_FINAL;
use ccdesk::speech::vad::frame_db;
use ccdesk::speech::{
    word_errors, AsrEvent, AsrPool, LegRecognizer, Model, ModelConfig, Tts, Voice, FRAME_SAMPLES,
};

const SENTENCES: [&str; 6] = [
    "I would like to check the balance of my account please",
    "my card was stolen yesterday and I need a new one",
    "can you tell me when my order will arrive",
    "I want to speak to someone about my bill",
    "the internet connection at my house is not working",
    "please cancel my subscription at the end of the month",
];

/// A leg's audio and, per sentence, its number and the frame range of its
/// speech (first and last frame louder than -50 dBFS).
struct Stream {
    pcm: Vec<i16>,
    spans: Vec<(usize, u64, u64)>,
}

impl Stream {
    fn frames(&self) -> usize {
        self.pcm.len() / FRAME_SAMPLES
    }
    fn secs(&self) -> f64 {
        self.frames() as f64 * 0.02
    }
}

/// Low noise, as on a quiet line (deterministic).
struct Line(u64);

impl Line {
    fn noise(&mut self) -> i16 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) % 33) as i16 - 16
    }
    fn silence(&mut self, ms: usize, out: &mut Vec<i16>) {
        for _ in 0..ms * 16 {
            out.push(self.noise());
        }
    }
}

/// The sentences in one voice (`clips[s]`), starting with sentence
/// `first`, after `lead_ms` of silence, a second apart, until `secs` are
/// filled or `most` sentences said.
fn stream(clips: &[Vec<i16>], first: usize, lead_ms: usize, secs: f64, most: usize) -> Stream {
    let mut line = Line(0x9e37_79b9_7f4a_7c15 ^ first as u64);
    let mut pcm = Vec::new();
    let mut spans = Vec::new();
    line.silence(lead_ms, &mut pcm);
    let mut s = first;
    loop {
        let clip = &clips[s % clips.len()];
        while !pcm.len().is_multiple_of(FRAME_SAMPLES) {
            pcm.push(line.noise());
        }
        let at = (pcm.len() / FRAME_SAMPLES) as u64;
        let loud: Vec<u64> = clip
            .chunks(FRAME_SAMPLES)
            .enumerate()
            .filter(|(_, f)| frame_db(f) > -50.0)
            .map(|(i, _)| i as u64)
            .collect();
        let (Some(a), Some(b)) = (loud.first(), loud.last()) else {
            s += 1;
            continue;
        };
        let end = pcm.len() + clip.len() + 16_000;
        if spans.len() >= most || (end as f64 / 16_000.0 > secs && !spans.is_empty()) {
            break;
        }
        spans.push((s % clips.len(), at + a, at + b));
        pcm.extend(clip.iter().map(|&x| x.saturating_add(line.noise())));
        line.silence(1000, &mut pcm);
        s += 1;
    }
    // Every leg's stream equally long: silence to `secs`.
    if secs.is_finite() {
        let want = (secs * 16_000.0) as usize;
        if pcm.len() < want {
            line.silence((want - pcm.len()) / 16, &mut pcm);
        }
    }
    let frames = pcm.len() / FRAME_SAMPLES;
    pcm.truncate(frames * FRAME_SAMPLES);
    Stream { pcm, spans }
}

/// CPU time of this process (user + system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th fields overall, in clock ticks (100 per second).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Resident memory of this process, in MB.
fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i.min(v.len() - 1)]
}

/// The sentence a final is for: the span whose end is nearest its end.
fn which(spans: &[(usize, u64, u64)], e: &AsrEvent) -> Option<usize> {
    spans
        .iter()
        .enumerate()
        .min_by_key(|(_, (_, _, b))| ((b + 1) * 20).abs_diff(e.end_ms))
        .filter(|(_, (_, _, b))| ((b + 1) * 20).abs_diff(e.end_ms) <= 400)
        .map(|(i, _)| i)
}

/// One stream through a LegRecognizer as fast as it goes: (RTF, WER, RTF
/// over the speech only).
fn single(model: &Arc<Model>, s: &Stream) -> anyhow::Result<(f64, f64, f64)> {
    let mut leg = LegRecognizer::new(model)?;
    let mut finals = Vec::new();
    let t = Instant::now();
    for f in s.pcm.chunks(FRAME_SAMPLES) {
        finals.extend(
            leg.push(f)
                .into_iter()
                .filter(|e| e.slice_type == SLICE_FINAL),
        );
    }
    finals.extend(
        leg.finish()
            .into_iter()
            .filter(|e| e.slice_type == SLICE_FINAL),
    );
    let took = t.elapsed().as_secs_f64();
    let (mut errors, mut words) = (0, 0);
    let mut heard = vec![String::new(); s.spans.len()];
    for e in &finals {
        if let Some(i) = which(&s.spans, e) {
            heard[i] = e.text.clone();
        }
    }
    for ((n, _, _), h) in s.spans.iter().zip(&heard) {
        let (e, w) = word_errors(SENTENCES[*n], h);
        errors += e;
        words += w;
    }
    let speech: f64 = s
        .spans
        .iter()
        .map(|(_, a, b)| (b + 1 - a) as f64 * 0.02)
        .sum();
    Ok((
        took / s.secs(),
        errors as f64 / words.max(1) as f64,
        took / speech,
    ))
}

/// The outcome of N legs at real time.
struct Step {
    legs: usize,
    max_backlog: usize,
    end_backlog: usize,
    finals: usize,
    expected: usize,
    latencies_ms: Vec<f64>,
    cores: f64,
    partials_skipped: u64,
}

impl Step {
    fn keeps_up(&self) -> bool {
        // Never more than a second behind, caught up at the end, every
        // final in, and finals within a second of the speech's end.
        let mut l = self.latencies_ms.clone();
        self.max_backlog <= 50
            && self.end_backlog <= 5
            && self.finals == self.expected
            && percentile(&mut l, 0.95) < 1000.0
    }
}

fn concurrent(
    pool: &AsrPool,
    model: &Arc<Model>,
    streams: &[Stream],
    n: usize,
) -> anyhow::Result<Step> {
    model.prewarm(n)?;
    let (tx, rx) = mpsc::channel::<(usize, AsrEvent, Instant)>();
    let legs: Vec<_> = (0..n)
        .map(|j| {
            let tx = tx.clone();
            pool.spawn_leg(model, move |e| {
                let _ = tx.send((j, e, Instant::now()));
            })
        })
        .collect();
    drop(tx);
    let streams: Vec<&Stream> = (0..n).map(|j| &streams[j % streams.len()]).collect();
    let frames = streams.iter().map(|s| s.frames()).min().unwrap_or(0);
    // When each sentence's last voiced frame was pushed, per leg.
    let mut spoken: Vec<Vec<Option<Instant>>> =
        streams.iter().map(|s| vec![None; s.spans.len()]).collect();
    let mut max_backlog = 0;
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    for k in 0..frames {
        let due = t0 + Duration::from_millis(20 * k as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        for (j, (leg, s)) in legs.iter().zip(&streams).enumerate() {
            let f = &s.pcm[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES];
            leg.push(f);
            for (i, (_, _, last)) in s.spans.iter().enumerate() {
                if *last == k as u64 {
                    spoken[j][i] = Some(Instant::now());
                }
            }
            max_backlog = max_backlog.max(leg.backlog());
        }
    }
    let end_backlog = legs.iter().map(|l| l.backlog()).max().unwrap_or(0);
    let wall = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    let partials_skipped = legs.iter().map(|l| l.partials_skipped()).sum();
    drop(legs);
    let mut finals = 0;
    let mut latencies_ms = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok((j, e, at)) if e.slice_type == SLICE_FINAL => {
                finals += 1;
                if std::env::var_os("ASR_BENCH_DEBUG").is_some() {
                    eprintln!(
                        "leg {j}: {e:?} -> {:?}",
                        which(&streams[j].spans, &e).map(|i| streams[j].spans[i])
                    );
                }
                if let Some(i) = which(&streams[j].spans, &e) {
                    if let Some(said) = spoken[j][i] {
                        latencies_ms.push(at.saturating_duration_since(said).as_secs_f64() * 1e3);
                    }
                }
            }
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => bail!("{n} legs: a leg never ended"),
        }
    }
    // Sentences whose speech ends inside the frames fed.
    let expected = streams
        .iter()
        .map(|s| {
            s.spans
                .iter()
                .filter(|(_, _, b)| (*b as usize) < frames)
                .count()
        })
        .sum();
    Ok(Step {
        legs: n,
        max_backlog,
        end_backlog,
        finals,
        expected,
        latencies_ms,
        cores: cpu.as_secs_f64() / wall.as_secs_f64(),
        partials_skipped,
    })
}

/// Decoding options compared by `--tune`: the default's choice.
const OPTION_SETS: &[&[(&str, &str)]] = &[
    &[],
    &[("-fwdflat", "no")],
    &[
        ("-fwdflat", "no"),
        ("-maxhmmpf", "3000"),
        ("-maxwpf", "5"),
        ("-pl_window", "5"),
    ],
    &[
        ("-fwdflat", "no"),
        ("-maxhmmpf", "2000"),
        ("-maxwpf", "5"),
        ("-pl_window", "5"),
    ],
    &[
        ("-fwdflat", "no"),
        ("-maxhmmpf", "1500"),
        ("-maxwpf", "5"),
        ("-pl_window", "5"),
    ],
    &[
        ("-fwdflat", "no"),
        ("-maxhmmpf", "1000"),
        ("-maxwpf", "5"),
        ("-pl_window", "5"),
    ],
    &[
        ("-fwdflat", "no"),
        ("-maxhmmpf", "2000"),
        ("-maxwpf", "5"),
        ("-pl_window", "5"),
        ("-topn", "2"),
    ],
];

/// One stream per recognised voice under each of [`OPTION_SETS`]: RTF
/// and WER over the four voices together.
fn compare_options(clips: &[(Voice, Vec<Vec<i16>>)]) -> anyhow::Result<()> {
    println!("\noptions compared over {} voices", Voice::RECOGNISED.len());
    println!("{:<70} {:>6} {:>6}", "options", "RTF", "WER");
    for set in OPTION_SETS {
        let model = Model::load(ModelConfig {
            options: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ModelConfig::default()
        })?;
        let (mut rtf, mut wer, mut n) = (0.0, 0.0, 0.0);
        for (v, c) in clips {
            if Voice::RECOGNISED.contains(v) {
                let s = stream(c, 0, 500, f64::INFINITY, SENTENCES.len());
                let (r, w, _) = single(&model, &s)?;
                rtf += r;
                wer += w;
                n += 1.0;
            }
        }
        let name: Vec<String> = set.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{:<70} {:>6.3} {:>5.1}%",
            if name.is_empty() {
                "(pocketsphinx defaults)".to_string()
            } else {
                name.join(" ")
            },
            rtf / n,
            wer / n * 100.0
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let tune = args.first().is_some_and(|a| a == "--tune");
    if tune {
        args.remove(0);
    }
    // `quick` (what CI runs): one leg, 2 s steps.
    if let Some(i) = args.iter().position(|a| a == "quick") {
        args.remove(i);
        args.splice(0..0, ["1".to_string(), "2".to_string()]);
    }
    let max_legs: usize = args.first().map_or(Ok(16), |s| s.parse())?;
    let secs: f64 = args.get(1).map_or(Ok(20.0), |s| s.parse())?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("asr_bench: {cores} cores, {max_legs} legs at most, {secs} s per step");

    // 1. Making decoders.
    let rss0 = rss_mb();
    let t = Instant::now();
    let model = Model::load(ModelConfig::default()).context("pocketsphinx (scripts/setup.sh)")?;
    let load = t.elapsed();
    let rss1 = rss_mb();
    let t = Instant::now();
    model.prewarm(4)?;
    let per = t.elapsed() / 3;
    let rss2 = rss_mb();
    println!(
        "model load {:.2} s ({:.0} MB); each further decoder {:.2} s, {:.0} MB",
        load.as_secs_f64(),
        rss1 - rss0,
        per.as_secs_f64(),
        (rss2 - rss1) / 3.0
    );

    // The voices' clips.
    let tts = Tts::probe().context("flite (scripts/setup.sh)")?;
    let mut clips = Vec::new();
    for v in Voice::ALL {
        let mut c = Vec::new();
        for s in SENTENCES {
            c.push(tts.synthesize(s, v)?);
        }
        clips.push((v, c));
    }

    if tune {
        return compare_options(&clips);
    }

    // 2. One stream per voice.
    let full = Model::load(ModelConfig {
        options: Vec::new(),
        ..ModelConfig::default()
    })?;
    println!("\none stream, as fast as it decodes (RTF: decoding time / audio time)");
    println!(
        "{:<7} {:>6} {:>10} {:>6} {:>22}",
        "voice", "RTF", "RTF speech", "WER", "pocketsphinx defaults"
    );
    for (v, c) in &clips {
        let s = stream(c, 0, 500, f64::INFINITY, SENTENCES.len());
        let (rtf, wer, rtf_speech) = single(&model, &s)?;
        let (rtf_full, wer_full, _) = single(&full, &s)?;
        println!(
            "{:<7} {:>6.3} {:>10.3} {:>5.1}% {:>10.3} RTF {:>5.1}%",
            v.name(),
            rtf,
            rtf_speech,
            wer * 100.0,
            rtf_full,
            wer_full * 100.0
        );
    }
    drop(full);

    // 3. Concurrent legs at real time.
    let recognised: Vec<&Vec<Vec<i16>>> = clips
        .iter()
        .filter(|(v, _)| Voice::RECOGNISED.contains(v))
        .map(|(_, c)| c)
        .collect();
    let streams: Vec<Stream> = (0..max_legs)
        .map(|j| {
            let c = recognised[j % recognised.len()];
            // Each leg its own order and lead, so they do not talk in step.
            stream(c, j, 100 + (j * 370) % 1500, secs, usize::MAX)
        })
        .collect();
    let pool = AsrPool::global();
    println!(
        "\nlegs at real time on {} workers (latency: last voiced frame pushed -> final)",
        pool.threads()
    );
    println!(
        "{:>4} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>6} {:>9}",
        "legs", "backlog", "at end", "finals", "p50 ms", "p95 ms", "max ms", "cores", "partials-"
    );
    let mut best = 0;
    let steps: Vec<usize> = [1, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 32]
        .into_iter()
        .filter(|&n| n <= max_legs)
        .collect();
    for n in steps {
        let step = concurrent(pool, &model, &streams, n)?;
        let mut l = step.latencies_ms.clone();
        println!(
            "{:>4} {:>8} {:>8} {:>4}/{:<3} {:>7.0} {:>7.0} {:>7.0} {:>6.2} {:>9}{}",
            step.legs,
            step.max_backlog,
            step.end_backlog,
            step.finals,
            step.expected,
            percentile(&mut l, 0.5),
            percentile(&mut l, 0.95),
            percentile(&mut l, 1.0),
            step.cores,
            step.partials_skipped,
            if step.keeps_up() { "" } else { "  behind" }
        );
        if step.keeps_up() {
            best = n;
        } else {
            break;
        }
    }
    println!("\nlegs recognised at real time: {best}");
    Ok(())
}
