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

use std::fmt;
use std::net::IpAddr;

use ureq::{Proxy, ProxyProtocol};

use crate::origin::{Host, Origin, Scheme};
use crate::sanitize::clean;
use crate::vars;

/// Parses a proxy URL, `[scheme://][user[:password]@]host[:port][/]`, into the proxy
/// ureq takes: ureq reads the credentials (percent-decoded); the checks here are what
/// ureq would accept and curl would not (SOCKS4, a path, a port of 0), curl's port 1080
/// for a proxy that names none, and errors in words that never repeat the credentials.
pub fn parse(raw: &str) -> Result<Proxy, String> {
    let raw = raw.trim();
    let (scheme, rest) = raw.split_once("://").unwrap_or(("http", raw));
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "socks5" | "socks5h") {
        return Err(format!(
            "unsupported proxy scheme {:?}: use http, https, socks5 or socks5h",
            clean(&scheme)
        ));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let authority = rest.rsplit_once('@').map_or(rest, |(_, a)| a);
    if authority.contains(['/', '?', '#']) {
        return Err("a proxy URL has no path, query or fragment".into());
    }
    let port = match check_host_port(authority)? {
        Some(_) => "",
        None if scheme == "https" => ":443",
        None => ":1080",
    };
    Proxy::new(&format!("{scheme}://{rest}{port}")).map_err(|_| {
        "the user name or password in the proxy URL is not valid (percent-encode special characters)".into()
    })
}

/// Checks `host[:port]` / `[v6][:port]` is a name or an address with a valid port, and
/// returns the port when there is one.
fn check_host_port(authority: &str) -> Result<Option<u16>, String> {
    let shown = || format!("{:?} is not a proxy host", clean(authority));
    let (host_ok, port) = match authority.strip_prefix('[') {
        Some(inner) => {
            let (v6, after) = inner.split_once(']').ok_or_else(shown)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(shown)?),
            };
            (v6.parse::<std::net::Ipv6Addr>().is_ok(), port)
        }
        None => {
            let (host, port) = match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
            let ok = !host.is_empty() && host.chars().all(valid) && !host.starts_with(['.', '-']);
            (ok, port)
        }
    };
    if !host_ok {
        return Err(shown());
    }
    port.map(|p| match p.parse::<u16>() {
        Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("invalid proxy port {:?}", clean(p))),
    })
    .transpose()
}

/// The proxy chosen for one URL, and the variable it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The variable as set, e.g. `HTTPS_PROXY` or `all_proxy`.
    pub var: &'static str,
    /// The proxy that variable names.
    pub proxy: Proxy,
}

// Never shows the credentials, whatever formats it.
impl std::fmt::Debug for Chosen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Chosen {
    /// `host:port` (`[v6]:port`) of the proxy, the form errors show: no credentials.
    pub fn address(&self) -> String {
        format!("{}:{}", self.proxy.host(), self.proxy.port())
    }

    /// `socks5h://127.0.0.1:1080 (from ALL_PROXY)`, without credentials.
    pub fn describe(&self) -> String {
        let scheme = match self.proxy.protocol() {
            ProxyProtocol::Https => "https",
            ProxyProtocol::Socks5 => "socks5",
            ProxyProtocol::Socks5h => "socks5h",
            _ => "http",
        };
        format!("{scheme}://{} (from {})", self.address(), self.var)
    }

    /// Whether this is a SOCKS5 proxy (rather than HTTP CONNECT).
    pub fn is_socks(&self) -> bool {
        matches!(
            self.proxy.protocol(),
            ProxyProtocol::Socks5 | ProxyProtocol::Socks5h
        )
    }
}

/// What the environment says about one URL: how requests reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Straight to the server: no proxy variable applies.
    Direct,
    /// Straight to the server because `var` (`NO_PROXY`/`no_proxy`) lists it.
    Bypass {
        /// The variable that lists the server.
        var: &'static str,
    },
    /// Through a proxy.
    Proxy(Chosen),
}

/// The proxy variables of a run, read once from the environment handed to resolution,
/// so that every route of the run (the working remote's, a stored account's) comes from
/// the same values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyVars(Vec<(&'static str, String)>);

