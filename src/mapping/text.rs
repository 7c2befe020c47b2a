//! Text normalisation shared by keyword compilation and routing: lower case, accents
//! removed (NFD, combining marks dropped), every character that is not a letter or digit
//! turned into a word break. Keywords and complaints go through the same function, so a
//! keyword matches exactly when its words appear as whole words in the same order.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Normalises `text` into `out` (cleared first): lower-case words separated by single
/// spaces, no leading or trailing space.
pub fn normalize_into(text: &str, out: &mut String) {
    let mut bounds = Vec::new();
    normalize_words(text, out, &mut bounds);
}

/// Like [`normalize_into`], also recording each word's byte range in `out` (so callers
/// need not split the text again).
pub fn normalize_words(text: &str, out: &mut String, bounds: &mut Vec<(u32, u32)>) {
    out.clear();
    bounds.clear();
    out.reserve(text.len());
    let mut start: Option<usize> = None;
    let push =
        |out: &mut String, c: char, start: &mut Option<usize>, bounds: &mut Vec<(u32, u32)>| {
            if c.is_alphanumeric() {
                if start.is_none() {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    *start = Some(out.len());
                }
                out.push(c);
            } else if let Some(s) = start.take() {
                bounds.push((s as u32, out.len() as u32));
            }
        };
    if text.is_ascii() {
        for &b in text.as_bytes() {
            if b.is_ascii_alphanumeric() {
                if start.is_none() {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    start = Some(out.len());
                }
                out.push(b.to_ascii_lowercase() as char);
            } else if let Some(s) = start.take() {
                bounds.push((s as u32, out.len() as u32));
            }
        }
    } else {
        for c in text.chars() {
            if c.is_ascii() {
                push(out, c.to_ascii_lowercase(), &mut start, bounds);
                continue;
            }
            decompose_canonical(c, |d| {
                if is_combining_mark(d) {
                    return;
                }
                for l in d.to_lowercase() {
                    push(out, l, &mut start, bounds);
                }
            });
        }
    }
    if let Some(s) = start {
        bounds.push((s as u32, out.len() as u32));
    }
}

/// Normalises `text` into a new string (see [`normalize_into`]).
pub fn normalize(text: &str) -> String {
    let mut s = String::new();
    normalize_into(text, &mut s);
    s
}

/// The words of `text` after normalisation.
pub fn words(text: &str) -> Vec<String> {
    normalize(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_strips_accents_and_splits() {
        assert_eq!(
            normalize("Jalan  BERLUBANG, di Kalurahan Triharjo!"),
            "jalan berlubang di kalurahan triharjo"
        );
        assert_eq!(normalize("Kafé Ümbul déPAN"), "kafe umbul depan");
        assert_eq!(normalize("KTP-el belum jadi..."), "ktp el belum jadi");
        assert_eq!(normalize("  --  "), "");
        assert_eq!(words("e-KTP (NIK)"), vec!["e", "ktp", "nik"]);
    }
}
