//! The live transcript: `asr` slices recognised from the audio or spoken
//! from the trunk's text.

use super::*;

impl Center {
    pub(super) fn speak(&mut self, sid: &str, flow: Flow, text: &str) {
        // Paused for a card payment: nothing is written down.
        if self.recording_paused(sid) {
            return;
        }
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            return;
        }
        let slot = flow_slot(flow);
        let index = s.next_index[slot];
        s.next_index[slot] += 1;
        let idle = s.speech.is_empty();
        s.speech.push_back(Utterance {
            flow,
            index,
            words,
            shown: 0,
            start_ms: 0, // set when it starts being spoken
        });
        if idle {
            self.speak_step(sid);
        }
    }

    /// One `asr` slice, recognised or from text: to the parties and the
    /// monitors, and the finals to the session's record.
    pub(super) fn send_asr(&mut self, sid: &str, flow: Flow, result: AsrResult) {
        if self.recording_paused(sid) {
            return;
        }
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if s.is_ended() {
            return;
        }
        if result.slice_type == 2 {
            s.transcript.push(TranscriptLine {
                flow,
                index: result.index,
                start_time: result.start_time,
                end_time: result.end_time,
                text: result.text.clone(),
                keys: false,
            });
        }
        let parties = s.parties();
        let ev = Event::Asr {
            session_id: sid.to_string(),
            flow,
            result,
        };
        for p in &parties {
            self.emit_to_user(p, &ev);
        }
        self.emit_to_monitors(sid, &ev);
    }

    /// Emit the next slice of the sentence being spoken.
    pub(super) fn speak_step(&mut self, sid: &str) {
        let word_ms = self.cfg.center.asr_word_ms;
        loop {
            let now = self.clock.instant();
            let Some(s) = self.sessions.get_mut(sid) else {
                return;
            };
            if s.is_ended() {
                return;
            }
            let elapsed = s.elapsed_ms(now);
            let Some(u) = s.speech.front_mut() else {
                return;
            };
            if u.shown == 0 {
                u.start_ms = elapsed;
            }
            // 0 with the first word, partials (1) growing word by word, 2 with
            // the whole sentence; a one-word sentence still gets 0 then 2.
            u.shown += 1;
            let n = u.words.len();
            let steps = n.max(2);
            let slice_type = if u.shown == 1 {
                0
            } else if u.shown < steps {
                1
            } else {
                2
            };
            let per_word = if word_ms > 0 { word_ms } else { 300 };
            let said = u.shown.min(n);
            let result = AsrResult {
                index: u.index,
                slice_type,
                start_time: u.start_ms,
                end_time: u.start_ms + per_word * said as u64,
                text: u.words[..said].join(" "),
            };
            let flow = u.flow;
            if slice_type == 2 {
                s.speech.pop_front();
            }
            let more = !s.speech.is_empty();
            self.send_asr(sid, flow, result);
            if !more {
                return;
            }
            if word_ms > 0 {
                self.schedule(
                    Duration::from_millis(word_ms),
                    TimerKind::Speech {
                        session: sid.to_string(),
                    },
                );
                return;
            }
        }
    }
}

pub(super) fn flow_slot(flow: Flow) -> usize {
    match flow {
        Flow::In => 0,
        Flow::Out => 1,
    }
}
