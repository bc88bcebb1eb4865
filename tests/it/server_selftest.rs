//! Self-test of the in-process HTTP test server, driven by a raw `TcpStream`
//! client so that it does not depend on the crate's own HTTP code.

use crate::server;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use server::{Queue, Reply, Server};

const WAIT: Duration = Duration::from_secs(5);

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr()).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream
}

/// Sends `raw` and reads until the server closes the connection.
fn exchange(server: &Server, raw: &str) -> Vec<u8> {
    let mut stream = connect(server);
    stream.write_all(raw.as_bytes()).expect("write");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read");
    out
}

fn get(server: &Server, method: &str, path: &str) -> String {
    let raw = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    String::from_utf8(exchange(server, &raw)).expect("utf-8 response")
}

/// Splits a response into (status line, lower-cased headers, body).
fn split(response: &str) -> (String, Vec<(String, String)>, String) {
    let (head, body) = response.split_once("\r\n\r\n").expect("head/body");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_string();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').expect("header line");
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn json_reply_has_status_type_length_and_body() {
    let server = Server::start(|_| Reply::json(201, r#"{"ok":true}"#).with_header("X-Extra", "1"));
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let (status, headers, body) = split(&get(&server, "GET", "/v1/thing"));
    assert_eq!(status, "HTTP/1.1 201 Created");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(header(&headers, "content-length"), Some("11"));
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert_eq!(header(&headers, "x-extra"), Some("1"));
    assert_eq!(body, r#"{"ok":true}"#);
}

#[test]
fn form_body_is_recorded_and_decoded() {
    let server = Server::start(|_| Reply::json(200, "{}"));
    let body = "a=b+c&d=%2F&e=%zz";
    let raw = format!(
        "POST /token?x=1&y=%41 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(&server, &raw);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/token");
    assert_eq!(r.query, "x=1&y=%41");
    assert_eq!(r.query_pairs()[1], ("y".to_string(), "A".to_string()));
    assert_eq!(
        r.header("CONTENT-TYPE"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(r.headers.iter().any(|(k, _)| k == "content-length"));
    assert_eq!(r.body, body.as_bytes());
    assert_eq!(
        r.form(),
        vec![
            ("a".to_string(), "b c".to_string()),
            ("d".to_string(), "/".to_string()),
            ("e".to_string(), "%zz".to_string()),
        ]
    );
    assert_eq!(r.form_value("d").as_deref(), Some("/"));
    assert_eq!(r.form_value("missing"), None);
}

#[test]
fn chunked_request_body_is_decoded() {
    let server = Server::start(|_| Reply::json(200, "{}"));
    exchange(
        &server,
        "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n",
    );
    assert_eq!(server.requests()[0].body, b"abcde");
}

#[test]
fn queue_repeats_last_reply_and_404s_unmatched() {
    let q = Queue::new();
    q.push("POST", "/poll", Reply::json(400, r#"{"n":1}"#))
        .push("POST", "/poll", Reply::json(200, r#"{"n":2}"#));
    let server = Server::start(q.handler());
    let bodies: Vec<String> = (0..3)
        .map(|_| split(&get(&server, "POST", "/poll?ignored=1")).2)
        .collect();
    assert_eq!(bodies, [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":2}"#]);

    // Pushing after start is visible through the shared queue.
    q.push("GET", "/late", Reply::text(200, "text/plain", "late"));
    assert_eq!(split(&get(&server, "GET", "/late")).2, "late");

    for (method, path) in [("GET", "/poll"), ("POST", "/nope")] {
        let (status, _, body) = split(&get(&server, method, path));
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        assert_eq!(body, r#"{"error":"not_found"}"#);
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/poll", "/poll", "/poll", "/late", "/poll", "/nope"]
    );
}

#[test]
fn wait_for_requests_blocks_until_count_or_timeout() {
    let server = Server::start(|_| Reply::json(200, "{}"));
    let addr = server.addr();
    let client = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        for _ in 0..2 {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
            let _ = s.read_to_end(&mut Vec::new());
        }
    });
    assert!(server.wait_for_requests(2, WAIT));
    client.join().unwrap();
    let start = Instant::now();
    assert!(!server.wait_for_requests(3, Duration::from_millis(50)));
    assert!(start.elapsed() >= Duration::from_millis(50));
    let r = server.requests();
    assert!(r[0].arrived <= r[1].arrived);
}

#[test]
fn close_yields_eof_without_bytes() {
    let server = Server::start(|_| Reply::close());
    assert!(exchange(&server, "GET / HTTP/1.1\r\n\r\n").is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn hang_holds_connection_until_server_dropped() {
    let server = Server::start(|_| Reply::hang());
    let mut stream = connect(&server);
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert!(server.wait_for_requests(1, WAIT));
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let err = stream.read(&mut [0; 16]).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    drop(server);
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

#[test]
fn huge_streams_exact_length_json() {
    let server = Server::start(|_| Reply::huge(200, 300_000));
    let response = exchange(&server, "GET / HTTP/1.1\r\n\r\n");
    let text = String::from_utf8(response).unwrap();
    let (status, headers, body) = split(&text);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "content-length"), Some("300000"));
    assert_eq!(body.len(), 300_000);
    assert!(body.starts_with(r#"{"a":"xxx"#) && body.ends_with(r#"x"}"#));
}

#[test]
fn huge_survives_client_hangup() {
    let server = Server::start(|_| Reply::huge(200, 50_000_000));
    let mut stream = connect(&server);
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    stream.read_exact(&mut [0; 1024]).unwrap();
    drop(stream);
    // The server keeps working after the writer thread hits a broken pipe.
    server_still_answers(&server);
}

fn server_still_answers(server: &Server) {
    let mut stream = connect(server);
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut buf = [0; 12];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
}

#[test]
fn drip_sends_body_slowly() {
    let server = Server::start(|_| Reply::drip(200, "{}", Duration::from_millis(20)));
    let start = Instant::now();
    let text = String::from_utf8(exchange(&server, "GET / HTTP/1.1\r\n\r\n")).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(40));
    let (status, headers, body) = split(&text);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "content-length"), Some("2"));
    assert_eq!(body, "{}");
}
