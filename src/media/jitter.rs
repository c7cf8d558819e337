//! A jitter buffer for 20 ms audio frames: reorders packets by RTP
//! sequence number (16-bit, wrapping), hides network jitter behind an
//! adaptive playout delay, and tells the player when a frame is lost so it
//! can conceal it (or recover it from the next packet's FEC).
//!
//! The player calls [`JitterBuffer::pop`] once every 20 ms. Before playout
//! starts (and again after an underrun) the buffer waits until `target`
//! frames are buffered. `target` follows the RFC 3550 interarrival jitter
//! estimate `J`: `target = clamp(ceil(2 J / 20 ms), 1, max_depth)`, so a
//! clean network costs one frame of delay.
//!
//! Sequence numbers are unwrapped to 64-bit internally, relative to the
//! next frame to play, so wrapping from 65535 to 0 is invisible.

use std::collections::{BTreeMap, BTreeSet};

use super::{FRAME_MS, RTP_CLOCK};

/// What the player should do for the current 20 ms tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Decode and play this payload.
    Packet(Vec<u8>),
    /// The frame due now is missing. `fec` is the payload of the packet
    /// right after it, if already here, whose in-band FEC can recover the
    /// lost frame; that packet stays buffered and plays on the next tick.
    Lost {
        /// Payload of the following packet, for FEC recovery.
        fec: Option<Vec<u8>>,
    },
    /// Nothing to play: still buffering, or an underrun. Play silence.
    Empty,
}

/// Counters and state of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct JitterStats {
    /// Audio packets accepted into the buffer (duplicates and packets that
    /// arrived too late are not counted).
    pub received: u64,
    /// Frames that were due for playout but missing (event packets on the
    /// same sequence space are not counted).
    pub lost: u64,
    /// Packets dropped because they arrived after their playout slot, or
    /// pushed out because more than `max_depth` frames were buffered.
    pub late: u64,
    /// Times playout ran dry and had to re-buffer.
    pub underruns: u64,
    /// RFC 3550 interarrival jitter estimate, ms.
    pub jitter_ms: f64,
    /// Audio packets buffered now.
    pub depth: usize,
    /// Frames to buffer before playout (re)starts.
    pub target: usize,
}

impl JitterStats {
    /// Lost frames as a percentage of all frames of the stream
    /// (`lost / (received + lost) * 100`); 0 when there were none.
    pub fn loss_percent(&self) -> f64 {
        let total = self.received + self.lost;
        if total == 0 {
            0.0
        } else {
            self.lost as f64 / total as f64 * 100.0
        }
    }
}

/// RTP clock ticks per millisecond.
const TICKS_PER_MS: f64 = RTP_CLOCK as f64 / 1000.0;

/// How many played sequence numbers are remembered to recognise duplicates
/// of packets that already played.
const PLAYED_HISTORY: usize = 64;

/// Most pending event sequence numbers kept (they are normally consumed
/// within a few ticks).
const MAX_EVENTS: usize = 1024;

/// A jump of more than this many sequence numbers is a restart of the
/// sender's numbering, not loss: it is skipped without counting frames as
/// lost (1000 frames = 20 s).
const RESTART_GAP: i64 = 1000;

/// After this many consecutive late packets (half a second of audio) the
/// sender is assumed to have restarted its sequence numbers lower, and the
/// buffer starts over from the new numbering.
const RESTART_AFTER_LATE: usize = 25;

/// Reorder buffer with adaptive playout delay for one RTP stream.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    max_depth: usize,
    /// Buffered audio payloads by extended sequence number.
    buf: BTreeMap<i64, Vec<u8>>,
    /// Extended sequence numbers of non-audio packets still ahead.
    events: BTreeSet<i64>,
    /// Recently played extended sequence numbers.
    played: BTreeSet<i64>,
    /// Next extended sequence number to play, once known.
    next: Option<i64>,
    /// Highest extended sequence number seen (unwrap reference before
    /// playout has a position).
    highest: Option<i64>,
    playing: bool,
    consecutive_late: usize,
    /// Arrival time (ms) and RTP timestamp of the previous audio packet.
    last_arrival: Option<(f64, u32)>,
    jitter_ms: f64,
    target: usize,
    received: u64,
    lost: u64,
    late: u64,
    underruns: u64,
}

