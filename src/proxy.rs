//! Which proxy a request goes through (SPEC §4a), by curl's rules, so that the same
//! environment sends `baseten` and `curl` the same way:
//!
//! - `https_proxy`/`HTTPS_PROXY` for `https://`, `http_proxy`/`HTTP_PROXY` only for
//!   `http://`, `all_proxy`/`ALL_PROXY` for either when the specific one is unset; the
//!   lower-case spelling wins, and an empty value counts as unset.
//! - Proxy schemes `http`, `https`, `socks5` (names resolved here) and `socks5h` (names
//!   resolved by the proxy); no scheme means `http`. A value that cannot be parsed is an
//!   error naming the variable, never a silent direct connection. Credentials are used
//!   and never shown.
//! - `no_proxy`/`NO_PROXY`: a comma list; `*`; a name matches itself and its subdomains
//!   (a leading `.` is allowed); addresses and CIDR ranges match literal IP hosts; a port
//!   restricts an entry to that port. Loopback is proxied like anything else unless
//!   listed, as in curl.
//!
//! ureq's own environment reading does none of this, so the agent is always handed an
//! explicit choice (a proxy, or none).

use crate::secret::Secret;
use std::net::IpAddr;

/// A proxy URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTTP CONNECT over plain TCP.
    Http,
    /// HTTP CONNECT over TLS to the proxy.
    Https,
    /// SOCKS5, the target's name resolved locally.
    Socks5,
    /// SOCKS5, the target's name resolved by the proxy.
    Socks5h,
}

impl Kind {
    fn parse(scheme: &str) -> Option<Kind> {
        match scheme.to_ascii_lowercase().as_str() {
            "http" => Some(Kind::Http),
            "https" => Some(Kind::Https),
            "socks5" => Some(Kind::Socks5),
            "socks5h" => Some(Kind::Socks5h),
            _ => None,
        }
    }

    /// The scheme as written in a proxy URL.
    pub fn scheme(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Https => "https",
            Kind::Socks5 => "socks5",
            Kind::Socks5h => "socks5h",
        }
    }

    /// Whether this is a SOCKS proxy (rather than HTTP CONNECT).
    pub fn is_socks(self) -> bool {
        matches!(self, Kind::Socks5 | Kind::Socks5h)
    }

    /// curl's default ports: 443 for an HTTPS proxy, 1080 for everything else.
    fn default_port(self) -> u16 {
        match self {
            Kind::Https => 443,
            _ => 1080,
        }
    }
}

/// A parsed proxy URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub kind: Kind,
    /// The host as written (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Percent-decoded user name and password.
    pub user: Option<String>,
    pub password: Option<Secret>,
}

// Never shows the credentials, whatever formats it.
impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.kind.scheme(), self.address())
    }
}

impl ProxyUrl {
    /// `host:port` (`[v6]:port`), the form errors and `-v` show: no credentials.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Parses `[scheme://][user[:password]@]host[:port][/]`. Errors never repeat the
    /// user name or password.
    pub fn parse(raw: &str) -> Result<ProxyUrl, String> {
        let raw = raw.trim();
        let (kind, rest) = match raw.split_once("://") {
            Some((scheme, rest)) => {
                let kind = Kind::parse(scheme).ok_or_else(|| {
                    format!(
                        "unsupported proxy scheme {:?}: use http, https, socks5 or socks5h",
                        crate::sanitize::clean(scheme)
                    )
                })?;
                (kind, rest)
            }
            None => (Kind::Http, raw),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (userinfo, authority) = match rest.rsplit_once('@') {
            Some((u, a)) => (Some(u), a),
            None => (None, rest),
        };
        if authority.contains(['/', '?', '#']) {
            return Err("a proxy URL has no path, query or fragment".into());
        }
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (u, p) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                let u = decode(u).ok_or(
                    "the user name in the proxy URL is not valid (percent-encode special characters)",
                )?;
                let p = p
                    .map(decode)
                    .map(|p| {
                        p.ok_or("the password in the proxy URL is not valid (percent-encode special characters)")
                    })
                    .transpose()?
                    .map(Secret::new);
                (Some(u), p)
            }
        };
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            None => kind.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(format!(
                        "invalid proxy port {:?}",
                        crate::sanitize::clean(p)
                    ));
                }
            },
        };
        Ok(ProxyUrl {
            kind,
            host: host.to_owned(),
            port,
            user,
            password,
        })
    }

    /// The proxy as ureq takes it.
    pub fn to_ureq(&self) -> Result<ureq::Proxy, String> {
        let protocol = match self.kind {
            Kind::Http => ureq::ProxyProtocol::Http,
            Kind::Https => ureq::ProxyProtocol::Https,
            Kind::Socks5 => ureq::ProxyProtocol::Socks5,
            Kind::Socks5h => ureq::ProxyProtocol::Socks5h,
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let mut b = ureq::Proxy::builder(protocol)
            .host(&host)
            .port(self.port)
            .resolve_target(self.kind == Kind::Socks5);
        if let Some(u) = &self.user {
            b = b.username(u);
        }
        if let Some(p) = &self.password {
            b = b.password(p.expose());
        }
        b.build()
            .map_err(|_| format!("the proxy {} cannot be used", self.address()))
    }
}