impl ProxyVars {
    /// The proxy variables `env` sets (`None`: unset).
    pub fn read(env: &dyn Fn(&str) -> Option<String>) -> ProxyVars {
        let names = [
            vars::HTTPS_PROXY,
            vars::HTTP_PROXY,
            vars::ALL_PROXY,
            vars::NO_PROXY,
        ];
        let set = names.into_iter().flatten();
        ProxyVars(set.filter_map(|n| env(n).map(|v| (n, v))).collect())
    }

    /// The route to `origin` under these variables. The error (a usage error) names the
    /// variable that cannot be parsed.
    pub fn route(&self, origin: &Origin) -> Result<Route, String> {
        let get = |name: &str| {
            self.0
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        route_with(&get, origin)
    }
}

/// Names only: a proxy URL may hold a password.
impl fmt::Debug for ProxyVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
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

/// The route to `origin` under the variables `env` gives.
pub fn route_with(env: &dyn Fn(&str) -> Option<String>, origin: &Origin) -> Result<Route, String> {
    let specific: &[&'static str] = match origin.scheme {
        Scheme::Http => &vars::HTTP_PROXY,
        Scheme::Https => &vars::HTTPS_PROXY,
    };
    let Some((var, value)) = first_set(env, specific).or_else(|| first_set(env, &vars::ALL_PROXY))
    else {
        return Ok(Route::Direct);
    };
    let proxy = parse(&value).map_err(|e| format!("invalid {var}: {e}"))?;
    if let Some((no_var, list)) = first_set(env, &vars::NO_PROXY)
        && no_proxy_matches(&list, &origin.host, origin.port)
    {
        return Ok(Route::Bypass { var: no_var });
    }
    Ok(Route::Proxy(Chosen { var, proxy }))
}

/// Whether the `NO_PROXY` list `list` exempts `host` on `port`.
pub fn no_proxy_matches(list: &str, host: &Host, port: u16) -> bool {
    let (name, ip) = match host {
        Host::Name(name) => (name.strip_suffix('.').unwrap_or(name), None),
        Host::V4(ip) => ("", Some(IpAddr::V4(*ip))),
        Host::V6(ip) => ("", Some(IpAddr::V6(*ip))),
    };
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| entry_matches(entry, name, ip, port))
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

    fn origin(url: &str) -> Origin {
        Origin::parse(url).unwrap()
    }

    fn chosen(pairs: &[(&str, &str)], url: &str) -> Option<(&'static str, String)> {
        match route_with(&env(pairs), &origin(url)).unwrap() {
            Route::Proxy(c) => Some((c.var, c.describe().split(' ').next().unwrap().into())),
            _ => None,
        }
    }

