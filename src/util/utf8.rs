//! UTF-8 checks of whole files, a vector at a time.

use std::str::Utf8Error;

/// `bytes` as text, as [`std::str::from_utf8`] gives it. simdutf8 answers first (several
/// times faster on the plan's megabytes of mostly ASCII); std is asked only for the error's
/// details, when there is one.
pub fn str_of(bytes: &[u8]) -> Result<&str, Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_std_does() {
        let texts: [&[u8]; 7] = [
            b"",
            b"plain ascii",
            "é ü 漢字 🦀".as_bytes(),
            b"bad \xff byte",
            b"cut \xe6\xbc",
            b"\xed\xa0\x80 surrogate",
            &[b'a'; 100],
        ];
        for t in texts {
            let long: Vec<u8> = [&[b'x'; 70][..], t].concat();
            for bytes in [t, &long[..]] {
                assert_eq!(str_of(bytes), std::str::from_utf8(bytes), "{bytes:?}");
            }
        }
    }
}
