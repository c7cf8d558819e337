//! The devices' conversions, pacing and backends.

use super::*;

fn sine(freq: f64, rate: u32, len: usize) -> Vec<i16> {
    (0..len)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (10_000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
        })
        .collect()
}

/// Sign changes from negative to non-negative.
fn rising_crossings(samples: &[i16]) -> usize {
    samples.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count()
}

fn no_sound_card() -> bool {
    cfg!(target_os = "linux")
        && std::fs::read_to_string("/proc/asound/cards")
            .map(|cards| cards.contains("no soundcards"))
            .unwrap_or(true)
}

#[tokio::test(start_paused = true)]
async fn memory_capture_plays_source_in_frames_then_silence() {
    let rate = 8_000;
    let n = frame_len(rate);
    let source: Vec<i16> = (1..=(2 * n + n / 2) as i16).collect();
    let mut audio = open(Backend::Memory {
        rate,
        source: source.clone(),
        heard: Arc::default(),
    });
    assert_eq!(audio.kind, AudioKind::Memory);
    assert_eq!(audio.capture.rate, rate);
    assert!(audio.notice.is_none());
    let start = tokio::time::Instant::now();
    let mut got = Vec::new();
    for _ in 0..3 {
        let frame = audio.capture.frames.recv().await.expect("frame");
        assert_eq!(frame.len(), n);
        got.extend(frame);
    }
    assert_eq!(&got[..source.len()], &source[..]);
    assert!(got[source.len()..].iter().all(|&s| s == 0));
    for _ in 0..2 {
        let frame = audio.capture.frames.recv().await.expect("frame");
        assert_eq!(frame, vec![0; n]);
    }
    // Five frames: the first at once, then one every 20 ms.
    assert_eq!(start.elapsed(), Duration::from_millis(80));
}

#[tokio::test(start_paused = true)]
async fn memory_playback_collects_what_is_pushed() {
    let rate = 16_000;
    let n = frame_len(rate);
    let heard = Arc::new(Mutex::new(Vec::new()));
    let audio = open(Backend::Memory {
        rate,
        source: Vec::new(),
        heard: heard.clone(),
    });
    assert_eq!(audio.playback.rate, rate);
    let pushed: Vec<i16> = (0..5 * n as i16).collect();
    for frame in pushed.chunks(n) {
        audio.playback.push(frame);
    }
    assert_eq!(audio.playback.queued_ms(), 100);
    // Played at device pace: one frame per 20 ms of (virtual) time.
    for _ in 0..10 {
        if heard.lock().unwrap().len() >= pushed.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(u64::from(FRAME_MS))).await;
    }
    assert_eq!(*heard.lock().unwrap(), pushed);
    assert_eq!(audio.playback.queued_ms(), 0);
}

#[tokio::test(start_paused = true)]
async fn null_capture_yields_silent_frames() {
    let mut audio = open(Backend::Null);
    assert_eq!(audio.kind, AudioKind::Null);
    assert!(audio.notice.is_none());
    assert_eq!(audio.capture.rate, 48_000);
    for _ in 0..3 {
        let frame = audio.capture.frames.recv().await.expect("frame");
        assert_eq!(frame, vec![0; frame_len(audio.capture.rate)]);
    }
}