/// Splits `host[:port]` / `[v6][:port]`, checking the host is a name or an address.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    let shown = || {
        format!(
            "{:?} is not a proxy host",
            crate::sanitize::clean(authority)
        )
    };
    if let Some(inner) = authority.strip_prefix('[') {
        let (v6, after) = inner.split_once(']').ok_or_else(shown)?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(shown());
        }
        return match after {
            "" => Ok((v6, None)),
            p => Ok((v6, Some(p.strip_prefix(':').ok_or_else(shown)?))),
        };
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if host.is_empty() || !host.chars().all(valid) || host.starts_with(['.', '-']) {
        return Err(shown());
    }
    Ok((host, port))
}

/// Percent-decodes URL userinfo; `None` for characters that must have been encoded or
/// for a result that is not UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b) => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// The proxy chosen for one URL, and the variable it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The variable as set, e.g. `HTTPS_PROXY` or `all_proxy`.
    pub var: &'static str,
    pub url: ProxyUrl,
}

impl Chosen {
    /// `socks5h://127.0.0.1:1080 (from ALL_PROXY)`, without credentials.
    pub fn describe(&self) -> String {
        format!("{:?} (from {})", self.url, self.var)
    }
}

/// What the environment says about one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Straight to the server: no proxy variable applies.
    Direct,
    /// Straight to the server because `var` (`NO_PROXY`/`no_proxy`) lists it.
    Bypass { var: &'static str },
    /// Through a proxy.
    Proxy(Chosen),
}

/// The route for `scheme://host:port` under the process environment. The error (a
/// usage error) names the variable that cannot be parsed.
pub fn route(scheme: &str, host: &str, port: u16) -> Result<Route, String> {
    route_with(&|name| std::env::var(name).ok(), scheme, host, port)
}

/// The route for the base URL `scheme://host[:port]` of a client.
pub fn route_for_base(base: &str) -> Result<Route, String> {
    let (scheme, host, port) = split_base(base);
    route(scheme, host, port)
}

/// `scheme://host[:port]` as scheme, host (IPv6 without brackets) and port.
fn split_base(base: &str) -> (&str, &str, u16) {
    let (scheme, authority) = base.split_once("://").unwrap_or(("https", base));
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, rest)) => (h, rest.strip_prefix(':')),
            None => (v6, None),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let default = if scheme.eq_ignore_ascii_case("http") {
        80
    } else {
        443
    };
    (
        scheme,
        host,
        port.and_then(|p| p.parse().ok()).unwrap_or(default),
    )
}

/// The first non-empty value among `names`, lower-case spelling first.
fn first_set(
    env: &dyn Fn(&str) -> Option<String>,
    names: &[&'static str],
) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|&n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
}