impl JitterBuffer {
    /// An empty buffer holding at most `max_depth` frames (e.g. 10 =
    /// 200 ms); 0 is treated as 1.
    pub fn new(max_depth: usize) -> JitterBuffer {
        JitterBuffer {
            max_depth: max_depth.max(1),
            buf: BTreeMap::new(),
            events: BTreeSet::new(),
            played: BTreeSet::new(),
            next: None,
            highest: None,
            playing: false,
            consecutive_late: 0,
            last_arrival: None,
            jitter_ms: 0.0,
            target: 1,
            received: 0,
            lost: 0,
            late: 0,
            underruns: 0,
        }
    }

    /// Add an audio packet: RTP sequence number, RTP timestamp (48 kHz
    /// clock), payload, and its arrival time on the receiver's clock in ms
    /// (any origin).
    ///
    /// Duplicates are ignored. A packet older than the next frame to play is
    /// late: dropped and counted. If more than `max_depth` frames are then
    /// buffered, the oldest are dropped (counted as late) and playout skips
    /// ahead, so latency stays bounded.
    pub fn push(&mut self, seq: u16, timestamp: u32, payload: Vec<u8>, arrival_ms: f64) {
        let mut ext = self.unwrap(seq);
        if self.is_duplicate(ext) {
            return;
        }
        if self.next.is_some_and(|next| ext < next) {
            if self.consecutive_late + 1 >= RESTART_AFTER_LATE {
                self.restart();
                ext = i64::from(seq);
            } else {
                self.late += 1;
                self.consecutive_late += 1;
                self.update_jitter(timestamp, arrival_ms);
                return;
            }
        }
        self.consecutive_late = 0;
        self.update_jitter(timestamp, arrival_ms);
        self.received += 1;
        self.buf.insert(ext, payload);
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.enforce_depth();
    }

    /// Note a non-audio packet (e.g. an RFC 4733 telephone-event) that
    /// shares this stream's sequence space: playout skips its sequence
    /// number silently, without a tick and without counting it lost.
    pub fn push_event(&mut self, seq: u16) {
        let ext = self.unwrap(seq);
        if self.is_duplicate(ext) || self.next.is_some_and(|next| ext < next) {
            return;
        }
        self.events.insert(ext);
        while self.events.len() > MAX_EVENTS {
            self.events.pop_first();
        }
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
    }

    /// What to play for this 20 ms tick. See [`Playout`].
    ///
    /// While buffering: `Empty` until `target` frames are here, then playout
    /// starts at the lowest sequence number. While playing: the due frame
    /// if present; `Lost` if it is missing but later ones are here (a gap
    /// wider than `max_depth` is skipped at once); `Empty` if nothing is
    /// buffered, which is an underrun and re-buffers.
    pub fn pop(&mut self) -> Playout {
        if !self.playing {
            if self.buf.len() < self.target {
                return Playout::Empty;
            }
            let Some((&lowest, _)) = self.buf.first_key_value() else {
                return Playout::Empty;
            };
            self.skip_to(lowest);
            self.playing = true;
        }
        let Some(mut next) = self.next else {
            self.playing = false;
            return Playout::Empty;
        };
        while self.events.first() == Some(&next) {
            self.events.pop_first();
            next += 1;
        }
        self.next = Some(next);
        let Some((&lowest, _)) = self.buf.first_key_value() else {
            self.underruns += 1;
            self.playing = false;
            return Playout::Empty;
        };
        if lowest > next && lowest - next <= self.max_depth as i64 {
            let mut after = next + 1;
            while self.events.contains(&after) {
                after += 1;
            }
            let fec = self.buf.get(&after).cloned();
            self.lost += 1;
            self.next = Some(next + 1);
            return Playout::Lost { fec };
        }
        // Either the due frame, or a gap too wide to be reordering: jump.
        self.skip_to(lowest);
        match self.buf.remove(&lowest) {
            Some(payload) => {
                self.mark_played(lowest);
                self.next = Some(lowest + 1);
                Playout::Packet(payload)
            }
            None => Playout::Empty,
        }
    }

