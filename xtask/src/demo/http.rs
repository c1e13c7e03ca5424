//! Just enough HTTP/1.1 for the demo, on `std::net`: a client that sends
//! the request target byte for byte (an HTTP library would normalise
//! `..%2F` or re-encode a payload, and the demo must send what an attacker
//! sends), and stand-in servers that answer every request with a fixed body
//! and count what reaches them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// How long one exchange may take; the slowest attack (a heavy query)
/// takes well under a second.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A request to send.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// `GET` or `POST`.
    pub(crate) method: &'static str,
    /// The request target as sent: path and query, already encoded.
    pub(crate) target: String,
    /// An `application/x-www-form-urlencoded` body, for `POST`.
    pub(crate) form: Option<String>,
}

impl Request {
    /// The request as a person reads it: method, target and form body,
    /// percent-decoded (`+` stays `+`: the demo never encodes spaces so).
    pub(crate) fn shown(&self) -> String {
        let mut shown = format!("{} {}", self.method, decode(&self.target));
        if let Some(form) = &self.form {
            shown.push_str("  ");
            shown.push_str(&decode(form));
        }
        shown
    }
}

/// Percent-decodes `text`; invalid escapes stay as written, invalid UTF-8
/// is replaced.
fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// What came back.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// Header names (lowercase) and values, in order.
    pub(crate) headers: Vec<(String, String)>,
    /// The body, decoded from chunks, as text (lossy).
    pub(crate) body: String,
    /// From connecting to the end of the body.
    pub(crate) elapsed: Duration,
}

impl Response {
    /// The first value of header `name` (lowercase), if any.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` to `addr` with `x-request-id: request_id` and reads the
/// whole response (`Connection: close`).
pub(crate) fn send(
    addr: SocketAddr,
    request: &Request,
    request_id: &str,
) -> Result<Response, String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| format!("cannot set timeouts: {e}"))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nx-request-id: {request_id}\r\n",
        request.method, request.target
    );
    let body = request.form.as_deref().unwrap_or("");
    if request.form.is_some() {
        head.push_str("content-type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read the answer of {addr}: {e}"))?;
    let mut response = parse(&raw)?;
    response.elapsed = started.elapsed();
    Ok(response)
}

/// Parses a whole HTTP/1.1 response.
fn parse(raw: &[u8]) -> Result<Response, String> {
    let (status, headers, head_len) = parse_head(raw)?;
    let rest = &raw[head_len..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        elapsed: Duration::ZERO,
    })
}

/// Header names (lowercase) and values, in order.
type Headers = Vec<(String, String)>;

/// The status code and headers of a response, and the length of its head
/// (status line, headers and the empty line after them).
fn parse_head(raw: &[u8]) -> Result<(u16, Headers, usize), String> {
    // httparse fills a slice of the caller's size; the shop sends a dozen
    // headers, but a bigger head gets a bigger slice rather than an error.
    let mut room = 32;
    loop {
        let mut slots = vec![httparse::EMPTY_HEADER; room];
        let mut response = httparse::Response::new(&mut slots);
        match response.parse(raw) {
            Ok(httparse::Status::Complete(head_len)) => {
                let status = response.code.ok_or("the answer has no status code")?;
                let headers = response
                    .headers
                    .iter()
                    .map(|header| {
                        let value = std::str::from_utf8(header.value)
                            .map_err(|_| "the answer's head is not UTF-8")?;
                        Ok((header.name.to_ascii_lowercase(), value.trim().to_owned()))
                    })
                    .collect::<Result<_, String>>()?;
                return Ok((status, headers, head_len));
            }
            Ok(httparse::Status::Partial) => return Err("the answer has no end of headers".into()),
            Err(httparse::Error::TooManyHeaders) => room *= 2,
            Err(e) => {
                let first_line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
                return Err(format!(
                    "unreadable answer ({e}): `{}`",
                    String::from_utf8_lossy(first_line).trim_end()
                ));
            }
        }
    }
}

/// Decodes a chunked body (extensions and trailers ignored).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line has no end")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size `{size_text}`"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("a chunk is shorter than its size")?;
        body.extend_from_slice(chunk);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