/// [`route`] with the environment injected (for tests).
pub fn route_with(
    env: &dyn Fn(&str) -> Option<String>,
    scheme: &str,
    host: &str,
    port: u16,
) -> Result<Route, String> {
    let specific: &[&'static str] = if scheme.eq_ignore_ascii_case("http") {
        &["http_proxy", "HTTP_PROXY"]
    } else {
        &["https_proxy", "HTTPS_PROXY"]
    };
    let Some((var, value)) =
        first_set(env, specific).or_else(|| first_set(env, &["all_proxy", "ALL_PROXY"]))
    else {
        return Ok(Route::Direct);
    };
    let url = ProxyUrl::parse(&value).map_err(|e| format!("invalid {var}: {e}"))?;
    if let Some((no_var, list)) = first_set(env, &["no_proxy", "NO_PROXY"])
        && no_proxy_matches(&list, host, port)
    {
        return Ok(Route::Bypass { var: no_var });
    }
    Ok(Route::Proxy(Chosen { var, url }))
}

/// Whether the `NO_PROXY` list `list` exempts `host` (a name, an IPv4 address, or an
/// IPv6 address with or without brackets) on `port`.
pub fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| entry_matches(entry, &host, ip, port))
}

fn entry_matches(entry: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    let (pattern, entry_port) = split_entry_port(entry);
    if entry_port.is_some_and(|p| p != port) {
        return false;
    }
    match ip {
        Some(ip) => cidr_matches(pattern, ip),
        None => {
            let pattern = pattern.strip_prefix("*.").unwrap_or(pattern);
            let pattern = pattern.strip_prefix('.').unwrap_or(pattern);
            let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
            if pattern.is_empty() {
                return false;
            }
            let pattern = pattern.to_ascii_lowercase();
            host == pattern
                || host
                    .strip_suffix(pattern.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        }
    }
}

/// Splits an entry into its host or range part and an optional port: `name:80`,
/// `1.2.3.4:80`, `[::1]:80`, `[::1]`; a bare IPv6 address (`::1`, `fe80::/10`) has no port.
fn split_entry_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(inner) = entry.strip_prefix('[') {
        if let Some((addr, after)) = inner.split_once(']') {
            // `[::1]/128` keeps its prefix length; `[::1]:80` has a port.
            if after.starts_with('/') {
                return (entry, None);
            }
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return (addr, port);
        }
        return (entry, None);
    }
    if entry.matches(':').count() == 1
        && let Some((h, p)) = entry.split_once(':')
        && let Ok(p) = p.parse::<u16>()
    {
        return (h, Some(p));
    }
    (entry, None)
}

