//! A compact binary encoding for cache files: variable-length integers, length-prefixed
//! strings, options and sequences, written and read field by field in a fixed order.
//!
//! The plan cache is read on every command; decoding it as JSON cost about a fifth of a warm
//! `status` on a real-shaped plan (field names, number parsing, escapes). Here a WP decodes
//! in a few hundred instructions. There is no schema: the cache's version string carries a
//! fingerprint of the code that writes it, so a reader never meets another layout, and any
//! damage makes `Reader` answer `None` (the cache entry is then recomputed).

/// Appends values to a byte buffer.
#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn uint(&mut self, mut n: u64) {
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.bytes.push(low);
                return;
            }
            self.bytes.push(low | 0x80);
        }
    }

    /// A signed integer, zigzag-encoded (small magnitudes stay short).
    pub fn int(&mut self, n: i128) {
        let zigzag = ((n << 1) ^ (n >> 127)) as u128;
        let (high, low) = ((zigzag >> 64) as u64, zigzag as u64);
        self.uint(high);
        self.uint(low);
    }

    pub fn str(&mut self, s: &str) {
        self.uint(s.len() as u64);
        self.bytes.extend_from_slice(s.as_bytes());
    }

    pub fn put<T: Encode + ?Sized>(&mut self, value: &T) {
        value.encode(self);
    }

    /// Bytes encoded elsewhere, length first: a reader may skip them without decoding.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.uint(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }
}

/// Reads values back; every method answers `None` on damaged or truncated input.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub fn uint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    pub fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.uint()?).ok()
    }

    pub fn int(&mut self) -> Option<i128> {
        let zigzag = (u128::from(self.uint()?) << 64) | u128::from(self.uint()?);
        Some(((zigzag >> 1) as i128) ^ -((zigzag & 1) as i128))
    }

    pub fn str(&mut self) -> Option<&'a str> {
        let len = self.usize()?;
        let end = self.at.checked_add(len)?;
        let s = std::str::from_utf8(self.bytes.get(self.at..end)?).ok()?;
        self.at = end;
        Some(s)
    }

    pub fn get<T: Decode>(&mut self) -> Option<T> {
        T::decode(self)
    }

    /// Bytes written by [`Writer::raw`].
    pub fn raw(&mut self) -> Option<&'a [u8]> {
        let len = self.usize()?;
        let end = self.at.checked_add(len)?;
        let bytes = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }
}

pub trait Encode {
    fn encode(&self, w: &mut Writer);
}

pub trait Decode: Sized {
    fn decode(r: &mut Reader) -> Option<Self>;
}

impl Encode for u64 {
    fn encode(&self, w: &mut Writer) {
        w.uint(*self);
    }
}

impl Decode for u64 {
    fn decode(r: &mut Reader) -> Option<Self> {
        r.uint()
    }
}

impl Encode for usize {
    fn encode(&self, w: &mut Writer) {
        w.uint(*self as u64);
    }
}

impl Decode for usize {
    fn decode(r: &mut Reader) -> Option<Self> {
        r.usize()
    }
}

impl Encode for i128 {
    fn encode(&self, w: &mut Writer) {
        w.int(*self);
    }
}

impl Decode for i128 {
    fn decode(r: &mut Reader) -> Option<Self> {
        r.int()
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut Writer) {
        w.bytes.push(u8::from(*self));
    }
}

impl Decode for bool {
    fn decode(r: &mut Reader) -> Option<Self> {
        match r.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Encode for str {
    fn encode(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl Encode for String {
    fn encode(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl Decode for String {
    fn decode(r: &mut Reader) -> Option<Self> {
        r.str().map(str::to_owned)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, w: &mut Writer) {
        match self {
            None => w.bytes.push(0),
            Some(v) => {
                w.bytes.push(1);
                v.encode(w);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader) -> Option<Self> {
        match r.byte()? {
            0 => Some(None),
            1 => Some(Some(T::decode(r)?)),
            _ => None,
        }
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, w: &mut Writer) {
        w.uint(self.len() as u64);
        for v in self {
            v.encode(w);
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, w: &mut Writer) {
        self.as_slice().encode(w);
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(r: &mut Reader) -> Option<Self> {
        let len = r.usize()?;
        // Every item takes at least a byte: a damaged length cannot allocate wildly.
        if len > r.bytes.len() - r.at {
            return None;
        }
        (0..len).map(|_| T::decode(r)).collect()
    }
}

impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
        self.1.encode(w);
    }
}

impl<A: Decode, B: Decode> Decode for (A, B) {
    fn decode(r: &mut Reader) -> Option<Self> {
        Some((A::decode(r)?, B::decode(r)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_read_back_and_can_be_skipped() {
        let mut inner = Writer::default();
        inner.put("inside");
        let mut w = Writer::default();
        w.raw(&inner.bytes);
        w.put(&7u64);
        let mut r = Reader::new(&w.bytes);
        assert_eq!(Reader::new(r.raw().unwrap()).str(), Some("inside"));
        assert_eq!(r.get::<u64>(), Some(7));
        assert!(r.is_done());
        assert_eq!(Reader::new(&w.bytes[..3]).raw(), None);
    }

    #[test]
    fn values_read_back_and_damage_is_none() {
        let mut w = Writer::default();
        let ints = [
            0i128,
            1,
            -1,
            63,
            -64,
            i128::from(i64::MAX),
            i128::MIN,
            i128::MAX,
        ];
        for n in ints {
            w.int(n);
        }
        w.put(&u64::MAX);
        w.put(&Some("héllo".to_owned()));
        w.put(&None::<String>);
        w.put(&vec![(1usize, true), (300, false)]);
        let mut r = Reader::new(&w.bytes);
        for n in ints {
            assert_eq!(r.int(), Some(n));
        }
        assert_eq!(r.get::<u64>(), Some(u64::MAX));
        assert_eq!(r.get::<Option<String>>(), Some(Some("héllo".to_owned())));
        assert_eq!(r.get::<Option<String>>(), Some(None));
        assert_eq!(
            r.get::<Vec<(usize, bool)>>(),
            Some(vec![(1, true), (300, false)])
        );
        assert!(r.is_done());
        // Truncated anywhere: None, never a panic.
        for cut in 0..w.bytes.len() {
            let mut r = Reader::new(&w.bytes[..cut]);
            let all = (|| {
                for _ in ints {
                    r.int()?;
                }
                r.get::<u64>()?;
                r.get::<Option<String>>()?;
                r.get::<Option<String>>()?;
                r.get::<Vec<(usize, bool)>>()
            })();
            assert_eq!(all, None, "cut at {cut}");
        }
        assert_eq!(Reader::new(&[0xff; 12]).uint(), None);
        assert_eq!(Reader::new(&[5, b'a']).str(), None);
    }
}
