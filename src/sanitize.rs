//! Text that came from outside (a server, a file, the environment) made safe for a
//! terminal (SPEC §8): no control characters that could move the cursor, recolour or
//! retitle it, and no Unicode format characters that could make one string look like
//! another.

use std::borrow::Cow;

use crate::secret;

/// Removes control characters (C0, DEL, C1), so text from a server or a file cannot move
/// the cursor, recolour or retitle the user's terminal, and Unicode format characters
/// (bidirectional overrides and isolates, zero-width characters, the soft hyphen, …), so
/// it cannot make one string look like another (SPEC §8).
pub fn clean(s: &str) -> Cow<'_, str> {
    // Printable ASCII, what nearly every line is, has neither: no table lookups then.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Cow::Borrowed(s);
    }
    let hidden = |c: char| c.is_control() || is_format(c);
    if s.chars().any(hidden) {
        Cow::Owned(s.chars().filter(|&c| !hidden(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Longest server text quoted in a message, in characters (SPEC §9).
const EXCERPT: usize = 200;

/// Server text as a message quotes it (SPEC §9): known secrets redacted first (so a cut
/// never leaves part of one), runs of whitespace (newlines included) become one space,
/// control and format characters go ([`clean`]), and text longer than 200 characters is
/// cut there and marked `…`, so a server cannot flood the terminal.
pub fn excerpt(text: &str) -> String {
    let text = secret::redact(text);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = clean(&text);
    match text.char_indices().nth(EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Whether `s` may be an account name as far as its characters go (SPEC §9): no control
/// or format characters and no default-ignorable code points (U+034F, U+3164, the
/// variation selectors, …), which show as nothing or as a blank, so two names that look
/// alike are never both stored.
pub fn fit_for_name(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() || is_format(c) || is_default_ignorable(c))
}

/// Unicode's Default_Ignorable_Code_Point property (Unicode 16), less what
/// [`is_format`] already covers: code points a renderer shows as nothing, whatever their
/// category (fillers, variation selectors, the combining grapheme joiner).
fn is_default_ignorable(c: char) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x034F, 0x034F),   // combining grapheme joiner
        (0x115F, 0x1160),   // Hangul choseong and jungseong fillers
        (0x17B4, 0x17B5),   // Khmer inherent vowels
        (0x180B, 0x180F),   // Mongolian free variation selectors
        (0x3164, 0x3164),   // Hangul filler
        (0xFE00, 0xFE0F),   // variation selectors
        (0xFFA0, 0xFFA0),   // halfwidth Hangul filler
        (0xFFF0, 0xFFF8),   // reserved, default ignorable
        (0xE0000, 0xE0FFF), // tags, variation selectors supplement, reserved
    ];
    let c = u32::from(c);
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Unicode general category Cf (format characters), plus the line and paragraph
/// separators U+2028/U+2029, which some terminals treat as line breaks. The table
/// follows Unicode 16; unassigned code points inside a range are included.
pub fn is_format(c: char) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),   // soft hyphen
        (0x0600, 0x0605),   // Arabic number signs
        (0x061C, 0x061C),   // Arabic letter mark
        (0x06DD, 0x06DD),   // Arabic end of ayah
        (0x070F, 0x070F),   // Syriac abbreviation mark
        (0x0890, 0x0891),   // Arabic pound/piastre mark above
        (0x08E2, 0x08E2),   // Arabic disputed end of ayah
        (0x180E, 0x180E),   // Mongolian vowel separator
        (0x200B, 0x200F),   // zero-width space, (non-)joiner, LRM, RLM
        (0x2028, 0x202E),   // line/paragraph separators, bidi embeddings and overrides
        (0x2060, 0x206F),   // word joiner, invisible operators, bidi isolates, deprecated
        (0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
        (0xFFF9, 0xFFFB),   // interlinear annotation
        (0x110BD, 0x110BD), // Kaithi number sign
        (0x110CD, 0x110CD), // Kaithi number sign above
        (0x13430, 0x1343F), // Egyptian hieroglyph format controls
        (0x1BCA0, 0x1BCA3), // shorthand format controls
        (0x1D173, 0x1D17A), // musical symbol format controls
        (0xE0001, 0xE0001), // language tag
        (0xE0020, 0xE007F), // tag characters
    ];
    let c = u32::from(c);
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::{clean, excerpt, fit_for_name};

    #[test]
    fn clean_strips_c0_del_and_c1() {
        assert_eq!(
            clean("a\u{1b}[31mb\u{7}c\u{7f}d\u{9b}e\u{85}f\r\n"),
            "a[31mbcdef"
        );
        assert_eq!(clean("plain é ✓"), "plain é ✓");
    }

    #[test]
    fn excerpts_are_one_cleaned_line_of_at_most_200_characters() {
        assert_eq!(excerpt(" a\n\t b\u{1b}[1m "), "a b[1m");
        let long = "é".repeat(100_000);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.starts_with(&"é".repeat(200)) && cut.ends_with('…'));
        assert_eq!(excerpt(&"x".repeat(200)), "x".repeat(200));
        let key = crate::secret::Secret::new("sk-straddles-the-cut");
        let cut = excerpt(&format!("{}{}", "x".repeat(190), key.expose()));
        assert_eq!(cut, format!("{}[redacted]", "x".repeat(190)));
    }

    #[test]
    fn names_refuse_controls_format_and_default_ignorable_characters() {
        assert!(fit_for_name("me@example.com"));
        assert!(fit_for_name("ci bot ✓ é 日本"));
        for bad in [
            "a\u{7}",
            "a\u{85}",
            "a\u{200B}",
            "a\u{202E}",
            "a\u{2066}",
            "a\u{FEFF}",
            "a\u{34F}",
            "a\u{115F}",
            "a\u{1160}",
            "a\u{17B4}",
            "a\u{180B}",
            "a\u{180F}",
            "a\u{3164}",
            "a\u{FE00}",
            "a\u{FE0F}",
            "a\u{FFA0}",
            "a\u{E0100}",
        ] {
            assert!(!fit_for_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn clean_strips_format_characters() {
        assert_eq!(
            clean("a\u{202E}b\u{2066}c\u{2069}d\u{200B}e\u{200D}f\u{FEFF}g\u{AD}h\u{2060}i"),
            "abcdefghi"
        );
        assert_eq!(clean("x\u{E0041}\u{E007F}y\u{2028}z\u{61C}"), "xyz");
        // Visible neighbours of the ranges stay.
        assert_eq!(
            clean("\u{2010}\u{2027}\u{2030}\u{205F}\u{FEFE}"),
            "\u{2010}\u{2027}\u{2030}\u{205F}\u{FEFE}"
        );
    }
}
