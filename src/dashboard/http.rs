//! Just enough HTTP/1.1 for a read-only page on the loopback interface: one request per
//! connection (`Connection: close`), `GET` and `HEAD` only, no request bodies, bounded in
//! size and time. What it refuses it answers with a status and a line of text.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The request line and headers may not exceed this (no request here needs more than ~1 KiB).
const MAX_HEAD: usize = 16 * 1024;

/// A request has this long to arrive, whole.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The parts of a request the server looks at.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    pub host: Option<String>,
}

/// Why no request could be read; answered with a status unless the peer is gone.
#[derive(Debug, PartialEq, Eq)]
pub enum Bad {
    /// Closed or timed out before a whole request arrived: nothing to answer.
    Gone,
    Malformed(&'static str),
    TooLarge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    HeadersTooLarge,
    InternalError,
    Unavailable,
}

impl Status {
    fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::Forbidden => "403 Forbidden",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::HeadersTooLarge => "431 Request Header Fields Too Large",
            Status::InternalError => "500 Internal Server Error",
            Status::Unavailable => "503 Service Unavailable",
        }
    }
}

/// Read one request's head from `stream`.
pub fn read_request(stream: &mut TcpStream) -> Result<Request, Bad> {
    let deadline = std::time::Instant::now() + READ_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let end = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        if buf.len() > MAX_HEAD {
            return Err(Bad::TooLarge);
        }
        // The whole head within the deadline: a byte now and then does not keep a thread.
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(Bad::Gone);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(Bad::Gone),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    if end > MAX_HEAD {
        return Err(Bad::TooLarge);
    }
    parse_head(&buf[..end])
}

/// Where the head ends (after its blank line), if it has.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Parse a request line and headers.
pub fn parse_head(head: &[u8]) -> Result<Request, Bad> {
    let text = std::str::from_utf8(head).map_err(|_| Bad::Malformed("not UTF-8"))?;
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Bad::Malformed("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Bad::Malformed("HTTP/1.x only"));
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Bad::Malformed("malformed method"));
    }
    // Origin form only: `GET http://evil/ HTTP/1.1` would name another host than `Host:`.
    if !target.starts_with('/') {
        return Err(Bad::Malformed("the target must be a path"));
    }
    let mut host = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(Bad::Malformed("malformed header"));
        };
        if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return Err(Bad::Malformed("more than one Host header"));
            }
            host = Some(value.trim().to_owned());
        }
    }
    let path = target.split(['?', '#']).next().unwrap_or("/").to_owned();
    Ok(Request {
        method: method.to_owned(),
        path,
        host,
    })
}

/// Headers every response carries: nothing cached, nothing sniffed, never framed, and a page
/// that may load only its own script and style and talk only to its own server.
const SAFETY_HEADERS: &str = "Cache-Control: no-store\r\n\
X-Content-Type-Options: nosniff\r\n\
X-Frame-Options: DENY\r\n\
Referrer-Policy: no-referrer\r\n\
Cross-Origin-Resource-Policy: same-origin\r\n\
Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'\r\n";

/// Write a whole response and let the connection close.
pub fn respond(
    stream: &mut TcpStream,
    status: Status,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut out = format!(
        "HTTP/1.1 {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{SAFETY_HEADERS}",
        status.line(),
        body.len()
    );
    if status == Status::MethodNotAllowed {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    stream.write_all(&bytes)?;
    stream.flush()
}

/// A plain-text answer: `status` and one line saying why.
pub fn respond_text(stream: &mut TcpStream, status: Status, text: &str) {
    let _ = respond(
        stream,
        status,
        "text/plain; charset=utf-8",
        format!("{text}\n").as_bytes(),
        false,
    );
}

/// Start a Server-Sent Events stream: the body runs until the connection closes.
pub fn start_event_stream(stream: &mut TcpStream) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n{SAFETY_HEADERS}Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_browser_request() {
        let r = parse_head(
            b"GET /api/board?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9237\r\nAccept: */*\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            r,
            Request {
                method: "GET".into(),
                path: "/api/board".into(),
                host: Some("127.0.0.1:9237".into())
            }
        );
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        for (head, why) in [
            (
                &b"GET http://evil.example/ HTTP/1.1\r\n\r\n"[..],
                "the target must be a path",
            ),
            (b"GET / HTTP/2\r\n\r\n", "HTTP/1.x only"),
            (b"GET  / HTTP/1.1\r\n\r\n", "malformed request line"),
            (b"get / HTTP/1.1\r\n\r\n", "malformed method"),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "more than one Host header",
            ),
            (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", "malformed header"),
            (b"GET / HTTP/1.1\r\nHost: \xff\r\n\r\n", "not UTF-8"),
        ] {
            assert_eq!(parse_head(head), Err(Bad::Malformed(why)));
        }
    }

    #[test]
    fn finds_the_end_of_a_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }
}
