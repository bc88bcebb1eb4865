//! Remote URL rules (SPEC §3): which Baseten deployment we talk to, the normalized
//! form credentials are stored under, and the management API base derived from it.

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
/// `scheme://host[:port]` with a lower-case host. The error never repeats a password.
pub fn normalize(raw: &str) -> Result<String, String> {
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
    Ok(match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or("unclosed '[' in host")?;
        let host = &authority[..=end];
        let v6 = &host[1..end];
        if v6.is_empty()
            || !v6
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("invalid IPv6 host".into());
        }
        match &authority[end + 1..] {
            "" => (host, None),
            rest => (host, Some(rest.strip_prefix(':').ok_or("invalid host")?)),
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

/// True for `localhost`, `127.0.0.0/8` and `[::1]`: hosts that never leave the machine.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
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
        assert_eq!(
            normalize("http://[::1]:80/").as_deref(),
            Ok("http://[::1]:80")
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
            "https://bad host",
        ] {
            let err = normalize(bad).expect_err(bad);
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
