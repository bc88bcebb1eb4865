//! A tiny, scriptable HTTP/1.1 server for integration tests and demos.
//!
//! The CLI talks to a Baseten-like HTTP API. Tests must not depend on the
//! real service, on the network, or on extra crates, so this module serves
//! canned replies from `127.0.0.1` using nothing but `std`. Each test starts
//! its own [`Server`] in-process, points the CLI at [`Server::url`], and then
//! inspects what the CLI sent via [`Server::requests`].
//!
//! Besides ordinary replies it can misbehave on purpose (hang, drop the
//! connection, send an oversized or very slow body) so that the client's
//! timeout and size-limit handling can be tested deterministically.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a connection thread waits for a client to finish sending its
/// request before giving up on it.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest request head or body the server is willing to buffer.
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// One HTTP request as received by the server.
#[derive(Clone, Debug)]
pub struct Request {
    /// Request method as sent, e.g. `"POST"`.
    pub method: String,
    /// Request path without the query string, e.g. `"/v1/api_keys"`.
    pub path: String,
    /// Raw query string without the leading `?` (empty if none).
    pub query: String,
    /// Headers in arrival order; names are lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Request body (de-chunked if it was sent chunked).
    pub body: Vec<u8>,
    /// When the server finished reading the request.
    pub arrived: Instant,
}

impl Request {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Body decoded as `application/x-www-form-urlencoded` pairs, in order.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_urlencoded(&self.body)
    }

    /// First value of form field `key`, if present.
    pub fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Query string decoded as urlencoded pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_urlencoded(self.query.as_bytes())
    }

    /// Body as (lossily decoded) UTF-8 text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Decodes `application/x-www-form-urlencoded` data (`+` is a space, `%XX`
/// is a byte; malformed escapes are kept literally).
pub fn parse_urlencoded(data: &[u8]) -> Vec<(String, String)> {
    data.split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.iter().position(|&b| b == b'=') {
            Some(i) => (percent_decode(&part[..i]), percent_decode(&part[i + 1..])),
            None => (percent_decode(part), String::new()),
        })
        .collect()
}

fn percent_decode(input: &[u8]) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What to do with a request: a canned response or a deliberate misbehaviour.
///
/// Extra headers can be added to any sending variant with
/// [`Reply::with_header`].
#[derive(Clone, Debug)]
pub struct Reply {
    kind: Kind,
    headers: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
enum Kind {
    Full {
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
    Hang,
    Close,
    Huge {
        status: u16,
        bytes: usize,
    },
    Drip {
        status: u16,
        body: Vec<u8>,
        per_byte: Duration,
    },
}

impl Reply {
    /// A complete response with `Content-Type: application/json`.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::text(status, "application/json", body)
    }

    /// A complete response with the given content type.
    pub fn text(status: u16, content_type: &str, body: &str) -> Reply {
        Reply::from_kind(Kind::Full {
            status,
            content_type: content_type.to_string(),
            body: body.as_bytes().to_vec(),
        })
    }

    /// Read the request, then never answer; the socket stays open until the
    /// server is dropped.
    pub fn hang() -> Reply {
        Reply::from_kind(Kind::Hang)
    }

    /// Read the request, then close the connection without sending anything.
    pub fn close() -> Reply {
        Reply::from_kind(Kind::Close)
    }

    /// A JSON response whose body is exactly `bytes` long (valid JSON of the
    /// shape `{"a":"xxx…"}` when `bytes >= 8`), announced via
    /// `Content-Length` and streamed in chunks. Stops quietly if the client
    /// hangs up.
    pub fn huge(status: u16, bytes: usize) -> Reply {
        Reply::from_kind(Kind::Huge { status, bytes })
    }

    /// A JSON response whose head is sent at once and whose body is then
    /// written one byte at a time, pausing `per_byte` before each byte.
    pub fn drip(status: u16, body: &str, per_byte: Duration) -> Reply {
        Reply::from_kind(Kind::Drip {
            status,
            body: body.as_bytes().to_vec(),
            per_byte,
        })
    }

