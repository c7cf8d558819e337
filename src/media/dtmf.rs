//! RFC 4733 telephone-event payloads: DTMF digits sent as RTP events.
//!
//! A digit is one *event*: a run of packets sharing one RTP timestamp (the
//! event's start), each carrying the duration so far in RTP clock units
//! (48 kHz here, [`RTP_CLOCK`]). The first packet has the RTP marker bit;
//! the last one, sent three times for robustness, has the end bit.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     event     |E|R| volume    |          duration             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::collections::VecDeque;

use super::RTP_CLOCK;

/// Dynamic RTP payload type negotiated for telephone-event.
pub const PAYLOAD_TYPE: u8 = 101;

/// Volume (in -dBm0, 0..=63) used for the digits we send.
pub const VOLUME: u8 = 10;

/// How many times the final (end) packet of an event is sent.
pub const END_REPEATS: usize = 3;

/// Highest DTMF event code (`D`).
const MAX_DTMF_EVENT: u8 = 15;

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToneEvent {
    /// Event code: 0-9, 10 = `*`, 11 = `#`, 12-15 = `A`-`D`.
    pub event: u8,
    /// End bit: this is the last packet of the event.
    pub end: bool,
    /// Power level in -dBm0 (0..=63; higher bits are dropped on encode).
    pub volume: u8,
    /// Duration so far in RTP clock units.
    pub duration: u16,
}

/// The 4-byte payload for `ev` (reserved bit 0, volume masked to 6 bits).
pub fn encode(ev: &ToneEvent) -> [u8; 4] {
    let end_bit = if ev.end { 0x80 } else { 0 };
    let flags = end_bit | (ev.volume & 0x3f);
    let [hi, lo] = ev.duration.to_be_bytes();
    [ev.event, flags, hi, lo]
}

/// Parse a telephone-event payload; `None` if shorter than 4 bytes. Extra
/// bytes (redundant blocks) are ignored; the reserved bit is ignored.
pub fn decode(payload: &[u8]) -> Option<ToneEvent> {
    let bytes: &[u8; 4] = payload.get(..4)?.try_into().ok()?;
    Some(ToneEvent {
        event: bytes[0],
        end: bytes[1] & 0x80 != 0,
        volume: bytes[1] & 0x3f,
        duration: u16::from_be_bytes([bytes[2], bytes[3]]),
    })
}

