//! A remote or API base parsed once (SPEC §3): an [`Origin`] of scheme, host and port,
//! whose text is the key credentials are stored under. The bottom floor the store, the
//! network layer and the command line share; [`crate::remote`] adds the rules of a run.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The scheme of a remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// TLS: every remote but loopback ones.
    Https,
    /// Loopback hosts only.
    Http,
}

impl Scheme {
    /// The port a URL of this scheme means when it names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }

    /// The scheme as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// The host of a remote: a lower-case name or an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lower-case.
    Name(String),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    V6(Ipv6Addr),
}

/// The host as a name or an address, an IPv6 address without brackets (the form
/// certificates and messages name it by).
impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::V4(ip) => write!(f, "{ip}"),
            Host::V6(ip) => write!(f, "{ip}"),
        }
    }
}

impl Host {
    /// True for `localhost`, `127.0.0.0/8` and `::1` (an IPv4-mapped `::ffff:127.0.0.1`
    /// included): hosts that never leave the machine.
    fn is_loopback(&self) -> bool {
        match self {
            Host::Name(name) => name == "localhost",
            Host::V4(ip) => ip.is_loopback(),
            Host::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }
}

/// A remote or API base, `scheme://host[:port]`, parsed once. Its text is the store key:
/// a lower-case host, an IPv6 address in its shortest form, and no port when it is the
/// scheme's default, so every spelling of a remote is one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `https`, or `http` for loopback.
    pub scheme: Scheme,
    /// The host, parsed.
    pub host: Host,
    /// The port, the scheme's default when the URL names none.
    pub port: u16,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority())
    }
}

impl Origin {
    /// Parses `scheme://host[:port]` with an optional trailing `/` (SPEC §3). The error
    /// never repeats a password.
    pub fn parse(raw: &str) -> Result<Origin, String> {
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or("expected scheme://host[:port]")?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => return Err(format!("unsupported scheme {other:?}: use https")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err("must not contain a user name or password".into());
        }
        if authority.contains(['/', '?', '#']) {
            return Err("must not have a path, query or fragment".into());
        }
        let (host, port) = split_host_port(authority)?;
        if scheme == Scheme::Http && !host.is_loopback() {
            return Err("plain http is only allowed for localhost; use https".into());
        }
        Ok(Origin {
            scheme,
            host,
            port: port.unwrap_or(scheme.default_port()),
        })
    }

    /// `host[:port]` (`[v6][:port]`) without the scheme's default port: how messages
    /// name the server.
    pub fn authority(&self) -> String {
        let host = match &self.host {
            Host::V6(ip) => format!("[{ip}]"),
            host => host.to_string(),
        };
        match self.port {
            port if port == self.scheme.default_port() => host,
            port => format!("{host}:{port}"),
        }
    }

    /// The management API base of this remote: `https://app.X` → `https://api.X`; any
    /// other host gets `api.` prepended; scheme and port kept.
    pub fn management_base(&self) -> Origin {
        let host = self.host.to_string();
        let bare = host.strip_prefix("app.").unwrap_or(&host);
        let bare = match self.host {
            Host::V6(_) => format!("[{bare}]"),
            _ => bare.to_owned(),
        };
        Origin {
            host: Host::Name(format!("api.{bare}")),
            ..self.clone()
        }
    }
}

/// Checks `raw` is a remote (SPEC §3) and returns its store key, the text of its
/// [`Origin`]; for the store, which compares the remotes written in auth.json.
pub fn normalize(raw: &str) -> Result<String, String> {
    if is_normal(raw) {
        return Ok(raw.to_owned());
    }
    Origin::parse(raw).map(|o| o.to_string())
}

/// Whether `raw` is already a store key in the common spelling `https://` + a lower-case
/// host name without a port: [`normalize`] then only copies it, which keeps comparing
/// the remotes of many stored accounts cheap (SPEC §7).
fn is_normal(raw: &str) -> bool {
    raw.strip_prefix("https://").is_some_and(|host| {
        !host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    })
}

