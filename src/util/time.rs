//! Timestamps: RFC 3339 in and out, and "how long ago" for people.
//!
//! Small enough to write by hand: git kitty needs UTC formatting of its own event times and
//! parsing of the RFC 3339 variants Spec Kitty writes (`Z` or `+00:00`, with or without
//! fractions), nothing calendar-aware beyond that.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch, now. `KITTY_NOW` (RFC 3339) pins the clock for tests.
pub fn now_nanos() -> i128 {
    if let Some(pinned) = std::env::var("KITTY_NOW")
        .ok()
        .and_then(|s| parse_rfc3339(&s))
    {
        return pinned;
    }
    system_now_nanos()
}

/// The system clock, never pinned: for file-age decisions (the plan cache).
pub fn system_now_nanos() -> i128 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Parse `2026-04-23T16:13:36.887631+00:00`, `2025-11-02T16:58:36Z` and the like into
/// nanoseconds since the epoch. A space instead of `T` is accepted (Python's `str(datetime)`).
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.trim().as_bytes();
    // Fields of at most four digits: no overflow to check.
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &b[start..i];
        if digits.is_empty() {
            return None;
        }
        for (k, d) in digits.iter().take(9).enumerate() {
            nanos += i128::from(d - b'0') * 10i128.pow(8 - k as u32);
        }
    }
    let offset_secs: i64 = match b.get(i) {
        None => 0, // no zone: read as UTC
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            let v = h * 3600 + m * 60;
            if *sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

/// `2026-11-25T15:18:36Z` (seconds precision, UTC). Written digit by digit: the board
/// formats one per WP.
pub fn format_rfc3339(nanos: i128) -> String {
    let secs = nanos.div_euclid(1_000_000_000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        );
    }
    let mut out = String::with_capacity(20);
    for (n, sep) in [
        (y / 100, None),
        (y % 100, Some('-')),
        (m, Some('-')),
        (d, Some('T')),
        (rem / 3600, Some(':')),
        (rem % 3600 / 60, Some(':')),
        (rem % 60, Some('Z')),
    ] {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
        out.extend(sep);
    }
    out
}

/// `2026-11-25T15:18:36.123456789Z` (nanosecond precision, UTC): event times, so that
/// events of one second keep their order.
pub fn format_rfc3339_nanos(nanos: i128) -> String {
    let secs = format_rfc3339(nanos);
    let frac = nanos.rem_euclid(1_000_000_000);
    format!("{}.{frac:09}Z", &secs[..secs.len() - 1])
}

/// `3m ago`, `2h ago`, `5d ago`; `just now` under a minute; `in the future` for clock skew.
pub fn ago(then_nanos: i128, now_nanos: i128) -> String {
    let secs = (now_nanos - then_nanos) / 1_000_000_000;
    if secs < -60 {
        return "in the future".into();
    }
    match secs {
        ..60 => "just now".into(),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_variants_spec_kitty_writes() {
        let z = parse_rfc3339("2025-11-02T16:58:36Z").unwrap();
        assert_eq!(parse_rfc3339("2025-11-02T16:58:36+00:00"), Some(z));
        assert_eq!(parse_rfc3339("2025-11-02T17:58:36+01:00"), Some(z));
        assert_eq!(parse_rfc3339("2025-11-02 16:58:36"), Some(z));
        assert_eq!(
            parse_rfc3339("2025-11-02T16:58:36.5Z"),
            Some(z + 500_000_000)
        );
        assert_eq!(z, 1_762_102_716 * 1_000_000_000);
        for bad in [
            "",
            "yesterday",
            "2025-13-02T16:58:36Z",
            "2025-11-02T16:58:36+0100",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2026-11-25T15:18:36Z",
            "2000-02-29T23:59:59Z",
        ] {
            assert_eq!(format_rfc3339(parse_rfc3339(s).unwrap()), s);
        }
    }

    #[test]
    fn nanosecond_times_round_trip() {
        let t = parse_rfc3339("2026-11-25T15:18:36.000000042Z").unwrap();
        assert_eq!(format_rfc3339_nanos(t), "2026-11-25T15:18:36.000000042Z");
    }

    #[test]
    fn ago_buckets() {
        let s = 1_000_000_000i128;
        assert_eq!(ago(0, 59 * s), "just now");
        assert_eq!(ago(0, 120 * s), "2m ago");
        assert_eq!(ago(0, 7200 * s), "2h ago");
        assert_eq!(ago(0, 3 * 86_400 * s), "3d ago");
        assert_eq!(ago(3600 * s, 0), "in the future");
    }
}
