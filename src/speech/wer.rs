//! Word error rate: how far a transcript is from what was said.
//!
//! Both texts are normalised the same way — lowercase, punctuation
//! dropped (an apostrophe inside a word is kept: "don't"; a hyphen
//! separates words: "e-mail" is "e mail") — and compared as sequences of
//! words by edit distance (substitutions, insertions and deletions all cost
//! one). The rate is that distance over the reference's word count, so it
//! can exceed 1 when the hypothesis adds many words.

/// The words of `text`, normalised (see the module's documentation).
pub fn normalize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut words = Vec::new();
    for raw in lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        let w = raw.trim_matches('\'');
        if !w.is_empty() {
            words.push(w.to_owned());
        }
    }
    words
}

/// Word-level edit distance between `reference` and `hypothesis`, and the
/// reference's word count: `(errors, words)`. Sum both over sentences for
/// a corpus's rate.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    (edit_distance(&r, &h), r.len())
}

/// The word error rate of `hypothesis` against `reference`: 0.0 is perfect.
/// An empty reference gives 0.0 for an empty hypothesis, else 1.0.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (errors, words) = word_errors(reference, hypothesis);
    if words == 0 {
        return if errors == 0 { 0.0 } else { 1.0 };
    }
    errors as f64 / words as f64
}

/// Levenshtein distance over two sequences, in O(len(b)) memory.
fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = diag + usize::from(x != y);
            diag = row[j + 1];
            row[j + 1] = sub.min(row[j] + 1).min(diag + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(
            normalize("Hello, World!  I'd like an E-mail; 'quoted' 42."),
            ["hello", "world", "i'd", "like", "an", "e", "mail", "quoted", "42"]
        );
        assert!(normalize(" ... ").is_empty());
    }

    #[test]
    fn identical_texts_have_no_errors() {
        assert_eq!(wer("I want my bill.", "i want my bill"), 0.0);
        assert_eq!(word_errors("a b c", "a b c"), (0, 3));
    }

    #[test]
    fn substitutions_insertions_deletions_cost_one_each() {
        assert_eq!(word_errors("a b c d", "a x c d"), (1, 4)); // substitution
        assert_eq!(word_errors("a b c d", "a b c d e"), (1, 4)); // insertion
        assert_eq!(word_errors("a b c d", "a c d"), (1, 4)); // deletion
        assert_eq!(word_errors("a b c d", "b c d e"), (2, 4));
        assert_eq!(word_errors("a b c d", ""), (4, 4));
        assert_eq!(word_errors("a b", "x y z w"), (4, 2));
        assert!((wer("one two three four", "one too three") - 0.5).abs() < 1e-9);
    }

    #[test]
    fn an_empty_reference() {
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "uh"), 1.0);
        assert_eq!(wer("!!", ""), 0.0);
    }

    #[test]
    fn distance_is_symmetric_and_bounded() {
        let cases = [
            ("the cat sat", "the cat sat on the mat"),
            ("a b c", "c b a"),
            ("", "x"),
        ];
        for (a, b) in cases {
            let (ab, _) = word_errors(a, b);
            let (ba, _) = word_errors(b, a);
            assert_eq!(ab, ba);
            assert!(ab <= normalize(a).len().max(normalize(b).len()));
        }
    }
}