/// The host and the port of `authority`.
fn split_host_port(authority: &str) -> Result<(Host, Option<u16>), String> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (v6, rest) = bracketed.split_once(']').ok_or("unclosed '[' in host")?;
        let ip: Ipv6Addr = v6.parse().map_err(|_| "invalid IPv6 host")?;
        let port = match rest {
            "" => None,
            rest => Some(rest.strip_prefix(':').ok_or("invalid host")?),
        };
        (Host::V6(ip), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        if host.is_empty() || !host.chars().all(valid) || host.starts_with(['.', '-']) {
            return Err("invalid host".into());
        }
        // An address only when it reads back as written, so the key stays the text given.
        let host = match host.parse::<Ipv4Addr>() {
            Ok(ip) if ip.to_string() == host => Host::V4(ip),
            _ => Host::Name(host.to_ascii_lowercase()),
        };
        (host, port)
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err("invalid port".into()),
        },
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_into_parts() {
        let o = Origin::parse("HTTP://[0:0::1]:8080/").unwrap();
        assert_eq!(o.scheme, Scheme::Http);
        assert_eq!(o.host, Host::V6(Ipv6Addr::LOCALHOST));
        assert_eq!((o.port, o.authority()), (8080, "[::1]:8080".into()));
        let o = Origin::parse("https://App.Example.com").unwrap();
        assert_eq!(o.host, Host::Name("app.example.com".into()));
        assert_eq!((o.port, o.authority()), (443, "app.example.com".into()));
        let o = Origin::parse("http://127.0.0.1:80").unwrap();
        assert_eq!(o.host, Host::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(o.to_string(), "http://127.0.0.1");
    }

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize("HTTPS://Example.COM/").as_deref(),
            Ok("https://example.com")
        );
        assert_eq!(
            normalize("http://localhost:8080").as_deref(),
            Ok("http://localhost:8080")
        );
        assert_eq!(
            normalize("http://127.1.2.3").as_deref(),
            Ok("http://127.1.2.3")
        );
        assert_eq!(normalize("http://[::1]:80/").as_deref(), Ok("http://[::1]"));
        assert_eq!(
            normalize("https://app.baseten.co:443").as_deref(),
            Ok("https://app.baseten.co")
        );
        assert_eq!(
            normalize("http://localhost:80/").as_deref(),
            Ok("http://localhost")
        );
        assert_eq!(
            normalize("http://localhost:443").as_deref(),
            Ok("http://localhost:443")
        );
        assert_eq!(
            normalize("https://app.baseten.co:80").as_deref(),
            Ok("https://app.baseten.co:80")
        );
        for v6 in [
            "http://[0:0:0:0:0:0:0:1]:8080",
            "http://[0000::0001]:8080",
            "http://[::0:1]:8080",
        ] {
            assert_eq!(normalize(v6).as_deref(), Ok("http://[::1]:8080"), "{v6}");
        }
        assert_eq!(
            normalize("http://[::ffff:127.0.0.1]").as_deref(),
            Ok("http://[::ffff:127.0.0.1]")
        );
        assert_eq!(
            normalize("https://[2001:DB8::1]").as_deref(),
            Ok("https://[2001:db8::1]")
        );
        // An address that does not read back as written stays the text given.
        assert_eq!(
            normalize("https://010.0.0.1").as_deref(),
            Ok("https://010.0.0.1")
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "app.baseten.co",
            "ftp://app.baseten.co",
            "https://app.baseten.co/path",
            "https://app.baseten.co?q=1",
            "https://app.baseten.co#f",
            "https://user:secret@app.baseten.co",
            "http://app.baseten.co",
            "http://10.0.0.1",
            "https://",
            "https://host:0",
            "https://host:99999",
            "https://host:+1",
            "https://[::1",
            "https://[::1]x",
            "https://[12345::1]",
            "https://[]",
            "http://[::2]",
            "http://[::ffff:10.0.0.1]",
            "https://bad host",
        ] {
            let err = normalize(bad).expect_err(bad);
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
