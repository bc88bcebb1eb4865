//! Two small proxies for the integration tests, on `127.0.0.1:<random port>`: an HTTP
//! CONNECT proxy and a SOCKS5 proxy (RFC 1928, with the RFC 1929 login when asked). Each
//! records what it was asked to connect to before connecting, so a test reads the log
//! after the binary has exited and knows exactly which requests went through it.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// One connection request a proxy received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The target as asked for: `host:port`, `1.2.3.4:port` or `[::1]:port`.
    pub target: String,
    /// Whether the client sent a host name (SOCKS5 address type 3) rather than an
    /// address; always true-to-the-text for CONNECT (whatever the request line said).
    pub by_name: bool,
    /// The `Proxy-Authorization` header (CONNECT) or `user:password` (SOCKS5), if any.
    pub auth: Option<String>,
}

#[derive(Clone)]
enum Mode {
    /// CONNECT: tunnel, or answer this status instead.
    Connect { answer: Option<u16> },
    /// SOCKS5: no login, or require this `(user, password)`.
    Socks5 { login: Option<(String, String)> },
}

/// A running proxy; dropping it stops accepting.
pub struct Proxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Seen>>>,
    stopped: Arc<AtomicBool>,
}

impl Proxy {
    /// An HTTP CONNECT proxy that tunnels to any target.
    pub fn connect() -> Proxy {
        Proxy::start(Mode::Connect { answer: None })
    }

    /// A CONNECT proxy that answers every CONNECT with `status` (e.g. 407, 502).
    pub fn connect_answering(status: u16) -> Proxy {
        Proxy::start(Mode::Connect {
            answer: Some(status),
        })
    }

    /// A SOCKS5 proxy without authentication.
    pub fn socks5() -> Proxy {
        Proxy::start(Mode::Socks5 { login: None })
    }

    /// A SOCKS5 proxy that requires the user name/password login.
    pub fn socks5_with_login(user: &str, password: &str) -> Proxy {
        Proxy::start(Mode::Socks5 {
            login: Some((user.into(), password.into())),
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// Every connection request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The targets of [`Proxy::seen`].
    pub fn targets(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.target).collect()
    }

    fn start(mode: Mode) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind test proxy");
        let addr = listener.local_addr().expect("proxy address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        {
            let log = Arc::clone(&log);
            crate::common::serve_each(listener, Arc::clone(&stopped), move |stream| {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let _ = match mode.clone() {
                    Mode::Connect { answer } => serve_connect(stream, &log, answer),
                    Mode::Socks5 { login } => serve_socks5(stream, &log, login),
                };
            });
        }
        Proxy { addr, log, stopped }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn record(log: &Mutex<Vec<Seen>>, seen: Seen) {
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(seen);
}

/// Reads the CONNECT head byte by byte (nothing past it may be consumed: it belongs to
/// the tunnel), records the target, then tunnels or answers.
fn serve_connect(
    mut client: TcpStream,
    log: &Mutex<Vec<Seen>>,
    answer: Option<u16>,
) -> io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut words = request.split(' ');
    if words.next() != Some("CONNECT") {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    }
    let target = words.next().unwrap_or_default().to_string();
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_string());
    let by_name = !target.starts_with('[')
        && target
            .rsplit_once(':')
            .is_some_and(|(h, _)| h.parse::<std::net::IpAddr>().is_err());
    record(
        log,
        Seen {
            target: target.clone(),
            by_name,
            auth,
        },
    );
    if let Some(status) = answer {
        let text = format!("HTTP/1.1 {status} Test Answer\r\nContent-Length: 0\r\n\r\n");
        client.write_all(text.as_bytes())?;
        return Ok(());
    }
    match TcpStream::connect(target.as_str()) {
        Ok(server) => {
            client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            pipe(client, server)
        }
        Err(_) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            Ok(())
        }
    }
}

fn read_n(s: &mut TcpStream, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

fn serve_socks5(
    mut client: TcpStream,
    log: &Mutex<Vec<Seen>>,
    login: Option<(String, String)>,
) -> io::Result<()> {
    let hello = read_n(&mut client, 2)?;
    if hello[0] != 5 {
        return Ok(());
    }
    let methods = read_n(&mut client, usize::from(hello[1]))?;
    let mut auth = None;
    match &login {
        Some((user, password)) => {
            if !methods.contains(&2) {
                client.write_all(&[5, 0xff])?;
                return Ok(());
            }
            client.write_all(&[5, 2])?;
            let version = read_n(&mut client, 2)?;
            let u = read_n(&mut client, usize::from(version[1]))?;
            let plen = read_n(&mut client, 1)?;
            let p = read_n(&mut client, usize::from(plen[0]))?;
            let (u, p) = (
                String::from_utf8_lossy(&u).into_owned(),
                String::from_utf8_lossy(&p).into_owned(),
            );
            let ok = &u == user && &p == password;
            auth = Some(format!("{u}:{p}"));
            client.write_all(&[1, if ok { 0 } else { 1 }])?;
            if !ok {
                return Ok(());
            }
        }
        None => {
            if !methods.contains(&0) {
                client.write_all(&[5, 0xff])?;
                return Ok(());
            }
            client.write_all(&[5, 0])?;
        }
    }
    let request = read_n(&mut client, 4)?;
    let (host, by_name) = match request[3] {
        1 => {
            let a = read_n(&mut client, 4)?;
            (format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]), false)
        }
        3 => {
            let len = read_n(&mut client, 1)?;
            let name = read_n(&mut client, usize::from(len[0]))?;
            (String::from_utf8_lossy(&name).into_owned(), true)
        }
        4 => {
            let a: [u8; 16] = read_n(&mut client, 16)?.try_into().expect("16 bytes");
            (format!("[{}]", std::net::Ipv6Addr::from(a)), false)
        }
        _ => return Ok(()),
    };
    let port = read_n(&mut client, 2)?;
    let target = format!("{host}:{}", u16::from_be_bytes([port[0], port[1]]));
    record(
        log,
        Seen {
            target: target.clone(),
            by_name,
            auth,
        },
    );
    match TcpStream::connect(target.as_str()) {
        Ok(server) => {
            client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
            pipe(client, server)
        }
        Err(_) => {
            // Reply 5: connection refused.
            client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])?;
            Ok(())
        }
    }
}

/// Copies both ways until each side has finished sending.
fn pipe(client: TcpStream, server: TcpStream) -> io::Result<()> {
    let (mut c_read, mut s_write) = (client.try_clone()?, server.try_clone()?);
    let upstream = thread::spawn(move || {
        let _ = io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let (mut s_read, mut c_write) = (server, client);
    let _ = io::copy(&mut s_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Write);
    let _ = upstream.join();
    Ok(())
}
