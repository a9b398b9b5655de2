//! Byte scans over text that run on every text node and every written value.
//!
//! The release profile is built for size (`opt-level = "s"`), which turns off loop auto-vectorisation,
//! so the scans test eight bytes per step by hand (SWAR) and look at single bytes only in the rare
//! word that might hold a hit.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero when some byte of `word` is below `n` (n <= 128); exact as an "any" test.
#[inline]
fn has_byte_below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// Non-zero when some byte of `word` equals `b`.
#[inline]
fn has_byte(word: u64, b: u8) -> u64 {
    has_byte_below(word ^ (ONES * u64::from(b)), 1)
}

/// True when any byte satisfies `exact`; `maybe` must be non-zero for every word holding such a byte.
#[inline]
fn any_byte(bytes: &[u8], maybe: impl Fn(u64) -> u64, exact: impl Fn(u8) -> bool) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes"));
        if maybe(word) != 0 && chunk.iter().copied().any(&exact) {
            return true;
        }
    }
    chunks.remainder().iter().copied().any(exact)
}

/// Where `b` first occurs in `bytes`, eight bytes a step: element names are short, so this beats a `memchr`
/// call and its set-up.
pub(crate) fn find_byte(bytes: &[u8], b: u8) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes"));
        // The lowest flagged byte is always a true match (a false flag only follows a true one).
        let hits = has_byte(word, b);
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&c| c == b).map(|i| at + i)
}

/// A C0 control character other than tab, LF and CR: not an XML 1.0 character.
pub(crate) fn has_forbidden_control(text: &str) -> bool {
    any_byte(text.as_bytes(), |w| has_byte_below(w, 0x20), |b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
}

/// One pass over element text for what the reader needs of its control characters: `None` when it holds a C0
/// control other than tab, LF and CR (not an XML 1.0 character), else whether it holds a CR (which XML 1.0's
/// end-of-line rule rewrites; values rarely have one, so the text is then taken as it stands).
pub(crate) fn text_controls(text: &str) -> Option<bool> {
    let mut carriage_return = false;
    let mut check = |b: u8| {
        if b < 0x20 {
            if b == b'\r' {
                carriage_return = true;
            } else if b != b'\t' && b != b'\n' {
                return false;
            }
        }
        true
    };
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes"));
        if has_byte_below(word, 0x20) != 0 && !chunk.iter().all(|&b| check(b)) {
            return None;
        }
    }
    if !chunks.remainder().iter().all(|&b| check(b)) {
        return None;
    }
    Some(carriage_return)
}

/// Whether every byte of `text` is printable ASCII other than the space (`!` to `~`, or DEL): the usual
/// identifier, which needs no trimming or collapsing.
pub(crate) fn is_spaceless_ascii(text: &str) -> bool {
    !any_byte(text.as_bytes(), |w| has_byte_below(w, 0x21) | (w & HIGHS), |b| b <= 0x20 || b >= 0x80)
}

/// Whether `text` holds one of Unicode's `Bidi_Control` characters (U+061C, U+200E/F, U+202A–202E,
/// U+2066–2069): in an identifier they only serve to make one id look like another (`RL-\u{202E}4321`
/// displays as `RL-1234`). All are outside ASCII, so the common all-ASCII id costs one byte scan.
pub(crate) fn has_bidi_control(text: &str) -> bool {
    !text.is_ascii()
        && text.chars().any(
            |c| matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'),
        )
}

/// Whether element text needs escaping: `&`, `<`, `>`, CR, or a control character.
pub(crate) fn text_needs_escape(text: &str) -> bool {
    any_byte(
        text.as_bytes(),
        |w| has_byte_below(w, 0x20) | has_byte(w, b'&') | has_byte(w, b'<') | has_byte(w, b'>'),
        |b| matches!(b, b'&' | b'<' | b'>' | b'\r') || (b < 0x20 && b != b'\t' && b != b'\n'),
    )
}

/// Whether an attribute value needs escaping: `&`, `<`, `>`, `"`, or any control character.
pub(crate) fn attribute_needs_escape(text: &str) -> bool {
    any_byte(
        text.as_bytes(),
        |w| has_byte_below(w, 0x20) | has_byte(w, b'&') | has_byte(w, b'<') | has_byte(w, b'>') | has_byte(w, b'"'),
        |b| matches!(b, b'&' | b'<' | b'>' | b'"') || b < 0x20,
    )
}

/// Whether an attribute value can be taken as written: no reference, `<`, or control character
/// (tab/LF/CR would be normalised to spaces by XML attribute-value normalisation).
pub(crate) fn attribute_value_is_plain(text: &str) -> bool {
    !any_byte(
        text.as_bytes(),
        |w| has_byte_below(w, 0x20) | has_byte(w, b'&') | has_byte(w, b'<'),
        |b| matches!(b, b'&' | b'<') || b < 0x20,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_agree_with_a_plain_byte_loop_at_every_position() {
        for len in 0..20 {
            for at in 0..len {
                for b in [0u8, 1, 9, 10, 13, 31, 32, b'"', b'&', b'<', b'>', b'a', 0x7f, 0xc3] {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = b;
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let control = text.bytes().any(|c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'));
                    assert_eq!(has_forbidden_control(&text), control, "{bytes:?}");
                    assert_eq!(find_byte(text.as_bytes(), b), text.bytes().position(|c| c == b), "{bytes:?}");
                    let spaceless = text.bytes().all(|c| (0x21..0x80).contains(&c));
                    assert_eq!(is_spaceless_ascii(&text), spaceless, "{bytes:?}");
                    let cr = text.contains('\r');
                    assert_eq!(text_controls(&text), (!control).then_some(cr), "{bytes:?}");
                    let escape = text
                        .bytes()
                        .any(|c| matches!(c, b'&' | b'<' | b'>' | b'\r') || (c < 0x20 && c != b'\t' && c != b'\n'));
                    assert_eq!(text_needs_escape(&text), escape, "{bytes:?}");
                    let attr = text.bytes().any(|c| matches!(c, b'&' | b'<' | b'>' | b'"') || c < 0x20);
                    assert_eq!(attribute_needs_escape(&text), attr, "{bytes:?}");
                    let plain = !text.bytes().any(|c| matches!(c, b'&' | b'<') || c < 0x20);
                    assert_eq!(attribute_value_is_plain(&text), plain, "{bytes:?}");
                }
            }
        }
    }
}
