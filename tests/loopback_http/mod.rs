//! A hand-written HTTP/1.1 server and client on 127.0.0.1, for the attack
//! tests of header sinks.
//!
//! The server writes header values as raw bytes, the way a hand-rolled
//! server, a CGI gateway or a proxy does: nothing between the application
//! and the socket refuses a line break. (`http::HeaderValue` does refuse
//! one; that is why an application that goes through `http` is split only
//! where something writes bytes itself.) The client parses responses with
//! `httparse`, hyper's parser, and resolves redirects with `url`, which
//! follows the WHATWG URL standard that browsers implement, so what a test
//! observes is what a browser would.
#![allow(dead_code, reason = "each test binary uses a different part")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use rasp::Blocked;
use rasp::header::HeaderError;

/// A request as the application sees it: path and decoded query.
pub(crate) struct Request {
    /// The path, without the query.
    pub(crate) path: String,
    /// Query parameters, percent- and `+`-decoded like every web framework
    /// decodes them.
    pub(crate) query: HashMap<String, String>,
}

impl Request {
    /// A query parameter, empty when absent.
    pub(crate) fn param(&self, name: &str) -> String {
        self.query.get(name).cloned().unwrap_or_default()
    }
}

/// A response whose header values are written to the socket byte for byte.
pub(crate) struct Response {
    /// Status code.
    pub(crate) status: u16,
    /// Header names and raw values.
    pub(crate) headers: Vec<(&'static str, Vec<u8>)>,
    /// Body.
    pub(crate) body: String,
}

impl Response {
    /// A response with no headers.
    pub(crate) fn new(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header with a raw value.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut bytes =
            format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).into_bytes();
        for (name, value) in &self.headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                self.body.len(),
                self.body
            )
            .as_bytes(),
        );
        out.write_all(&bytes)
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        _ => "Other",
    }
}

/// A server running on a loopback port until the test process ends.
pub(crate) struct Server {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Server {
    /// Starts a server that answers every request with `app`.
    pub(crate) fn start(app: fn(&Request) -> Response) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                // One thread per connection, so a test's redirect chain can
                // reach another request while the first is answered.
                thread::spawn(move || serve(stream, app));
            }
        });
        Server { addr, hits }
    }

    /// Requests this server has received.
    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn serve(stream: TcpStream, app: fn(&Request) -> Response) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        match reader.read_until(b'\n', &mut head) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(_)) = parsed.parse(&head) else {
        return;
    };
    let target = parsed.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let request = Request {
        path: path.to_owned(),
        query: url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    };
    let _ = app(&request).write_to(&mut &stream);
}

/// A response as the client parsed it.
#[derive(Debug)]
pub(crate) struct Received {
    /// Status code.
    pub(crate) status: u16,
    /// Every header line, in order, values as sent.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    /// Body.
    pub(crate) body: String,
}

impl Received {
    /// The values of every header named `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// The value of the first header named `name`.
    pub(crate) fn first(&self, name: &str) -> Option<String> {
        self.all(name).into_iter().next()
    }
}

/// Sends `GET target` to `addr` with `Host: host` and reads the response.
pub(crate) fn get(addr: SocketAddr, host: &str, target: &str) -> Received {
    let mut stream = TcpStream::connect(addr).expect("connect to the loopback server");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Response::new(&mut headers);
    let body_at = match parsed.parse(&raw) {
        Ok(httparse::Status::Complete(at)) => at,
        other => panic!(
            "unparsable response {other:?}: {:?}",
            String::from_utf8_lossy(&raw)
        ),
    };
    Received {
        status: parsed.code.expect("status code"),
        headers: parsed
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect(),
        body: String::from_utf8_lossy(&raw[body_at..]).into_owned(),
    }
}

/// A query string carrying `value` exactly: form-encoded by the client,
/// decoded back by the server.
pub(crate) fn query(name: &str, value: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish()
}

/// An application's error: a refusal by rasp, or a header value `http`
/// itself rejects. Both become a 400 answer.
#[derive(Debug)]
pub(crate) enum AppError {
    Refused(Blocked),
    BadHeader(String),
}

impl From<Blocked> for AppError {
    fn from(blocked: Blocked) -> Self {
        AppError::Refused(blocked)
    }
}

impl From<HeaderError> for AppError {
    fn from(err: HeaderError) -> Self {
        match err.blocked() {
            Some(blocked) => AppError::Refused(*blocked),
            None => AppError::BadHeader(err.to_string()),
        }
    }
}

/// The answer to a handler's result: its response, or a 400 that names
/// why rasp refused.
pub(crate) fn respond(result: Result<Response, AppError>) -> Response {
    match result {
        Ok(response) => response,
        Err(AppError::Refused(blocked)) => {
            Response::new(400, format!("blocked: {}", blocked.reason.as_str()))
        }
        Err(AppError::BadHeader(message)) => Response::new(400, message),
    }
}