#[tokio::test(start_paused = true)]
async fn playback_queue_is_bounded_to_200ms_keeping_the_newest() {
    let rate = 8_000;
    let n = frame_len(rate);
    let heard = Arc::new(Mutex::new(Vec::new()));
    let audio = open(Backend::Memory {
        rate,
        source: Vec::new(),
        heard: heard.clone(),
    });
    // 500 ms, frame k filled with k.
    for k in 0..25i16 {
        audio.playback.push(&vec![k; n]);
    }
    let queued = audio.playback.queued_ms();
    assert!(queued <= 200, "queued {queued} ms");
    assert_eq!(queued, 200);
    for _ in 0..20 {
        if audio.playback.queued_ms() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(u64::from(FRAME_MS))).await;
    }
    let expected: Vec<i16> = (15..25i16).flat_map(|k| vec![k; n]).collect();
    assert_eq!(*heard.lock().unwrap(), expected);

    let null = open(Backend::Null);
    null.playback.push(&vec![1; 48_000 / 2]);
    assert_eq!(null.playback.queued_ms(), 200);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handles_ends_the_pacing() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let audio = open(Backend::Memory {
        rate: 8_000,
        source: vec![1; 10_000],
        heard: heard.clone(),
    });
    let Audio {
        mut capture,
        playback,
        ..
    } = audio;
    assert!(capture.frames.recv().await.is_some());
    assert_eq!(Arc::strong_count(&heard), 2, "held by the playback task");
    drop(capture);
    drop(playback);
    // The playback task notices at its next tick and lets go of `heard`.
    for _ in 0..5 {
        if Arc::strong_count(&heard) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(u64::from(FRAME_MS))).await;
    }
    assert_eq!(Arc::strong_count(&heard), 1);
}

#[test]
fn null_works_without_a_runtime() {
    let mut audio = open(Backend::Null);
    let frame = audio.capture.frames.blocking_recv().expect("frame");
    assert_eq!(frame.len(), frame_len(audio.capture.rate));
}

#[test]
fn resample_lengths() {
    assert_eq!(resample(&[1; 441], 44_100, 48_000).len(), 480);
    assert_eq!(resample(&[1; 480], 48_000, 44_100).len(), 441);
    assert_eq!(resample(&[1; 160], 8_000, 48_000).len(), 960);
    assert_eq!(resample(&[1; 960], 48_000, 8_000).len(), 160);
    assert_eq!(resample(&[5, 6, 7], 16_000, 16_000), vec![5, 6, 7]);
    assert!(resample(&[], 44_100, 48_000).is_empty());
    // Linear between neighbours, constant stays constant.
    assert_eq!(resample(&[0, 100], 1_000, 2_000), vec![0, 50, 100, 100]);
    assert!(resample(&[-7; 300], 44_100, 48_000)
        .iter()
        .all(|&s| s == -7));
}

#[test]
fn resample_keeps_a_tone_frequency() {
    // One second of 440 Hz at 44.1 kHz.
    let input = sine(440.0, 44_100, 44_100);
    let output = resample(&input, 44_100, 48_000);
    assert_eq!(output.len(), 48_000);
    let crossings = rising_crossings(&output);
    assert!(
        (439..=441).contains(&crossings),
        "{crossings} rising zero crossings in one second"
    );
    // And the waveform matches a tone generated at 48 kHz.
    let reference = sine(440.0, 48_000, 48_000);
    let worst = output
        .iter()
        .zip(&reference)
        .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
        .max()
        .unwrap();
    assert!(worst < 200, "worst error {worst}");
}

#[test]
fn streaming_resampler_matches_the_pure_one() {
    let input = sine(440.0, 44_100, 10_000);
    let whole = resample(&input, 44_100, 48_000);
    let mut r = Resampler::new(44_100, 48_000);
    let mut streamed = Vec::new();
    let mut rest = &input[..];
    for size in [1, 7, 441, 512, 3, 1000].iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
        r.process(chunk, &mut streamed);
        rest = tail;
    }
    assert!(whole.len() - streamed.len() <= 1);
    assert_eq!(streamed[..], whole[..streamed.len()]);
}