    #[test]
    fn per_scheme_variables_follow_curl() {
        let p = "http://proxy:3128";
        // HTTP_PROXY is for http:// only.
        assert_eq!(chosen(&[("HTTP_PROXY", p)], "https://a.example:443"), None);
        assert_eq!(
            chosen(&[("HTTP_PROXY", p)], "http://localhost"),
            Some(("HTTP_PROXY", "http://proxy:3128".into()))
        );
        assert_eq!(chosen(&[("HTTPS_PROXY", p)], "http://localhost"), None);
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
            chosen(&both, "http://localhost"),
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
        let p = parse("proxy.corp:3128").unwrap();
        assert_eq!(
            (p.protocol(), p.host(), p.port()),
            (ProxyProtocol::Http, "proxy.corp", 3128)
        );
        assert_eq!(parse("http://p").unwrap().port(), 1080);
        assert_eq!(parse("https://p").unwrap().port(), 443);
        assert_eq!(parse("socks5://p").unwrap().port(), 1080);
        assert_eq!(parse("HTTP://p:8080/").unwrap().port(), 8080);
        let p = parse("socks5h://us%40er:p%3Ass@[::1]:1080").unwrap();
        assert_eq!(p.protocol(), ProxyProtocol::Socks5h);
        assert!(!p.resolve_target());
        assert!(parse("socks5://s").unwrap().resolve_target());
        assert_eq!(p.username(), Some("us@er"));
        assert_eq!(p.password(), Some("p:ss"));
        let chosen = Chosen {
            var: "ALL_PROXY",
            proxy: p,
        };
        assert_eq!(chosen.address(), "[::1]:1080");
        assert_eq!(
            format!("{chosen:?}"),
            "socks5h://[::1]:1080 (from ALL_PROXY)"
        );
        for bad in [
            "not a url",
            "http://",
            "ftp://p:1",
            "socks4://p:1",
            "socks://p:1",
            "http://p:0",
            "http://p:99999",
            "http://p:x",
            "http://p/path",
            "http://p?q",
            "http://[zz]:1",
            "http://us er:pw@p:1",
        ] {
            assert!(parse(bad).is_err(), "{bad} parsed");
        }
        assert_eq!(parse("corp_proxy:3128").unwrap().host(), "corp_proxy");
        let err = parse("http://user:hunter2 x@p:1").unwrap_err();
        assert_eq!(
            err,
            "the user name or password in the proxy URL is not valid (percent-encode special characters)"
        );
        assert_eq!(
            parse("socks4://p:1").unwrap_err(),
            "unsupported proxy scheme \"socks4\": use http, https, socks5 or socks5h"
        );
        assert_eq!(
            parse("http://p/x").unwrap_err(),
            "a proxy URL has no path, query or fragment"
        );
    }

    #[test]
    fn unparsable_value_is_an_error_naming_the_variable() {
        let a = origin("https://a");
        let e = route_with(&env(&[("HTTPS_PROXY", "not a url")]), &a).unwrap_err();
        assert!(e.starts_with("invalid HTTPS_PROXY: "), "{e}");
        // A broken variable that does not apply to the scheme is not read.
        assert_eq!(
            route_with(&env(&[("HTTP_PROXY", "not a url")]), &a),
            Ok(Route::Direct)
        );
    }

    #[test]
    fn no_proxy_lists() {
        let m = |list: &str, host: &str, port: u16| {
            no_proxy_matches(list, &origin(&format!("https://{host}")).host, port)
        };
        assert!(m("localhost, 127.0.0.1", "127.0.0.1", 80));
        assert!(m("localhost, 127.0.0.1", "localhost", 80));
        assert!(m(" example.com ,\tother", "other", 1));
        assert!(m("127.0.0.0/8", "127.1.2.3", 80));
        assert!(!m("127.0.0.0/8", "128.0.0.1", 80));
        assert!(m("10.0.0.0/8,192.168.0.0/16", "192.168.7.1", 80));
        assert!(m("::1", "[::1]", 80));
        assert!(m("[::1]", "[::1]", 80));
        assert!(m("fe80::/10", "[fe80::1]", 80));
        assert!(m("[::1]/128", "[::1]", 80));
        assert!(!m("::1", "127.0.0.1", 80));
        assert!(m("127.0.0.1", "[::ffff:127.0.0.1]", 80));
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
        assert!(m("[::1]:8080", "[::1]", 8080));
        assert!(!m("[::1]:8080", "[::1]", 8081));
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
        let r = |pairs: &[(&str, &str)], host: &str| {
            route_with(&env(pairs), &origin(&format!("http://{host}"))).unwrap()
        };
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
    fn origins() {
        let e = env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "[::1]:8443")]);
        let get = |base: &str| route_with(&e, &origin(base)).unwrap();
        assert_eq!(get("https://[::1]:8443"), Route::Bypass { var: "NO_PROXY" });
        assert!(matches!(get("https://[::1]:8444"), Route::Proxy(_)));
        assert!(matches!(get("https://api.baseten.co"), Route::Proxy(_)));
        let e = env(&[
            ("HTTPS_PROXY", "http://p:1"),
            ("NO_PROXY", "example.com:443"),
        ]);
        assert_eq!(
            route_with(&e, &origin("https://api.example.com/")),
            Ok(Route::Bypass { var: "NO_PROXY" })
        );
    }
}