/// Event code of a DTMF key: `'0'`-`'9'` are 0-9, `'*'` 10, `'#'` 11,
/// `'A'`-`'D'` (either case) 12-15; anything else is `None`.
pub fn event_of(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// The key of a DTMF event code (upper-case letters for 12-15); `None` for
/// codes above 15.
pub fn digit_of(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The packets to send for one digit, in order, as `(marker, payload)`;
/// all of them carry the same RTP timestamp (the event start).
///
/// The first packet has the marker bit and a duration of one frame (960
/// ticks, 20 ms); each following packet, sent 20 ms after the previous one,
/// adds a frame, up to the full duration `tone_ms * 48`; then the end packet
/// (end bit, same final duration) is repeated [`END_REPEATS`] times, and
/// those go out together. Volume is [`VOLUME`].
///
/// `tone_ms` is raised to at least 20 ms and capped at the 16-bit duration
/// field (1365 ms at 48 kHz). `None` if `digit` is not a DTMF key.
pub fn digit_packets(digit: char, tone_ms: u32) -> Option<Vec<(bool, [u8; 4])>> {
    digit_packets_at(digit, tone_ms, RTP_CLOCK)
}

/// [`digit_packets`] on an RTP clock of `clock` Hz (8000 for a telephone
/// line's G.711): durations count that clock's ticks, a packet every 20 ms.
pub fn digit_packets_at(digit: char, tone_ms: u32, clock: u32) -> Option<Vec<(bool, [u8; 4])>> {
    let event = event_of(digit)?;
    let per_ms = (clock / 1000).max(1);
    let frame = per_ms * super::FRAME_MS;
    let total = tone_ms
        .saturating_mul(per_ms)
        .clamp(frame, u32::from(u16::MAX));
    // Lossless: clamped to u16::MAX just above.
    let total = u16::try_from(total).unwrap_or(u16::MAX);
    let step = u16::try_from(frame).unwrap_or(u16::MAX);
    let packet = |end: bool, duration: u16| {
        encode(&ToneEvent {
            event,
            end,
            volume: VOLUME,
            duration,
        })
    };
    let mut out = Vec::new();
    let mut duration = step.min(total);
    loop {
        out.push((out.is_empty(), packet(false, duration)));
        if duration >= total {
            break;
        }
        duration = duration.saturating_add(step).min(total);
    }
    for _ in 0..END_REPEATS {
        out.push((false, packet(true, total)));
    }
    Some(out)
}

/// How many recent event timestamps the receiver remembers, so that
/// stragglers of an older event arriving after a newer one began are not
/// reported again.
const HISTORY: usize = 16;

/// Turns received telephone-event packets into digits, once per event.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    /// RTP timestamps of the most recent events already reported.
    seen: VecDeque<u32>,
}

impl DtmfReceiver {
    /// A receiver that has seen nothing yet.
    pub fn new() -> DtmfReceiver {
        DtmfReceiver::default()
    }

    /// Feed one telephone-event packet with its RTP timestamp.
    ///
    /// Returns the digit the first time any packet of an event (one RTP
    /// timestamp) arrives, even if its start packet was lost, and `None` for
    /// the interim, redundant and end packets that follow. A later event
    /// with the same digit has a new timestamp and is reported again.
    /// Short payloads and non-DTMF events (codes above 15) are ignored.
    pub fn push(&mut self, rtp_timestamp: u32, payload: &[u8]) -> Option<char> {
        let ev = decode(payload)?;
        if ev.event > MAX_DTMF_EVENT {
            return None;
        }
        let digit = digit_of(ev.event)?;
        if self.seen.contains(&rtp_timestamp) {
            return None;
        }
        if self.seen.len() >= HISTORY {
            self.seen.pop_front();
        }
        self.seen.push_back(rtp_timestamp);
        Some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_byte_layout() {
        let ev = ToneEvent {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(encode(&ev), [5, 0x8a, 0x03, 0x20]);
        assert_eq!(decode(&[5, 0x8a, 0x03, 0x20]), Some(ev));
        let start = ToneEvent {
            event: 11,
            end: false,
            volume: 63,
            duration: 960,
        };
        assert_eq!(encode(&start), [11, 0x3f, 0x03, 0xc0]);
    }

    #[test]
    fn encode_decode_round_trip() {
        for event in [0u8, 9, 15, 200] {
            for end in [false, true] {
                for volume in [0u8, 10, 63] {
                    for duration in [0u16, 1, 960, 65535] {
                        let ev = ToneEvent {
                            event,
                            end,
                            volume,
                            duration,
                        };
                        assert_eq!(decode(&encode(&ev)), Some(ev));
                    }
                }
            }
        }
        // Volume beyond 6 bits is masked and cannot set E or R.
        let loud = ToneEvent {
            event: 1,
            end: false,
            volume: 0xff,
            duration: 0,
        };
        assert_eq!(encode(&loud)[1], 0x3f);
    }

    #[test]
    fn decode_rejects_short_and_ignores_extra() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[1, 2, 3]), None);
        // Reserved bit set and trailing bytes: still parsed.
        let ev = decode(&[3, 0x40 | 7, 0, 160, 9, 9]).unwrap();
        assert_eq!(
            ev,
            ToneEvent {
                event: 3,
                end: false,
                volume: 7,
                duration: 160
            }
        );
    }

    #[test]
    fn digit_mapping() {
        let keys = "0123456789*#ABCD";
        for (i, c) in keys.chars().enumerate() {
            assert_eq!(event_of(c), Some(i as u8));
            assert_eq!(digit_of(i as u8), Some(c));
        }
        assert_eq!(event_of('a'), Some(12));
        assert_eq!(event_of('d'), Some(15));
        assert_eq!(event_of('E'), None);
        assert_eq!(event_of('e'), None);
        assert_eq!(event_of(' '), None);
        assert_eq!(event_of('٣'), None);
        assert_eq!(digit_of(16), None);
        assert_eq!(digit_of(255), None);
    }

    #[test]
    fn digit_packets_shape() {
        let packets = digit_packets('5', 100).unwrap();
        // 100 ms: interim 960, 1920, 2880, 3840, 4800, then 3 x end 4800.
        assert_eq!(packets.len(), 5 + 3);
        let events: Vec<ToneEvent> = packets.iter().map(|(_, p)| decode(p).unwrap()).collect();
        let markers: Vec<bool> = packets.iter().map(|(m, _)| *m).collect();
        assert_eq!(
            markers,
            [true, false, false, false, false, false, false, false]
        );
        let durations: Vec<u16> = events.iter().map(|e| e.duration).collect();
        assert_eq!(durations, [960, 1920, 2880, 3840, 4800, 4800, 4800, 4800]);
        let ends: Vec<bool> = events.iter().map(|e| e.end).collect();
        assert_eq!(ends, [false, false, false, false, false, true, true, true]);
        assert!(events.iter().all(|e| e.event == 5 && e.volume == 10));
        assert_eq!(packets[0].1, [5, 10, 0x03, 0xc0]);
        assert_eq!(packets[7].1, [5, 0x8a, 0x12, 0xc0]);
    }

    #[test]
    fn digit_packets_on_a_telephone_lines_clock() {
        // 8 kHz (G.711): 160 ticks a frame; 60 ms = 480.
        let p = digit_packets_at('9', 60, 8000).unwrap();
        let d: Vec<u16> = p.iter().map(|(_, b)| decode(b).unwrap().duration).collect();
        assert_eq!(d, [160, 320, 480, 480, 480, 480]);
        assert!(p[0].0, "the first has the marker");
        // The same digit at 48 kHz lasts six times the ticks.
        let p48 = digit_packets_at('9', 60, 48_000).unwrap();
        assert_eq!(decode(&p48[2].1).unwrap().duration, 2880);
        assert_eq!(digit_packets_at('x', 60, 8000), None);
    }

    #[test]
    fn digit_packets_odd_lengths() {
        // 50 ms = 2400 ticks: 960, 1920, 2400, then ends at 2400.
        let p = digit_packets('#', 50).unwrap();
        let d: Vec<u16> = p.iter().map(|(_, b)| decode(b).unwrap().duration).collect();
        assert_eq!(d, [960, 1920, 2400, 2400, 2400, 2400]);
        assert_eq!(decode(&p[0].1).unwrap().event, 11);
        // Too short is raised to one frame.
        let p = digit_packets('1', 0).unwrap();
        let d: Vec<u16> = p.iter().map(|(_, b)| decode(b).unwrap().duration).collect();
        assert_eq!(d, [960, 960, 960, 960]);
        // Too long is capped at the 16-bit field.
        let p = digit_packets('1', u32::MAX).unwrap();
        let last = decode(&p[p.len() - 1].1).unwrap();
        assert_eq!(last.duration, u16::MAX);
        assert!(last.end);
        assert_eq!(p.len(), 69 + 3);
        assert_eq!(digit_packets('x', 100), None);
    }

    #[test]
    fn receiver_reports_once_per_event() {
        let mut rx = DtmfReceiver::new();
        let packets = digit_packets('7', 100).unwrap();
        let got: Vec<Option<char>> = packets.iter().map(|(_, p)| rx.push(1000, p)).collect();
        assert_eq!(got[0], Some('7'));
        assert!(got[1..].iter().all(|g| g.is_none()));
        // More redundant end packets later: still nothing.
        assert_eq!(rx.push(1000, &packets[7].1), None);
    }

    #[test]
    fn receiver_reports_when_start_is_lost() {
        let mut rx = DtmfReceiver::new();
        let packets = digit_packets('*', 100).unwrap();
        // Only the end packets arrive.
        assert_eq!(rx.push(5000, &packets[5].1), Some('*'));
        assert_eq!(rx.push(5000, &packets[6].1), None);
        assert_eq!(rx.push(5000, &packets[7].1), None);
    }

    #[test]
    fn receiver_reports_repeated_digit_twice() {
        let mut rx = DtmfReceiver::new();
        let packets = digit_packets('1', 60).unwrap();
        let mut digits = String::new();
        for ts in [48_000u32, 48_000 + 9600] {
            for (_, p) in &packets {
                if let Some(d) = rx.push(ts, p) {
                    digits.push(d);
                }
            }
        }
        assert_eq!(digits, "11");
        // A straggler of the first event after the second began: ignored.
        assert_eq!(rx.push(48_000, &packets[4].1), None);
    }

    #[test]
    fn receiver_ignores_invalid() {
        let mut rx = DtmfReceiver::new();
        assert_eq!(rx.push(1, &[]), None);
        assert_eq!(rx.push(1, &[1, 10, 0]), None);
        // Event 16 (not DTMF) is ignored and does not consume the timestamp.
        assert_eq!(rx.push(1, &[16, 10, 3, 0xc0]), None);
        assert_eq!(rx.push(1, &[4, 10, 3, 0xc0]), Some('4'));
        // Timestamp wrap is just another timestamp.
        assert_eq!(rx.push(u32::MAX, &[12, 10, 3, 0xc0]), Some('A'));
        assert_eq!(rx.push(0, &[13, 10, 3, 0xc0]), Some('B'));
    }
}
