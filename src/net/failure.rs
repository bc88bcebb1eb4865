//! What a failed request says (SPEC §4a): which hop failed (the proxy or the server),
//! and for TLS what is wrong in words, with the fix.

use crate::net::proxy::Chosen;
use crate::origin::Origin;

/// What went wrong reaching `server`, through `via` when a proxy is used, in words:
/// which hop failed, and for TLS what is wrong and the fix.
pub fn describe(server: &Origin, via: Option<&Chosen>, e: &ureq::Error) -> String {
    use std::io::ErrorKind as K;
    let host = &server.authority();
    let name = &server.host.to_string();
    let through = via.map_or_else(String::new, |c| format!(" through proxy {}", c.describe()));
    let proxy_down = |why: &str| match via {
        Some(c) => format!("cannot reach proxy {} (from {}): {why}", c.address(), c.var),
        None => format!("cannot reach {host}: {why}"),
    };
    match e {
        ureq::Error::Io(io) => {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return tls_failure(name, host, tls);
            }
            let message = io
                .get_ref()
                .map_or_else(|| io_words(io.kind()), |i| i.to_string());
            match io.kind() {
                // Only the first hop is ever connected to directly, so a refused or
                // unreachable connection is the proxy's when there is one.
                K::ConnectionRefused
                | K::HostUnreachable
                | K::NetworkUnreachable
                | K::NetworkDown
                | K::AddrNotAvailable => proxy_down(&io_words(io.kind())),
                K::Other | K::InvalidData | K::PermissionDenied | K::InvalidInput
                    if via.is_some_and(Chosen::is_socks) =>
                {
                    socks_failure(host, via, &message)
                }
                K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted => {
                    format!("{host} closed the connection{through}")
                }
                _ => format!("cannot reach {host}{through}: {message}"),
            }
        }
        ureq::Error::Rustls(tls) => tls_failure(name, host, tls),
        ureq::Error::Timeout(_) => format!("cannot reach {host}{through}: timed out"),
        ureq::Error::ConnectionFailed => proxy_down("connection failed"),
        ureq::Error::HostNotFound => match via {
            // A SOCKS5 proxy (local names) is handed an address looked up here: the
            // missing name is the server's when the proxy's own name resolves.
            Some(c) if c.proxy.protocol() == ureq::ProxyProtocol::Socks5 && proxy_resolves(c) => {
                format!("cannot reach {host}{through}: host not found")
            }
            Some(_) => proxy_down("host not found"),
            None => format!("cannot reach {host}: host not found"),
        },
        ureq::Error::ConnectProxyFailed(reason) => {
            // ureq says `proxy server responded 502/502`: the code, then words for it.
            let answer = reason
                .strip_prefix("proxy server responded ")
                .and_then(|r| r.get(..3))
                .and_then(|code| code.parse::<u16>().ok())
                .map(|code| {
                    let words = ureq::http::StatusCode::from_u16(code)
                        .ok()
                        .and_then(|c| c.canonical_reason())
                        .unwrap_or("");
                    format!("{code} {words}").trim_end().to_owned()
                });
            match (via, answer) {
                (Some(c), Some(a)) if a.starts_with("407") => format!(
                    "proxy {} (from {}) wants a user name and password ({a}); put them in {} as user:password@",
                    c.address(),
                    c.var,
                    c.var
                ),
                (Some(c), Some(a)) => format!(
                    "proxy {} (from {}) could not connect to {host}: it answered {a}",
                    c.address(),
                    c.var
                ),
                (Some(c), None) => format!(
                    "proxy {} (from {}) could not connect to {host}: {reason}",
                    c.address(),
                    c.var
                ),
                (None, _) => format!("cannot reach {host}: {reason}"),
            }
        }
        ureq::Error::Tls(why) => format!("TLS with {host} failed{through}: {why}"),
        other => format!("cannot reach {host}{through}: {other}"),
    }
}

