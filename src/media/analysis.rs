//! Signal helpers for tests, level meters and benches.
//!
//! Everything here works on mono 16-bit PCM and expresses levels as
//! fractions of full scale (`i16::MAX + 1`, i.e. 32768), so a full-scale
//! square wave has an RMS of 1.0 and a full-scale sine about 0.707.
//! Nothing here allocates except [`tone`] and [`level_bar`], and nothing
//! panics on any input.

/// Full scale of 16-bit PCM as a float.
const FULL_SCALE: f32 = 32768.0;

/// Level reported by [`dbfs`] for digital silence (and anything quieter).
pub const DBFS_FLOOR: f32 = -96.0;

/// Level at which [`level_bar`] shows an empty meter.
const METER_FLOOR_DB: f32 = -60.0;

/// Root-mean-square level of `pcm` as a fraction of full scale, in
/// `0.0..=1.0`. An empty slice has an RMS of 0.
pub fn rms(pcm: &[i16]) -> f32 {
    if pcm.is_empty() {
        return 0.0;
    }
    let sum: f64 = pcm
        .iter()
        .map(|&s| {
            let x = f64::from(s) / f64::from(FULL_SCALE);
            x * x
        })
        .sum();
    ((sum / pcm.len() as f64).sqrt() as f32).min(1.0)
}

/// Level of `pcm` in dB relative to full scale: `20 * log10(rms)`.
///
/// Digital silence (and anything below -96 dBFS, the dynamic range of
/// 16-bit audio) reports [`DBFS_FLOOR`], never `-inf`.
pub fn dbfs(pcm: &[i16]) -> f32 {
    let r = rms(pcm);
    if r <= 0.0 {
        return DBFS_FLOOR;
    }
    (20.0 * r.log10()).max(DBFS_FLOOR)
}

/// Power of the frequency `hz` in `pcm` sampled at `rate` Hz (Goertzel
/// algorithm over a periodic Hann window, which keeps leakage from other
/// frequencies low).
///
/// Normalization: the result is the mean-square power, as a fraction of
/// full scale squared, of the sinusoidal component at `hz`. A sine of peak
/// amplitude `A` (fraction of full scale) at exactly `hz` gives about
/// `A² / 2`, which is its `rms²` (0.5 for a full-scale sine); frequencies
/// a few window bins away (bin = `rate / pcm.len()` Hz) give values near 0.
/// Internally that is `8 |X(hz)|² / N²`, where `X` is the Hann-windowed
/// transform of the `N` samples and `8 / N²` undoes the window's coherent
/// gain of 1/2 and the one-sided split of the sine's energy.
///
/// Returns 0 for an empty slice, a zero rate, or a frequency that is not
/// finite.
pub fn goertzel(pcm: &[i16], rate: u32, hz: f32) -> f32 {
    let n = pcm.len();
    if n == 0 || rate == 0 || !hz.is_finite() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * f64::from(hz) / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for (i, &sample) in pcm.iter().enumerate() {
        let window = if n > 1 {
            0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()
        } else {
            1.0
        };
        let x = f64::from(sample) / f64::from(FULL_SCALE) * window;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let nf = n as f64;
    let normalized = 8.0 * power / (nf * nf);
    if normalized.is_finite() {
        normalized.max(0.0) as f32
    } else {
        0.0
    }
}

/// `ms` milliseconds of a sum of sines at the frequencies `hz`, sampled at
/// `rate` Hz, all starting at phase 0.
///
/// `amplitude` is the total peak as a fraction of full scale (clamped to
/// `0.0..=1.0`), split evenly between the frequencies, so the sum never
/// clips. An empty `hz` gives silence of the same length.
pub fn tone(rate: u32, hz: &[f32], ms: u32, amplitude: f32) -> Vec<i16> {
    let len = (u64::from(rate) * u64::from(ms) / 1000) as usize;
    if hz.is_empty() || rate == 0 {
        return vec![0; len];
    }
    let amplitude = if amplitude.is_finite() {
        amplitude.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let each = f64::from(amplitude) / hz.len() as f64;
    let rate = f64::from(rate);
    (0..len)
        .map(|i| {
            let t = i as f64 / rate;
            let v: f64 = hz
                .iter()
                .map(|&f| each * (2.0 * std::f64::consts::PI * f64::from(f) * t).sin())
                .sum();
            let scaled = (v * f64::from(i16::MAX)).round();
            // `as` saturates (and maps NaN to 0), so this cannot overflow.
            scaled as i16
        })
        .collect()
}

/// Which of `candidates` carries the most power in `pcm`.
///
/// Returns `None` when the signal is near silence (RMS below 0.01 of full
/// scale), when there are no candidates, or when the strongest candidate
/// does not stand out: its [`goertzel`] power must be more than 4 times the
/// mean power of the other candidates (with a single candidate this holds
/// trivially). So that a signal at none of the candidate frequencies does
/// not elect one by rounding noise, the winner must also carry at least a
/// tenth of the signal's total power (`rms²`); a DTMF pair, where each tone
/// holds half, passes easily.
pub fn dominant(pcm: &[i16], rate: u32, candidates: &[f32]) -> Option<f32> {
    let level = rms(pcm);
    if level < 0.01 || candidates.is_empty() {
        return None;
    }
    let powers: Vec<f32> = candidates.iter().map(|&f| goertzel(pcm, rate, f)).collect();
    let (best_idx, best) =
        powers
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0usize, f32::MIN),
                |acc, (i, p)| {
                    if p > acc.1 {
                        (i, p)
                    } else {
                        acc
                    }
                },
            );
    if best <= 0.0 {
        return None;
    }
    if best < level * level / 10.0 {
        return None;
    }
    let others: f32 = powers
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != best_idx)
        .map(|(_, &p)| p)
        .sum();
    let mean_others = others / powers.len().saturating_sub(1).max(1) as f32;
    (best > 4.0 * mean_others).then_some(candidates[best_idx])
}