/// Whether `pattern` (an address, or `address/bits`, IPv6 optionally in brackets) covers
/// `ip`.
fn cidr_matches(pattern: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match pattern.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (pattern, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let (ip, net, max) = match (ip, net) {
        (IpAddr::V4(i), IpAddr::V4(n)) => (u128::from(u32::from(i)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(i), IpAddr::V6(n)) => (u128::from(i), u128::from(n), 128),
        // An IPv4-mapped IPv6 host against an IPv4 entry, and the other way round.
        (IpAddr::V6(i), IpAddr::V4(n)) => match i.to_ipv4_mapped() {
            Some(i) => (u128::from(u32::from(i)), u128::from(u32::from(n)), 32),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
    };
    let bits = match bits {
        None => max,
        Some(b) => match b.parse::<u32>() {
            Ok(b) if b <= max => b,
            _ => return false,
        },
    };
    if bits == 0 {
        return true;
    }
    let shift = max - bits;
    (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn chosen(pairs: &[(&str, &str)], url: &str) -> Option<(&'static str, String)> {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (host, port) = rest.rsplit_once(':').unwrap();
        match route_with(&env(pairs), scheme, host, port.parse().unwrap()).unwrap() {
            Route::Proxy(c) => Some((c.var, format!("{:?}", c.url))),
            _ => None,
        }
    }

    #[test]
    fn per_scheme_variables_follow_curl() {
        let p = "http://proxy:3128";
        // HTTP_PROXY is for http:// only.
        assert_eq!(chosen(&[("HTTP_PROXY", p)], "https://a.example:443"), None);
        assert_eq!(
            chosen(&[("HTTP_PROXY", p)], "http://a.example:80"),
            Some(("HTTP_PROXY", "http://proxy:3128".into()))
        );
        assert_eq!(chosen(&[("HTTPS_PROXY", p)], "http://a.example:80"), None);
        assert_eq!(
            chosen(&[("HTTPS_PROXY", p)], "https://a.example:443"),
            Some(("HTTPS_PROXY", "http://proxy:3128".into()))
        );
        // ALL_PROXY only when the specific one is unset.
        let both = [("ALL_PROXY", "socks5h://s:1080"), ("HTTPS_PROXY", p)];
        assert_eq!(
            chosen(&both, "https://a.example:443"),
            Some(("HTTPS_PROXY", "http://proxy:3128".into()))
        );
        assert_eq!(
            chosen(&both, "http://a.example:80"),
            Some(("ALL_PROXY", "socks5h://s:1080".into()))
        );
        // Lower case wins; empty counts as unset.
        let cases = [
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
        ];
        assert_eq!(
            chosen(&cases, "https://a.example:443"),
            Some(("https_proxy", "http://lower:1".into()))
        );
        let empty = [("https_proxy", ""), ("HTTPS_PROXY", "http://upper:2")];
        assert_eq!(
            chosen(&empty, "https://a.example:443"),
            Some(("HTTPS_PROXY", "http://upper:2".into()))
        );
        assert_eq!(
            chosen(&[("all_proxy", "socks5://s")], "https://a.example:443"),
            Some(("all_proxy", "socks5://s:1080".into()))
        );
        assert_eq!(chosen(&[], "https://a.example:443"), None);
    }

    #[test]
    fn proxy_urls_parse_like_curl() {
        let u = ProxyUrl::parse("proxy.corp:3128").unwrap();
        assert_eq!(
            (u.kind, u.host.as_str(), u.port),
            (Kind::Http, "proxy.corp", 3128)
        );
        assert_eq!(ProxyUrl::parse("http://p").unwrap().port, 1080);
        assert_eq!(ProxyUrl::parse("https://p").unwrap().port, 443);
        assert_eq!(ProxyUrl::parse("HTTP://p:8080/").unwrap().port, 8080);
        let u = ProxyUrl::parse("socks5h://us%40er:p%3Ass@[::1]:1080").unwrap();
        assert_eq!(u.kind, Kind::Socks5h);
        assert_eq!(u.host, "::1");
        assert_eq!(u.user.as_deref(), Some("us@er"));
        assert_eq!(u.password.as_ref().map(Secret::expose), Some("p:ss"));
        assert_eq!(u.address(), "[::1]:1080");
        assert_eq!(format!("{u:?}"), "socks5h://[::1]:1080");
        for bad in [
            "not a url",
            "http://",
            "ftp://p:1",
            "socks4://p:1",
            "http://p:0",
            "http://p:99999",
            "http://p:x",
            "http://p/path",
            "http://[zz]:1",
            "http://us er:pw@p:1",
        ] {
            assert!(ProxyUrl::parse(bad).is_err(), "{bad} parsed");
        }
        let err = ProxyUrl::parse("http://user:hunter2 x@p:1").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn unparsable_value_is_an_error_naming_the_variable() {
        let e = route_with(&env(&[("HTTPS_PROXY", "not a url")]), "https", "a", 443).unwrap_err();
        assert!(e.starts_with("invalid HTTPS_PROXY: "), "{e}");
        // A broken variable that does not apply to the scheme is not read.
        assert_eq!(
            route_with(&env(&[("HTTP_PROXY", "not a url")]), "https", "a", 443),
            Ok(Route::Direct)
        );
    }

    #[test]
    fn no_proxy_lists() {
        let m = no_proxy_matches;
        assert!(m("localhost, 127.0.0.1", "127.0.0.1", 80));
        assert!(m("localhost, 127.0.0.1", "localhost", 80));
        assert!(m(" example.com ,\tother", "other", 1));
        assert!(m("127.0.0.0/8", "127.1.2.3", 80));
        assert!(!m("127.0.0.0/8", "128.0.0.1", 80));
        assert!(m("10.0.0.0/8,192.168.0.0/16", "192.168.7.1", 80));
        assert!(m("::1", "::1", 80));
        assert!(m("::1", "[::1]", 80));
        assert!(m("[::1]", "[::1]", 80));
        assert!(m("fe80::/10", "fe80::1", 80));
        assert!(m("[::1]/128", "::1", 80));
        assert!(!m("::1", "127.0.0.1", 80));
        assert!(m("127.0.0.1", "::ffff:127.0.0.1", 80));
        assert!(m(".localhost", "localhost", 80));
        assert!(m(".localhost", "app.localhost", 80));
        assert!(m("example.com", "api.example.com", 443));
        assert!(m("*.example.com", "api.example.com", 443));
        assert!(m("EXAMPLE.com", "Api.Example.COM.", 443));
        assert!(!m("example.com", "notexample.com", 443));
        assert!(!m("example.com", "example.com.evil", 443));
        assert!(m("*", "anything", 1));
        assert!(m("a, *", "anything", 1));
        // Ports restrict.
        assert!(m("example.com:443", "example.com", 443));
        assert!(!m("example.com:443", "example.com", 8443));
        assert!(m("127.0.0.1:8080", "127.0.0.1", 8080));
        assert!(!m("127.0.0.1:8080", "127.0.0.1", 8081));
        assert!(m("[::1]:8080", "::1", 8080));
        assert!(!m("[::1]:8080", "::1", 8081));
        // Names never match addresses, and loopback is not special.
        assert!(!m("localhost", "127.0.0.1", 80));
        assert!(!m("example.com", "127.0.0.1", 80));
        assert!(!m("", "localhost", 80));
        assert!(!m(",,", "localhost", 80));
        assert!(!m("127.0.0.0/33", "127.0.0.1", 80));
        assert!(m("0.0.0.0/0", "8.8.8.8", 80));
    }

    #[test]
    fn no_proxy_variables() {
        let proxy = ("HTTP_PROXY", "http://p:1");
        let r =
            |pairs: &[(&str, &str)], host: &str| route_with(&env(pairs), "http", host, 80).unwrap();
        assert_eq!(
            r(&[proxy, ("NO_PROXY", "localhost")], "localhost"),
            Route::Bypass { var: "NO_PROXY" }
        );
        // An empty NO_PROXY does not hide no_proxy, and lower case wins.
        assert_eq!(
            r(
                &[proxy, ("NO_PROXY", ""), ("no_proxy", "localhost")],
                "localhost"
            ),
            Route::Bypass { var: "no_proxy" }
        );
        assert!(matches!(
            r(
                &[proxy, ("no_proxy", "other"), ("NO_PROXY", "localhost")],
                "localhost"
            ),
            Route::Proxy(_)
        ));
        // Loopback goes through the proxy unless listed.
        assert!(matches!(r(&[proxy], "127.0.0.1"), Route::Proxy(_)));
        assert!(matches!(r(&[proxy], "localhost"), Route::Proxy(_)));
    }

    #[test]
    fn base_urls() {
        let e = env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "[::1]:8443")]);
        let get = |base: &str| {
            let (scheme, host, port) = split_base(base);
            route_with(&e, scheme, host, port).unwrap()
        };
        assert_eq!(split_base("https://[::1]:8443"), ("https", "::1", 8443));
        assert_eq!(split_base("http://localhost"), ("http", "localhost", 80));
        assert_eq!(
            split_base("https://api.baseten.co"),
            ("https", "api.baseten.co", 443)
        );
        assert_eq!(get("https://[::1]:8443"), Route::Bypass { var: "NO_PROXY" });
        assert!(matches!(get("https://[::1]:8444"), Route::Proxy(_)));
        assert!(matches!(get("https://api.baseten.co"), Route::Proxy(_)));
    }
}