/// Everything but the unreserved `A-Z a-z 0-9 - _ .` (`~` is escaped
/// too): no byte of a payload is then left for the shop to read as syntax.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Percent-encodes a query or form value: everything but `A-Z a-z 0-9 - _ .`.
pub(crate) fn encode(value: &str) -> String {
    utf8_percent_encode(value, ESCAPED).to_string()
}

/// A loopback server answering every request with one fixed body, counting
/// the requests that reach it. It serves until the demo exits.
#[derive(Debug, Clone)]
pub(crate) struct StandIn {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl StandIn {
    /// Starts serving `body` as `content_type` on 127.0.0.1, any free port.
    pub(crate) fn start(content_type: &'static str, body: &'static str) -> Result<StandIn, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot bind a stand-in server: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                // One at a time is plenty: the shop asks once per request.
                let _ = answer(stream, content_type, body);
            }
        });
        Ok(StandIn { addr, hits })
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests it received so far.
    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Reads one request head and answers it.
fn answer(stream: TcpStream, content_type: &str, body: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut stream = &stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let plain =
            parse(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\r\n{\"a\":1}")
                .unwrap();
        assert_eq!(plain.status, 403);
        assert_eq!(plain.header("content-type"), Some("application/json"));
        assert_eq!(plain.body, "{\"a\":1}");
        let chunked = parse(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(chunked.body, "Wikipedia ");
    }

    #[test]
    fn rejects_what_is_not_http() {
        assert!(parse(b"garbage").is_err());
        let err = parse(b"HTTP/1.1 abc\r\n\r\n").unwrap_err();
        assert!(err.contains("`HTTP/1.1 abc`"), "{err}");
        assert!(parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n").is_err());
        let err = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n").unwrap_err();
        assert!(err.contains("no end of headers"), "{err}");
        let err = parse(b"HTTP/1.1 200 OK\r\nx-name: caf\xE9\r\n\r\n").unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn headers_keep_their_order_and_lose_case_and_padding() {
        let response = parse(
            b"HTTP/1.1 302\r\nLocation:  //evil.example/  \r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n",
        )
        .unwrap();
        assert_eq!(response.status, 302);
        assert_eq!(
            response.headers,
            [
                ("location".to_owned(), "//evil.example/".to_owned()),
                ("set-cookie".to_owned(), "a=1".to_owned()),
                ("set-cookie".to_owned(), "b=2".to_owned()),
            ]
        );
        assert_eq!(response.header("set-cookie"), Some("a=1"));
        assert_eq!(response.body, "");
    }

    #[test]
    fn a_head_of_many_headers_is_read_whole() {
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..100 {
            raw.extend_from_slice(format!("x-h{i}: {i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\nbody");
        let response = parse(&raw).unwrap();
        assert_eq!(response.headers.len(), 100);
        assert_eq!(response.header("x-h99"), Some("99"));
        assert_eq!(response.body, "body");
    }

    #[test]
    fn encodes_everything_but_unreserved_characters() {
        assert_eq!(encode("a b'--/é"), "a%20b%27--%2F%C3%A9");
        assert_eq!(encode("Az09-_.~+%&="), "Az09-_.%7E%2B%25%26%3D");
        assert_eq!(decode(&encode("' OR 1=1 --\r\n")), "' OR 1=1 --\r\n");
    }

    #[test]
    fn shows_requests_decoded() {
        let request = Request {
            method: "POST",
            target: "/login".to_owned(),
            form: Some(format!("name={}&next=%zz%2", encode("bob\nÉ"))),
        };
        assert_eq!(request.shown(), "POST /login  name=bob\nÉ&next=%zz%2");
        // `+` is not a space here, and bytes that are not UTF-8 are replaced.
        assert_eq!(decode("a+b%2B%ff"), "a+b+\u{FFFD}");
    }

    #[test]
    fn client_and_stand_in_talk_over_loopback() {
        let stand_in = StandIn::start("text/plain", "secret").unwrap();
        let request = Request {
            method: "GET",
            target: "/latest/meta-data/".to_owned(),
            form: None,
        };
        let response = send(stand_in.addr(), &request, "t-1").unwrap();
        assert_eq!((response.status, response.body.as_str()), (200, "secret"));
        assert_eq!(stand_in.hits(), 1);
    }
}
