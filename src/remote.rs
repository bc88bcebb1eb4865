//! Remote URL rules (SPEC §3): which Baseten deployment we talk to, the normalized
//! form credentials are stored under, and the management API base derived from it.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The default remote when neither `--remote-url` nor `BASETEN_REMOTE_URL` is set.
pub const DEFAULT_REMOTE: &str = "https://app.baseten.co";

/// A resolved remote: the store key and the API base that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Normalized `scheme://host[:port]`; the key credentials are stored under.
    pub url: String,
    /// Management API base, e.g. `https://api.baseten.co`.
    pub api: String,
    /// Whether the user named it (`--remote-url` or `BASETEN_REMOTE_URL`) rather than
    /// it being the default: an account chosen by name must then belong to it.
    pub explicit: bool,
    /// `BASETEN_MANAGEMENT_API_URL_OVERRIDE`, which applies to every remote.
    api_override: Option<String>,
}

impl Remote {
    /// Builds a remote from a [`normalize`]d URL and an optional, also normalized,
    /// management-base override.
    pub fn new(url: String, api_override: Option<String>, explicit: bool) -> Remote {
        let api = api_override
            .clone()
            .unwrap_or_else(|| management_base(&url));
        Remote {
            url,
            api,
            explicit,
            api_override,
        }
    }

    /// The remote of an account stored under `url` (normalized), with the same
    /// management-base override.
    pub fn of_account(&self, url: &str) -> Remote {
        Remote::new(url.to_owned(), self.api_override.clone(), self.explicit)
    }
}

/// Checks `raw` is `scheme://host[:port]` with an optional trailing `/` and returns it as
/// `scheme://host[:port]` with a lower-case host (an IPv6 address in its shortest form)
/// and no port when it is the scheme's default (443, 80), so every spelling of a remote
/// is one store key. The error never repeats a password.
pub fn normalize(raw: &str) -> Result<String, String> {
    if is_normal(raw) {
        return Ok(raw.to_owned());
    }
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or("expected scheme://host[:port]")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(format!("unsupported scheme {scheme:?}: use https"));
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('@') {
        return Err("must not contain a user name or password".into());
    }
    if authority.contains(['/', '?', '#']) {
        return Err("must not have a path, query or fragment".into());
    }
    let (host, port) = split_host_port(authority)?;
    let host = host.to_ascii_lowercase();
    if scheme == "http" && !is_loopback(&host) {
        return Err("plain http is only allowed for localhost; use https".into());
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    Ok(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// Whether `raw` is already in the form [`normalize`] returns, in the common spelling
/// `https://` + a lower-case host name without a port: [`normalize`] then only copies it,
/// which keeps comparing the remotes of many stored accounts cheap (SPEC §7).
fn is_normal(raw: &str) -> bool {
    raw.strip_prefix("https://").is_some_and(|host| {
        !host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    })
}

/// The host (an IPv6 address bracketed, in its shortest form) and the port of
/// `authority`.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (v6, rest) = bracketed.split_once(']').ok_or("unclosed '[' in host")?;
        let ip: Ipv6Addr = v6.parse().map_err(|_| "invalid IPv6 host")?;
        match rest {
            "" => (format!("[{ip}]"), None),
            rest => (
                format!("[{ip}]"),
                Some(rest.strip_prefix(':').ok_or("invalid host")?),
            ),
        }
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        if host.is_empty() || !host.chars().all(valid) || host.starts_with(['.', '-']) {
            return Err("invalid host".into());
        }
        (host.to_owned(), port)
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

/// True for `localhost`, `127.0.0.0/8` and `[::1]` however it is spelled (an IPv4-mapped
/// `[::ffff:127.0.0.1]` included): hosts that never leave the machine.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        });
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// `https://app.X` → `https://api.X`; any other host gets `api.` prepended; port kept.
fn management_base(url: &str) -> String {
    let (scheme, authority) = url.split_once("://").unwrap_or(("https", url));
    let bare = authority.strip_prefix("app.").unwrap_or(authority);
    format!("{scheme}://api.{bare}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_management_base() {
        let api = |u: &str| Remote::new(normalize(u).unwrap(), None, false).api;
        assert_eq!(api("https://app.baseten.co"), "https://api.baseten.co");
        assert_eq!(
            api("https://app.staging.baseten.co/"),
            "https://api.staging.baseten.co"
        );
        assert_eq!(
            api("https://example.com:8443"),
            "https://api.example.com:8443"
        );
    }

    #[test]
    fn override_replaces_base_but_not_key() {
        let r = Remote::new(
            "https://app.baseten.co".into(),
            Some("http://127.0.0.1:9".into()),
            true,
        );
        assert_eq!(r.url, "https://app.baseten.co");
        assert_eq!(r.api, "http://127.0.0.1:9");
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