/// A SOCKS handshake error from ureq: the proxy's refusal to reach the server, or a
/// problem with the proxy itself.
fn socks_failure(host: &str, via: Option<&Chosen>, message: &str) -> String {
    const TARGET: &[&str] = &[
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
    ];
    let (address, var) = via.map_or(("?".into(), "?"), |c| (c.address(), c.var));
    if TARGET.contains(&message) {
        format!("SOCKS5 proxy {address} (from {var}) could not connect to {host}: {message}")
    } else if message == "password authentication failed" || message == "no acceptable auth methods"
    {
        format!(
            "SOCKS5 proxy {address} (from {var}) refused the login: {message}; check the user name and password in {var}"
        )
    } else {
        format!("SOCKS5 proxy {address} (from {var}) failed: {message}")
    }
}

/// Whether the proxy's own host name resolves (only asked after a failed look-up).
fn proxy_resolves(c: &Chosen) -> bool {
    use std::net::ToSocketAddrs;
    let host = c.proxy.host();
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    (bare.unwrap_or(host), c.proxy.port())
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some())
}

/// An I/O error kind in words.
fn io_words(kind: std::io::ErrorKind) -> String {
    use std::io::ErrorKind as K;
    match kind {
        K::ConnectionRefused => "connection refused".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::NetworkDown => "network down".into(),
        K::AddrNotAvailable => "address not available".into(),
        K::TimedOut => "timed out".into(),
        other => other.to_string(),
    }
}

/// A TLS failure with `name` in words, with what to do about it.
fn tls_failure(name: &str, host: &str, e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    const OWN_CA: &str = "if your network uses its own CA, set SSL_CERT_FILE to its certificate";
    let untrusted =
        |why: &str| format!("the certificate of {name} is not trusted ({why}); {OWN_CA}");
    let date = |t: &rustls::pki_types::UnixTime| {
        i64::try_from(t.as_secs())
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map_or_else(|| "a date out of range".to_owned(), |t| t.to_string())
    };
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => untrusted("unknown issuer"),
            C::BadSignature => untrusted("bad signature"),
            C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => {
                    untrusted("it is a CA certificate, not one issued to the server")
                }
                Some(webpki::Error::UnknownIssuer) => untrusted("unknown issuer"),
                _ => untrusted(&other.to_string()),
            },
            C::Expired => format!(
                "the certificate of {name} has expired; if this computer's clock is right, the server needs a new certificate"
            ),
            C::ExpiredContext { not_after, .. } => format!(
                "the certificate of {name} expired on {}; if this computer's clock is right, the server needs a new certificate",
                date(not_after)
            ),
            C::NotValidYet => {
                format!("the certificate of {name} is not valid yet; check this computer's clock")
            }
            C::NotValidYetContext { not_before, .. } => format!(
                "the certificate of {name} is not valid until {}; check this computer's clock",
                date(not_before)
            ),
            C::NotValidForName => {
                format!("the certificate of {name} is for another host name; check the remote URL")
            }
            C::NotValidForNameContext { presented, .. } => {
                // webpki writes each as `DnsName("host")` or `IpAddress(1.2.3.4)`.
                let bare = |n: &String| -> String {
                    let inner = n
                        .split_once('(')
                        .and_then(|(_, rest)| rest.strip_suffix(')'))
                        .unwrap_or(n);
                    inner.trim_matches('"').to_owned()
                };
                let names: Vec<String> = presented.iter().take(3).map(bare).collect();
                let more = if presented.len() > 3 { ", …" } else { "" };
                format!(
                    "the certificate of {name} is for another host ({}{more}); check the remote URL",
                    names.join(", ")
                )
            }
            C::Revoked => format!("the certificate of {name} has been revoked"),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                format!("the certificate of {name} is not meant for a server")
            }
            other => untrusted(&format!("{other:?}")),
        },
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => format!(
            "{host} did not answer with TLS (plain HTTP on an https port?); check the scheme and port of the URL"
        ),
        rustls::Error::NoCertificatesPresented => {
            format!("{name} presented no certificate")
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the TLS handshake with {host} failed: the server sent {alert:?}")
        }
        rustls::Error::PeerIncompatible(_) => {
            format!("{host} offers no TLS version or cipher this program supports")
        }
        other => format!("the TLS handshake with {host} failed: {other}"),
    }
}