    /// Adds a response header (ignored by [`Reply::hang`] and
    /// [`Reply::close`]).
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn from_kind(kind: Kind) -> Reply {
        Reply {
            kind,
            headers: Vec::new(),
        }
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync + 'static;

struct State {
    requests: Vec<Request>,
    stopped: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Notified whenever a request is recorded or the server stops.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.lock().stopped
    }
}

/// An HTTP/1.1 server on `127.0.0.1:<random port>`, serving each connection
/// on its own thread. Dropping it stops accepting and releases hung replies.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `127.0.0.1:0` and starts answering requests with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind test server");
        let addr = listener.local_addr().expect("test server address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                requests: Vec::new(),
                stopped: false,
            }),
            changed: Condvar::new(),
        });
        let handler: Arc<Handler> = Arc::new(handler);
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("test-server-accept".into())
                .spawn(move || accept_loop(listener, shared, handler))
                .expect("spawn test server thread")
        };
        Server {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Snapshot of every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// Blocks until at least `n` requests were recorded or `timeout` passed;
    /// returns whether `n` was reached.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let guard = self.shared.lock();
        let (guard, _) = self
            .shared
            .changed
            .wait_timeout_while(guard, timeout, |s| s.requests.len() < n)
            .unwrap_or_else(PoisonError::into_inner);
        guard.requests.len() >= n
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_all();
        // Wake the blocking accept() so the acceptor sees the flag and exits.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take()
            && woke
        {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, handler: Arc<Handler>) {
    for stream in listener.incoming() {
        if shared.stopped() {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(&shared);
        let handler = Arc::clone(&handler);
        let _ = thread::Builder::new()
            .name("test-server-conn".into())
            .spawn(move || serve_connection(stream, &shared, &*handler));
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Some(request) = read_request(&stream) else {
        return;
    };
    {
        let mut state = shared.lock();
        state.requests.push(request.clone());
    }
    shared.changed.notify_all();
    let reply = handler(&request);
    let mut stream = stream;
    match reply.kind {
        Kind::Full {
            status,
            content_type,
            body,
        } => {
            let head = response_head(status, &content_type, body.len(), &reply.headers);
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body))
                .and_then(|()| stream.flush());
        }
        Kind::Hang => {
            let guard = shared.lock();
            drop(
                shared
                    .changed
                    .wait_while(guard, |s| !s.stopped)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }
        Kind::Close => {}
        Kind::Huge { status, bytes } => {
            let head = response_head(status, "application/json", bytes, &reply.headers);
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| write_huge_body(&mut stream, bytes));
        }
        Kind::Drip {
            status,
            body,
            per_byte,
        } => {
            let head = response_head(status, "application/json", body.len(), &reply.headers);
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            for byte in body {
                thread::sleep(per_byte);
                if shared.stopped() || stream.write_all(&[byte]).is_err() {
                    return;
                }
            }
        }
    }
    // Half-close first so the client sees a clean EOF rather than a reset.
    let _ = stream.shutdown(Shutdown::Write);
}

/// Writes `{"a":"xxx…"}` of exactly `len` bytes (just `x`s if `len < 8`).
fn write_huge_body(stream: &mut TcpStream, len: usize) -> std::io::Result<()> {
    const PREFIX: &[u8] = br#"{"a":""#;
    const SUFFIX: &[u8] = br#""}"#;
    let framed = len >= PREFIX.len() + SUFFIX.len();
    let mut filler = len;
    if framed {
        stream.write_all(PREFIX)?;
        filler -= PREFIX.len() + SUFFIX.len();
    }
    let chunk = [b'x'; 64 * 1024];
    while filler > 0 {
        let n = filler.min(chunk.len());
        stream.write_all(&chunk[..n])?;
        filler -= n;
    }
    if framed {
        stream.write_all(SUFFIX)?;
    }
    stream.flush()
}

fn response_head(
    status: u16,
    content_type: &str,
    content_length: usize,
    extra: &[(String, String)],
) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {content_length}\r\nConnection: close\r\n",
        reason(status)
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirect",
            4 => "Client Error",
            _ => "Server Error",
        },
    }
}

/// Reads one request (head plus Content-Length or chunked body). Returns
/// `None` if the client hung up, timed out or sent something unparsable.
fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let request_line = read_line(&mut reader)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };

    let mut headers = Vec::new();
    let mut head_bytes = request_line.len();
    loop {
        let line = read_line(&mut reader)?;
        if line.is_empty() {
            break;
        }
        head_bytes += line.len();
        if head_bytes > MAX_REQUEST_BYTES {
            return None;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        let mut writer = stream;
        let _ = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    let chunked =
        header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(&mut reader)?
    } else {
        let len: usize = match header("content-length") {
            Some(v) => v.parse().ok()?,
            None => 0,
        };
        if len > MAX_REQUEST_BYTES {
            return None;
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        body
    };

    Some(Request {
        method,
        path,
        query,
        headers,
        body,
        arrived: Instant::now(),
    })
}

fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        if size == 0 {
            // Skip trailers up to the blank line.
            while !read_line(reader)?.is_empty() {}
            return Some(body);
        }
        if body.len() + size > MAX_REQUEST_BYTES {
            return None;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).ok()?;
        if !read_line(reader)?.is_empty() {
            return None;
        }
    }
}

/// Reads a CRLF- (or LF-) terminated line without its terminator; `None` on
/// EOF, error or an absurdly long line.
fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = Vec::new();
    let n = reader
        .take(MAX_REQUEST_BYTES as u64)
        .read_until(b'\n', &mut line)
        .ok()?;
    if n == 0 || line.last() != Some(&b'\n') {
        return None;
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line).ok()
}

/// Pending replies keyed by `(method, path)`.
type Routes = HashMap<(String, String), VecDeque<Reply>>;

/// Routes requests by exact `(method, path)` to queues of replies.
///
/// Each queued reply is served once, except the last one for a route, which
/// repeats forever. Unmatched requests get `404 {"error":"not_found"}`.
/// Cloning shares the same routes, so replies can be pushed while serving.
#[derive(Clone, Default)]
pub struct Queue {
    routes: Arc<Mutex<Routes>>,
}

impl Queue {
    /// An empty queue (every request gets a 404).
    pub fn new() -> Queue {
        Queue::default()
    }

    /// Appends `reply` to the queue for `method` and `path` (no query).
    pub fn push(&self, method: &str, path: &str, reply: Reply) -> &Queue {
        self.lock()
            .entry((method.to_string(), path.to_string()))
            .or_default()
            .push_back(reply);
        self
    }

    /// Next reply for `request`, following the queue rules.
    pub fn reply(&self, request: &Request) -> Reply {
        let mut routes = self.lock();
        let key = (request.method.clone(), request.path.clone());
        match routes.get_mut(&key) {
            Some(queue) if queue.len() > 1 => queue.pop_front().expect("non-empty queue"),
            Some(queue) if !queue.is_empty() => queue[0].clone(),
            _ => Reply::json(404, r#"{"error":"not_found"}"#),
        }
    }

    /// A handler for [`Server::start`] that serves from this queue.
    pub fn handler(&self) -> impl Fn(&Request) -> Reply + Send + Sync + 'static + use<> {
        let queue = self.clone();
        move |request: &Request| queue.reply(request)
    }

    fn lock(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