/// A text level meter `width` characters wide: `'#'` for the filled part,
/// `'.'` for the rest. -60 dBFS (or lower, or NaN) is empty, 0 dBFS (or
/// higher) is full, linear in dB in between, rounded to the nearest cell.
/// ASCII only.
pub fn level_bar(dbfs: f32, width: usize) -> String {
    let fraction = if dbfs.is_nan() {
        0.0
    } else {
        ((dbfs - METER_FLOOR_DB) / -METER_FLOOR_DB).clamp(0.0, 1.0)
    };
    let filled = ((fraction * width as f32).round() as usize).min(width);
    let mut bar = String::with_capacity(width);
    bar.extend(std::iter::repeat_n('#', filled));
    bar.extend(std::iter::repeat_n('.', width - filled));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn rms_of_known_signals() {
        assert_eq!(rms(&[]), 0.0);
        assert_eq!(rms(&[0; 100]), 0.0);
        // Square wave at half scale: every sample is ±16384 -> RMS 0.5.
        let square: Vec<i16> = (0..100)
            .map(|i| if i % 2 == 0 { 16384 } else { -16384 })
            .collect();
        assert!(close(rms(&square), 0.5, 1e-6));
        // Full-scale negative DC: 1.0 exactly.
        assert!(close(rms(&[i16::MIN; 10]), 1.0, 1e-6));
        // Full-scale sine: 1/sqrt(2) (times 32767/32768).
        let sine = tone(48_000, &[1000.0], 100, 1.0);
        assert!(close(rms(&sine), std::f32::consts::FRAC_1_SQRT_2, 1e-3));
    }

    #[test]
    fn dbfs_of_known_signals() {
        assert_eq!(dbfs(&[]), -96.0);
        assert_eq!(dbfs(&[0; 10]), -96.0);
        let square: Vec<i16> = (0..100)
            .map(|i| if i % 2 == 0 { 16384 } else { -16384 })
            .collect();
        // 20 log10(0.5) = -6.0206
        assert!(close(dbfs(&square), -6.0206, 1e-3));
        // A single LSB of DC: 20 log10(1/32768) = -90.309
        assert!(close(dbfs(&[1; 10]), -90.309, 1e-2));
        // Full-scale sine: -3.01 dB.
        let sine = tone(16_000, &[440.0], 100, 1.0);
        assert!(close(dbfs(&sine), -3.01, 0.02));
    }

    #[test]
    fn goertzel_measures_sine_power() {
        let sine = tone(16_000, &[1000.0], 20, 1.0);
        assert_eq!(sine.len(), 320);
        // Full-scale sine: rms² = 0.5.
        let p = goertzel(&sine, 16_000, 1000.0);
        assert!(close(p, 0.5, 0.01), "power {p}");
        // Half amplitude: a quarter of the power.
        let half = tone(16_000, &[1000.0], 20, 0.5);
        assert!(close(goertzel(&half, 16_000, 1000.0), 0.125, 0.005));
        // Far from the tone: near 0.
        for off in [400.0, 2000.0, 3000.0] {
            let q = goertzel(&sine, 16_000, off);
            assert!(q < 1e-4, "{off} Hz leaked {q}");
        }
        assert_eq!(goertzel(&[], 16_000, 1000.0), 0.0);
        assert_eq!(goertzel(&sine, 0, 1000.0), 0.0);
        assert_eq!(goertzel(&sine, 16_000, f32::NAN), 0.0);
    }

    #[test]
    fn goertzel_separates_two_tones() {
        // DTMF '1': 697 + 1209 Hz, each at half the peak.
        let pcm = tone(8000, &[697.0, 1209.0], 50, 0.8);
        let a = goertzel(&pcm, 8000, 697.0);
        let b = goertzel(&pcm, 8000, 1209.0);
        // each sine has peak 0.4 -> power 0.08
        assert!(close(a, 0.08, 0.004), "{a}");
        assert!(close(b, 0.08, 0.004), "{b}");
        assert!(goertzel(&pcm, 8000, 941.0) < 1e-3);
    }

    #[test]
    fn tone_shape() {
        assert_eq!(tone(8000, &[], 20, 1.0), vec![0i16; 160]);
        let t = tone(48_000, &[1000.0], 10, 0.4);
        assert_eq!(t.len(), 480);
        assert_eq!(t[0], 0);
        // Quarter period of 1 kHz at 48 kHz is sample 12: the peak,
        // 0.4 * 32767 = 13106.8.
        assert_eq!(t[12], 13107);
        assert_eq!(t[36], -13107);
        // Sample 4 is 30 degrees: 0.4 * 32767 * 0.5 = 6553.4; sample 8 is
        // 60 degrees: 13106.8 * 0.8660 = 11350.8.
        assert_eq!(t[4], 6553);
        assert_eq!(t[8], 11351);
        // Two tones share the amplitude: peak never exceeds it.
        let two = tone(8000, &[697.0, 1209.0], 100, 1.0);
        assert!(two.iter().all(|&s| s.unsigned_abs() <= 32767));
        // Amplitude is clamped.
        let loud = tone(8000, &[1000.0], 10, 5.0);
        assert_eq!(loud.iter().map(|s| s.unsigned_abs()).max(), Some(32767));
        assert_eq!(tone(8000, &[1000.0], 0, 1.0), Vec::<i16>::new());
    }

    #[test]
    fn dominant_picks_the_tone() {
        let cands = [697.0, 770.0, 852.0, 941.0];
        let pcm = tone(8000, &[852.0], 40, 0.5);
        assert_eq!(dominant(&pcm, 8000, &cands), Some(852.0));
        // Silence and near silence.
        assert_eq!(dominant(&[0; 320], 8000, &cands), None);
        let quiet = tone(8000, &[852.0], 40, 0.005);
        assert_eq!(dominant(&quiet, 8000, &cands), None);
        // Equal mix of two candidates: the best is not 4x the others' mean
        // (mean of {equal, ~0, ~0} is a third of it).
        let mix = tone(8000, &[697.0, 941.0], 40, 0.8);
        assert_eq!(dominant(&mix, 8000, &cands), None);
        // A tone that is none of the candidates.
        let other = tone(8000, &[2000.0], 40, 0.5);
        assert_eq!(dominant(&other, 8000, &cands), None);
        // The winner must carry a real share of the power, also when alone.
        assert_eq!(dominant(&pcm, 8000, &[852.0]), Some(852.0));
        assert_eq!(dominant(&other, 8000, &[852.0]), None);
        assert_eq!(dominant(&pcm, 8000, &[]), None);
        // DTMF '9' (852 + 1477 Hz) against the low group: 852 wins.
        let nine = tone(8000, &[852.0, 1477.0], 40, 0.8);
        assert_eq!(dominant(&nine, 8000, &cands), Some(852.0));
        // A tone buried in louder off-candidate sound loses its share.
        let buried = tone(8000, &[852.0, 2000.0, 2500.0, 3000.0], 40, 0.8);
        assert_eq!(dominant(&buried, 8000, &cands), Some(852.0));
        let drowned: Vec<i16> = tone(8000, &[852.0], 40, 0.05)
            .iter()
            .zip(tone(8000, &[2000.0], 40, 0.9))
            .map(|(a, b)| a + b)
            .collect();
        assert_eq!(dominant(&drowned, 8000, &cands), None);
    }

    #[test]
    fn level_bar_scale() {
        assert_eq!(level_bar(0.0, 10), "##########");
        assert_eq!(level_bar(6.0, 10), "##########");
        assert_eq!(level_bar(-60.0, 10), "..........");
        assert_eq!(level_bar(-96.0, 10), "..........");
        assert_eq!(level_bar(-30.0, 10), "#####.....");
        assert_eq!(level_bar(-12.0, 5), "####.");
        assert_eq!(level_bar(f32::NAN, 4), "....");
        assert_eq!(level_bar(-10.0, 0), "");
        assert!(level_bar(-20.0, 33).is_ascii());
        assert_eq!(level_bar(-20.0, 33).len(), 33);
    }
}