#[test]
fn capture_sink_downmixes_resamples_and_frames() {
    let (tx, mut rx) = mpsc::channel(100);
    let mut sink = CaptureSink::new(2, 44_100, frame_rate_for(44_100), tx);
    // 100 ms of stereo f32: left 0.5, right -0.25 -> mono 0.125.
    let stereo: Vec<f32> = (0..4_410).flat_map(|_| [0.5f32, -0.25]).collect();
    for chunk in stereo.chunks(2 * 441) {
        sink.feed(chunk);
    }
    let mut frames = Vec::new();
    while let Ok(frame) = rx.try_recv() {
        frames.push(frame);
    }
    // 4410 samples at 44.1 kHz -> 4800 at 48 kHz, minus the last one
    // still waiting for its right neighbour: four whole frames.
    assert_eq!(frames.len(), 4);
    let expected = i16::from_sample(0.125f32);
    for frame in &frames {
        assert_eq!(frame.len(), 960);
    }
    assert!(frames.iter().flatten().all(|&s| s == expected));
}

#[test]
fn capture_sink_drops_frames_when_the_consumer_is_behind() {
    let (tx, mut rx) = mpsc::channel(2);
    let mut sink = CaptureSink::new(1, 16_000, 16_000, tx);
    let n = frame_len(16_000);
    let input: Vec<i16> = (0..5 * n as i16).collect();
    sink.feed(&input);
    assert_eq!(rx.try_recv().unwrap(), input[..n].to_vec());
    assert_eq!(rx.try_recv().unwrap(), input[n..2 * n].to_vec());
    assert!(rx.try_recv().is_err());
    assert_eq!(sink.dropped, 3);
}

#[test]
fn play_source_duplicates_channels_converts_and_zero_fills() {
    let queue = Arc::new(PlayQueue::new(48_000));
    queue.push(&[1000, -1000, 2000]);
    let mut source = PlaySource::new(queue.clone(), 2, 48_000);
    let mut out = [0u16; 10];
    source.fill(&mut out);
    let u = |s: i16| u16::from_sample(s);
    assert_eq!(
        out,
        [
            u(1000),
            u(1000),
            u(-1000),
            u(-1000),
            u(2000),
            u(2000),
            u(0),
            u(0),
            u(0),
            u(0)
        ]
    );
    assert_eq!(queue.queued_ms(), 0);
}

#[test]
fn play_source_resamples_to_the_device_rate() {
    let queue = Arc::new(PlayQueue::new(48_000));
    let tone = sine(440.0, 48_000, 9_600);
    queue.push(&tone);
    // 44.1 kHz stereo f32 device: 200 ms of tone -> 8820 device frames.
    let mut source = PlaySource::new(queue.clone(), 2, 44_100);
    let mut out = vec![0f32; 2 * 8_000];
    source.fill(&mut out);
    let left: Vec<i16> = out.chunks(2).map(|c| i16::from_sample(c[0])).collect();
    assert!(out.chunks(2).all(|c| c[0] == c[1]));
    // 8000 samples at 44.1 kHz drew ~8707 from the queue.
    let left_in_queue = queue.lock().len();
    assert!((9_600 - 8_710..=9_600 - 8_705).contains(&left_in_queue));
    let crossings = rising_crossings(&left);
    // 8000 / 44100 s of 440 Hz: 79.8 periods.
    assert!((79..=81).contains(&crossings), "{crossings}");
}

#[test]
fn frame_rates_follow_opus() {
    assert_eq!(frame_rate_for(48_000), 48_000);
    assert_eq!(frame_rate_for(16_000), 16_000);
    assert_eq!(frame_rate_for(8_000), 8_000);
    assert_eq!(frame_rate_for(44_100), 48_000);
    assert_eq!(frame_rate_for(96_000), 48_000);
}

#[tokio::test]
async fn system_without_sound_card_falls_back_to_null_with_a_notice() {
    let mut audio = open(Backend::System(DeviceChoice::default()));
    match audio.kind {
        AudioKind::Null => {
            let notice = audio.notice.as_deref().expect("notice");
            assert!(
                notice.ends_with("audio is off, calls still work"),
                "{notice}"
            );
        }
        AudioKind::System => assert!(!no_sound_card(), "opened audio without a card"),
        AudioKind::Memory => panic!("memory backend from System"),
    }
    if no_sound_card() {
        assert_eq!(audio.kind, AudioKind::Null);
        assert!(audio.notice.as_deref().unwrap().contains("no sound card"));
    }
    // The fallback still works.
    if audio.kind == AudioKind::Null {
        let frame = audio.capture.frames.recv().await.expect("frame");
        assert_eq!(frame.len(), frame_len(audio.capture.rate));
    }
}