    /// Counters and current state.
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            received: self.received,
            lost: self.lost,
            late: self.late,
            underruns: self.underruns,
            jitter_ms: self.jitter_ms,
            depth: self.buf.len(),
            target: self.target,
        }
    }

    /// Lost frames as a percentage of the stream:
    /// `lost / (received + lost) * 100`, 0 when nothing arrived or was lost.
    pub fn loss_percent(&self) -> f64 {
        self.stats().loss_percent()
    }

    /// Extend a 16-bit sequence number to the 64-bit one closest to the
    /// current position (next to play, else highest seen).
    fn unwrap(&self, seq: u16) -> i64 {
        match self.next.or(self.highest) {
            Some(reference) => {
                let delta = seq.wrapping_sub(reference as u16) as i16;
                reference + i64::from(delta)
            }
            None => i64::from(seq),
        }
    }

    fn is_duplicate(&self, ext: i64) -> bool {
        self.buf.contains_key(&ext) || self.events.contains(&ext) || self.played.contains(&ext)
    }

    fn mark_played(&mut self, ext: i64) {
        self.played.insert(ext);
        while self.played.len() > PLAYED_HISTORY {
            self.played.pop_first();
        }
    }

    /// Move the playout position forward to `to`, counting the missing
    /// audio frames in between as lost (unless the jump is a numbering
    /// restart) and forgetting events before it.
    fn skip_to(&mut self, to: i64) {
        let Some(next) = self.next else {
            self.next = Some(to);
            self.events = self.events.split_off(&to);
            return;
        };
        if to <= next {
            return;
        }
        let gap = to - next;
        let kept = self.events.split_off(&to);
        let events_in_gap = std::mem::replace(&mut self.events, kept).len() as i64;
        if gap <= RESTART_GAP {
            self.lost += u64::try_from(gap - events_in_gap).unwrap_or(0);
        }
        self.next = Some(to);
    }

    /// Drop the oldest frames while more than `max_depth` are buffered.
    fn enforce_depth(&mut self) {
        while self.buf.len() > self.max_depth {
            let Some((oldest, _)) = self.buf.pop_first() else {
                break;
            };
            self.late += 1;
            if self.next.is_some() {
                self.skip_to(oldest);
                self.next = Some(oldest + 1);
            }
        }
    }

    /// Forget the stream position (the sender restarted its numbering).
    fn restart(&mut self) {
        self.buf.clear();
        self.events.clear();
        self.played.clear();
        self.next = None;
        self.highest = None;
        self.playing = false;
        self.consecutive_late = 0;
        self.last_arrival = None;
    }

    /// RFC 3550 interarrival jitter: `J += (|D| - J) / 16`, where `D` is the
    /// difference between the arrival spacing and the RTP timestamp
    /// spacing of consecutive packets, in ms. Then recompute `target`.
    fn update_jitter(&mut self, timestamp: u32, arrival_ms: f64) {
        if !arrival_ms.is_finite() {
            return;
        }
        if let Some((prev_arrival, prev_ts)) = self.last_arrival {
            let sent_ms = f64::from(timestamp.wrapping_sub(prev_ts) as i32) / TICKS_PER_MS;
            let d = (arrival_ms - prev_arrival) - sent_ms;
            if d.is_finite() {
                self.jitter_ms += (d.abs() - self.jitter_ms) / 16.0;
            }
        }
        self.last_arrival = Some((arrival_ms, timestamp));
        let frames = (2.0 * self.jitter_ms / f64::from(FRAME_MS)).ceil();
        // `as` saturates; NaN cannot occur (finite inputs only).
        self.target = (frames as usize).clamp(1, self.max_depth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pkt(seq: u16) -> Vec<u8> {
        seq.to_be_bytes().to_vec()
    }

    /// Push `seq` with a timestamp and arrival time consistent with a
    /// perfectly paced stream.
    fn push(jb: &mut JitterBuffer, seq: u16) {
        let ts = u32::from(seq).wrapping_mul(960);
        jb.push(seq, ts, pkt(seq), f64::from(seq) * 20.0);
    }

    fn played(p: Playout) -> Option<u16> {
        match p {
            Playout::Packet(b) => Some(u16::from_be_bytes([b[0], b[1]])),
            _ => None,
        }
    }

    #[test]
    fn in_order_stream_plays_in_order() {
        let mut jb = JitterBuffer::new(10);
        assert_eq!(jb.pop(), Playout::Empty);
        let mut out = Vec::new();
        for seq in 100..150u16 {
            push(&mut jb, seq);
            out.push(played(jb.pop()).unwrap());
        }
        assert_eq!(out, (100..150).collect::<Vec<_>>());
        let s = jb.stats();
        assert_eq!((s.received, s.lost, s.late, s.underruns), (50, 0, 0, 0));
        assert_eq!(s.target, 1);
        assert_eq!(s.depth, 0);
        assert_eq!(jb.loss_percent(), 0.0);
        // Running dry is an underrun.
        assert_eq!(jb.pop(), Playout::Empty);
        assert_eq!(jb.stats().underruns, 1);
    }

    #[test]
    fn reordering_within_depth_is_fixed() {
        let mut jb = JitterBuffer::new(10);
        for seq in [3u16, 1, 4, 2, 5] {
            push(&mut jb, seq);
        }
        let out: Vec<_> = (0..5).map(|_| played(jb.pop()).unwrap()).collect();
        assert_eq!(out, [1, 2, 3, 4, 5]);
        // While playing: 7 before 6, both before their tick.
        push(&mut jb, 7);
        push(&mut jb, 6);
        assert_eq!(played(jb.pop()), Some(6));
        assert_eq!(played(jb.pop()), Some(7));
        assert_eq!(jb.stats().lost, 0);
    }

    #[test]
    fn lost_packet_yields_fec_of_the_next() {
        let mut jb = JitterBuffer::new(10);
        for seq in [1u16, 2, 4, 5] {
            push(&mut jb, seq);
        }
        assert_eq!(played(jb.pop()), Some(1));
        assert_eq!(played(jb.pop()), Some(2));
        assert_eq!(jb.pop(), Playout::Lost { fec: Some(pkt(4)) });
        assert_eq!(played(jb.pop()), Some(4));
        assert_eq!(played(jb.pop()), Some(5));
        assert_eq!(jb.stats().lost, 1);
        // 1 lost of 5 frames.
        assert!((jb.loss_percent() - 20.0).abs() < 1e-9);
        // Two in a row: no FEC for the first, FEC for the second.
        for seq in [8u16, 9] {
            push(&mut jb, seq);
        }
        assert_eq!(jb.pop(), Playout::Lost { fec: None });
        assert_eq!(jb.pop(), Playout::Lost { fec: Some(pkt(8)) });
        assert_eq!(played(jb.pop()), Some(8));
        assert_eq!(jb.stats().lost, 3);
    }

    #[test]
    fn sequence_wrap() {
        let mut jb = JitterBuffer::new(10);
        let mut out = Vec::new();
        for seq in [65533u16, 65534, 65535, 0, 1, 2] {
            push(&mut jb, seq);
            out.push(played(jb.pop()).unwrap());
        }
        assert_eq!(out, [65533, 65534, 65535, 0, 1, 2]);
        // Reordered across the wrap before playout starts.
        let mut jb = JitterBuffer::new(10);
        for seq in [0u16, 65535, 1, 65534] {
            push(&mut jb, seq);
        }
        let out: Vec<_> = (0..4).map(|_| played(jb.pop()).unwrap()).collect();
        assert_eq!(out, [65534, 65535, 0, 1]);
        // A loss across the wrap.
        let mut jb = JitterBuffer::new(10);
        push(&mut jb, 65535);
        push(&mut jb, 1);
        assert_eq!(played(jb.pop()), Some(65535));
        assert_eq!(jb.pop(), Playout::Lost { fec: Some(pkt(1)) });
        assert_eq!(played(jb.pop()), Some(1));
    }

    #[test]
    fn duplicates_are_ignored() {
        let mut jb = JitterBuffer::new(10);
        push(&mut jb, 1);
        push(&mut jb, 1);
        push(&mut jb, 2);
        assert_eq!(jb.stats().depth, 2);
        assert_eq!(played(jb.pop()), Some(1));
        // Duplicate of a packet that already played: not late, not played.
        push(&mut jb, 1);
        push(&mut jb, 2);
        assert_eq!(played(jb.pop()), Some(2));
        assert_eq!(jb.pop(), Playout::Empty);
        let s = jb.stats();
        assert_eq!((s.received, s.late), (2, 0));
    }

    #[test]
    fn late_packet_is_dropped_and_counted() {
        let mut jb = JitterBuffer::new(10);
        for seq in [1u16, 2, 4] {
            push(&mut jb, seq);
        }
        played(jb.pop()).unwrap();
        played(jb.pop()).unwrap();
        assert!(matches!(jb.pop(), Playout::Lost { .. }));
        push(&mut jb, 3); // too late now
        assert_eq!(played(jb.pop()), Some(4));
        assert_eq!(jb.pop(), Playout::Empty);
        let s = jb.stats();
        assert_eq!((s.received, s.lost, s.late), (3, 1, 1));
    }

    #[test]
    fn events_are_skipped_without_a_tick() {
        let mut jb = JitterBuffer::new(10);
        push(&mut jb, 1);
        push(&mut jb, 2);
        for seq in [3u16, 4, 5] {
            jb.push_event(seq);
        }
        push(&mut jb, 6);
        let out: Vec<_> = (0..3).map(|_| played(jb.pop())).collect();
        assert_eq!(out, [Some(1), Some(2), Some(6)]);
        assert_eq!(jb.pop(), Playout::Empty);
        assert_eq!(jb.stats().lost, 0);
        // A loss right before an event run: FEC comes from the audio after it.
        push(&mut jb, 9);
        jb.push_event(8);
        assert_eq!(played(jb.pop()), Some(9));
        // 7 went missing across the underrun; 8 was an event, not a loss.
        assert_eq!(jb.stats().lost, 1);
        push(&mut jb, 10);
        jb.push_event(12);
        push(&mut jb, 13);
        assert_eq!(played(jb.pop()), Some(10));
        assert_eq!(jb.pop(), Playout::Lost { fec: Some(pkt(13)) });
        assert_eq!(played(jb.pop()), Some(13));
        assert_eq!(jb.stats().lost, 2);
    }

    #[test]
    fn jitter_stays_zero_when_paced() {
        let mut jb = JitterBuffer::new(10);
        for seq in 0..200u16 {
            push(&mut jb, seq);
            jb.pop();
        }
        let s = jb.stats();
        assert!(s.jitter_ms.abs() < 1e-9, "{}", s.jitter_ms);
        assert_eq!(s.target, 1);
    }

    #[test]
    fn jitter_grows_with_jittery_arrivals() {
        let mut jb = JitterBuffer::new(10);
        // Every other packet 30 ms late: |D| = 30 ms for each packet after
        // the first, so J -> 30 ms and target -> ceil(60 / 20) = 3.
        for seq in 0..100u16 {
            let arrival = f64::from(seq) * 20.0 + if seq % 2 == 1 { 30.0 } else { 0.0 };
            jb.push(seq, u32::from(seq) * 960, pkt(seq), arrival);
        }
        let s = jb.stats();
        let expected = 30.0 * (1.0 - (15.0f64 / 16.0).powi(99));
        assert!((s.jitter_ms - expected).abs() < 1e-6, "{}", s.jitter_ms);
        assert_eq!(s.target, 3);
        // Jitter then calms down: target shrinks back.
        for seq in 100..400u16 {
            push(&mut jb, seq);
        }
        assert_eq!(jb.stats().target, 1);
    }

    #[test]
    fn playout_waits_for_target() {
        let mut jb3 = JitterBuffer::new(10);
        // Jittery arrivals raise the target to 3 frames (J ~ 27.6 ms)...
        for seq in 0..40u16 {
            let arrival = f64::from(seq) * 20.0 + if seq % 2 == 1 { 30.0 } else { 0.0 };
            jb3.push(seq, u32::from(seq) * 960, pkt(seq), arrival);
        }
        assert_eq!(jb3.stats().target, 3);
        // ...then drain it to force a re-buffer, which waits for 3 frames.
        while jb3.pop() != Playout::Empty {}
        assert_eq!(jb3.stats().underruns, 1);
        jb3.push(40, 40 * 960, pkt(40), 800.0);
        assert_eq!(jb3.pop(), Playout::Empty);
        jb3.push(41, 41 * 960, pkt(41), 820.0);
        assert_eq!(jb3.pop(), Playout::Empty);
        jb3.push(42, 42 * 960, pkt(42), 840.0);
        assert_eq!(jb3.stats().target, 3);
        assert_eq!(played(jb3.pop()), Some(40));
    }

    #[test]
    fn overflow_keeps_depth_bounded() {
        let mut jb = JitterBuffer::new(5);
        for seq in 1..=20u16 {
            push(&mut jb, seq);
            assert!(jb.stats().depth <= 5);
        }
        let s = jb.stats();
        assert_eq!((s.depth, s.late, s.lost), (5, 15, 0));
        let out: Vec<_> = (0..5).map(|_| played(jb.pop()).unwrap()).collect();
        assert_eq!(out, [16, 17, 18, 19, 20]);
        // While playing: overflow skips playout ahead.
        push(&mut jb, 21);
        assert_eq!(played(jb.pop()), Some(21));
        for seq in 22..=28u16 {
            push(&mut jb, seq);
        }
        assert_eq!(jb.stats().depth, 5);
        assert_eq!(played(jb.pop()), Some(24));
        assert_eq!(jb.stats().lost, 0);
    }

    #[test]
    fn wide_gap_is_skipped_at_once() {
        let mut jb = JitterBuffer::new(4);
        push(&mut jb, 1);
        assert_eq!(played(jb.pop()), Some(1));
        // 2..=9 lost: wider than max_depth, so no 8 Lost ticks.
        push(&mut jb, 10);
        assert_eq!(played(jb.pop()), Some(10));
        assert_eq!(jb.stats().lost, 8);
        // A numbering jump of 20000 is a restart, not 20000 lost frames.
        push(&mut jb, 20_011);
        assert_eq!(played(jb.pop()), Some(20_011));
        assert_eq!(jb.stats().lost, 8);
    }

    #[test]
    fn numbering_restart_lower_recovers() {
        let mut jb = JitterBuffer::new(10);
        for seq in 30_000..30_010u16 {
            push(&mut jb, seq);
            jb.pop();
        }
        let mut out = Vec::new();
        for seq in 100..200u16 {
            push(&mut jb, seq);
            if let Some(s) = played(jb.pop()) {
                out.push(s);
            }
        }
        assert_eq!(jb.stats().late, (RESTART_AFTER_LATE - 1) as u64);
        assert_eq!(out.first(), Some(&(100 + RESTART_AFTER_LATE as u16 - 1)));
        assert_eq!(out.last(), Some(&199));
    }

    #[test]
    fn zero_depth_and_odd_arrivals() {
        let mut jb = JitterBuffer::new(0);
        jb.push(1, 0, vec![1], f64::NAN);
        jb.push(2, 960, vec![2], f64::INFINITY);
        jb.push(3, 1920, vec![3], 1e308);
        jb.push(4, 2880, vec![4], -1e308);
        let s = jb.stats();
        assert_eq!(s.depth, 1);
        assert!(s.jitter_ms.is_finite());
        assert_eq!(jb.pop(), Playout::Packet(vec![4]));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(u16, u32, f64),
        Event(u16),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<u16>(), any::<u32>(), -1e6f64..1e6).prop_map(|(s, t, a)| Op::Push(s, t, a)),
            (0u16..40, 0u32..40_000, 0f64..2000.0).prop_map(|(s, t, a)| Op::Push(s, t, a)),
            (65_520u16..=65_535).prop_map(|s| Op::Push(s, 0, 0.0)),
            any::<u16>().prop_map(Op::Event),
            (0u16..40).prop_map(Op::Event),
            Just(Op::Pop),
            Just(Op::Pop),
        ]
    }

    proptest! {
        #[test]
        fn never_panics_and_depth_is_bounded(
            max_depth in 0usize..12,
            ops in proptest::collection::vec(op(), 0..300),
        ) {
            let mut jb = JitterBuffer::new(max_depth);
            let cap = max_depth.max(1);
            for op in ops {
                match op {
                    Op::Push(s, t, a) => jb.push(s, t, pkt(s), a),
                    Op::Event(s) => jb.push_event(s),
                    Op::Pop => { jb.pop(); }
                }
                let s = jb.stats();
                prop_assert!(s.depth <= cap);
                prop_assert!(s.target >= 1 && s.target <= cap);
                prop_assert!(s.jitter_ms.is_finite() && s.jitter_ms >= 0.0);
                let loss = jb.loss_percent();
                prop_assert!((0.0..=100.0).contains(&loss));
            }
        }
    }
}
