//! The System backend: cpal on a dedicated thread.

use super::*;

// ---------------------------------------------------------------------------
// System: cpal on a dedicated thread.

/// Which stream a [`StopOnDrop`] stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Capture,
    Playback,
}

/// Sends its side to the audio thread when dropped.
pub(super) struct StopOnDrop {
    pub(super) side: Side,
    pub(super) tx: std::sync::mpsc::Sender<Side>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.tx.send(self.side);
    }
}

/// What the audio thread reports once its streams run.
pub(super) struct Started {
    pub(super) capture_rate: u32,
    pub(super) playback: Arc<PlayQueue>,
}

pub(super) fn open_system(choice: DeviceChoice) -> Result<(Capture, Playback), String> {
    let (frames_tx, frames) = mpsc::channel(CAPTURE_QUEUE_FRAMES);
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<Started, String>>(1);
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<Side>();
    std::thread::Builder::new()
        .name("ccdesk-audio".to_owned())
        .spawn(move || {
            let (input, output, started) = match start_streams(&choice, frames_tx) {
                Ok(running) => running,
                Err(reason) => {
                    let _ = ready_tx.send(Err(reason));
                    return;
                }
            };
            if ready_tx.send(Ok(started)).is_err() {
                return;
            }
            let (mut input, mut output) = (Some(input), Some(output));
            while input.is_some() || output.is_some() {
                match stop_rx.recv() {
                    Ok(Side::Capture) => input = None,
                    Ok(Side::Playback) => output = None,
                    Err(_) => break,
                }
            }
        })
        .map_err(|e| format!("cannot start the audio thread: {e}"))?;
    let started = ready_rx
        .recv()
        .map_err(|_| "the audio thread failed".to_owned())??;
    let playback_rate = started.playback.rate;
    Ok((
        Capture {
            rate: started.capture_rate,
            frames,
            _stop: Some(StopOnDrop {
                side: Side::Capture,
                tx: stop_tx.clone(),
            }),
        },
        Playback {
            rate: playback_rate,
            queue: started.playback,
            _stop: Some(StopOnDrop {
                side: Side::Playback,
                tx: stop_tx,
            }),
        },
    ))
}

/// On the audio thread: finds the devices, builds and starts both streams.
pub(super) fn start_streams(
    choice: &DeviceChoice,
    frames: mpsc::Sender<Vec<i16>>,
) -> Result<(cpal::Stream, cpal::Stream, Started), String> {
    let host = system_host()?;
    let backend = host.id().name();

    let mic = pick(&host, Dir::Input, choice.microphone.as_deref())?;
    let mic_config = mic.config.config();
    let capture_rate = frame_rate_for(mic_config.sample_rate);
    let sink = CaptureSink::new(
        mic_config.channels,
        mic_config.sample_rate,
        capture_rate,
        frames,
    );
    let input = build_input(&mic.device, mic.config, sink)
        .map_err(|e| format!("cannot open microphone \"{}\" ({backend}: {e})", mic.name))?;

    let speaker = pick(&host, Dir::Output, choice.speaker.as_deref())?;
    let speaker_config = speaker.config.config();
    let queue = Arc::new(PlayQueue::new(frame_rate_for(speaker_config.sample_rate)));
    let source = PlaySource::new(
        queue.clone(),
        speaker_config.channels,
        speaker_config.sample_rate,
    );
    let output = build_output(&speaker.device, speaker.config, source)
        .map_err(|e| format!("cannot open speaker \"{}\" ({backend}: {e})", speaker.name))?;

    input
        .play()
        .map_err(|e| format!("cannot start microphone \"{}\" ({backend}: {e})", mic.name))?;
    output
        .play()
        .map_err(|e| format!("cannot start speaker \"{}\" ({backend}: {e})", speaker.name))?;
    tracing::info!(
        microphone = %mic.name,
        microphone_config = ?mic.config,
        speaker = %speaker.name,
        speaker_config = ?speaker.config,
        "audio devices open"
    );
    Ok((
        input,
        output,
        Started {
            capture_rate,
            playback: queue,
        },
    ))
}

pub(super) fn stream_error(direction: &'static str) -> impl FnMut(cpal::Error) + Send + 'static {
    move |e: cpal::Error| {
        if e.kind() == cpal::ErrorKind::Xrun {
            tracing::debug!("{direction} stream: {e}");
        } else {
            tracing::warn!("{direction} stream: {e}");
        }
    }
}

pub(super) fn build_input(
    device: &cpal::Device,
    config: cpal::SupportedStreamConfig,
    sink: CaptureSink,
) -> Result<cpal::Stream, cpal::Error> {
    fn build<T>(
        device: &cpal::Device,
        config: cpal::StreamConfig,
        mut sink: CaptureSink,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        T: SizedSample,
        i16: FromSample<T>,
    {
        device.build_input_stream::<T, _, _>(
            config,
            move |data: &[T], _: &cpal::InputCallbackInfo| sink.feed(data),
            stream_error("capture"),
            None,
        )
    }
    let stream_config = config.config();
    match config.sample_format() {
        SampleFormat::I8 => build::<i8>(device, stream_config, sink),
        SampleFormat::I16 => build::<i16>(device, stream_config, sink),
        SampleFormat::I24 => build::<cpal::I24>(device, stream_config, sink),
        SampleFormat::I32 => build::<i32>(device, stream_config, sink),
        SampleFormat::U8 => build::<u8>(device, stream_config, sink),
        SampleFormat::U16 => build::<u16>(device, stream_config, sink),
        SampleFormat::U32 => build::<u32>(device, stream_config, sink),
        SampleFormat::F32 => build::<f32>(device, stream_config, sink),
        SampleFormat::F64 => build::<f64>(device, stream_config, sink),
        other => Err(unsupported_format(other)),
    }
}

pub(super) fn build_output(
    device: &cpal::Device,
    config: cpal::SupportedStreamConfig,
    source: PlaySource,
) -> Result<cpal::Stream, cpal::Error> {
    fn build<T>(
        device: &cpal::Device,
        config: cpal::StreamConfig,
        mut source: PlaySource,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        T: SizedSample + FromSample<i16>,
    {
        device.build_output_stream::<T, _, _>(
            config,
            move |data: &mut [T], _: &cpal::OutputCallbackInfo| source.fill(data),
            stream_error("playback"),
            None,
        )
    }
    let stream_config = config.config();
    match config.sample_format() {
        SampleFormat::I8 => build::<i8>(device, stream_config, source),
        SampleFormat::I16 => build::<i16>(device, stream_config, source),
        SampleFormat::I24 => build::<cpal::I24>(device, stream_config, source),
        SampleFormat::I32 => build::<i32>(device, stream_config, source),
        SampleFormat::U8 => build::<u8>(device, stream_config, source),
        SampleFormat::U16 => build::<u16>(device, stream_config, source),
        SampleFormat::U32 => build::<u32>(device, stream_config, source),
        SampleFormat::F32 => build::<f32>(device, stream_config, source),
        SampleFormat::F64 => build::<f64>(device, stream_config, source),
        other => Err(unsupported_format(other)),
    }
}

pub(super) fn unsupported_format(format: SampleFormat) -> cpal::Error {
    cpal::Error::with_message(
        cpal::ErrorKind::UnsupportedConfig,
        format!("sample format {format} is not supported"),
    )
}