#[tokio::test]
async fn a_missing_named_device_falls_back_naming_it() {
    let audio = open(Backend::System(DeviceChoice {
        microphone: Some("No Such Microphone 3000".to_owned()),
        speaker: None,
    }));
    assert_eq!(audio.kind, AudioKind::Null);
    let notice = audio.notice.expect("notice");
    assert!(notice.contains("\"No Such Microphone 3000\""), "{notice}");
    assert!(notice.contains("not found"), "{notice}");

    let audio = open(Backend::System(DeviceChoice {
        microphone: None,
        speaker: Some("No Such Speaker".to_owned()),
    }));
    assert_eq!(audio.kind, AudioKind::Null);
    if !no_sound_card() {
        let notice = audio.notice.expect("notice");
        assert!(notice.contains("No Such Speaker"), "{notice}");
    }
}

#[test]
fn device_list_on_this_machine() {
    let devices = list();
    if no_sound_card() {
        assert_eq!(devices, DeviceList::default());
    }
    let text = print_devices(false);
    assert!(text.starts_with("Microphones\n"));
    assert!(text.contains("\nSpeakers\n"));
    let json: serde_json::Value = serde_json::from_str(&print_devices(true)).unwrap();
    assert!(json["microphones"].is_array());
}

#[test]
fn print_devices_formats() {
    let empty = format_devices(&DeviceList::default(), false);
    assert_eq!(
        empty,
        "Microphones\n  none found (no sound card?)\nSpeakers\n  none found (no sound card?)\n"
    );
    assert_eq!(
        format_devices(&DeviceList::default(), true).trim(),
        "{\n  \"microphones\": [],\n  \"speakers\": []\n}"
    );
    let devices = DeviceList {
        microphones: vec![
            DeviceInfo {
                name: "Headset".into(),
                is_default: true,
            },
            DeviceInfo {
                name: "Webcam".into(),
                is_default: false,
            },
        ],
        speakers: vec![DeviceInfo {
            name: "Headset".into(),
            is_default: false,
        }],
    };
    assert_eq!(
        format_devices(&devices, false),
        "Microphones\n  Headset (default)\n  Webcam\nSpeakers\n  Headset\n"
    );
    let json: serde_json::Value = serde_json::from_str(&format_devices(&devices, true)).unwrap();
    assert_eq!(json["microphones"][0]["name"], "Headset");
    assert_eq!(json["microphones"][0]["is_default"], true);
}

/// Set in the child process of `system_audio_is_quiet_on_stderr`.
const CHILD: &str = "CCDESK_DEVICE_STDERR_CHILD";

/// Runs in a child process only: opens the system audio and lists the
/// devices, so the parent can check nothing reached stderr.
#[test]
fn stderr_child_opens_system_audio() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _devices = list();
        let audio = open(Backend::System(DeviceChoice::default()));
        let named = open(Backend::System(DeviceChoice {
            microphone: Some("missing".into()),
            speaker: Some("missing".into()),
        }));
        drop((audio, named));
    });
}

#[test]
fn system_audio_is_quiet_on_stderr() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "media::device::tests::stderr_child_opens_system_audio",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "child did not run: {stdout}");
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
}

#[test]
fn silence_alsa_is_idempotent() {
    silence_alsa();
    silence_alsa();
}

#[test]
fn handles_are_send() {
    fn send<T: Send + 'static>() {}
    send::<Audio>();
    send::<Backend>();
}
