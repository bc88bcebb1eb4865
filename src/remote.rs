//! The remote of a run (SPEC §3): which Baseten deployment we talk to, its store key, and
//! the management API base derived from it with the proxy route to that base, resolved
//! once.

use crate::net::Endpoint;
use crate::net::proxy::ProxyVars;
use crate::origin::Origin;

/// The default remote when neither `--remote-url` nor `BASETEN_REMOTE_URL` is set.
pub const DEFAULT_REMOTE: &str = "https://app.baseten.co";

/// A resolved remote: the store key, and where its management API requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The key credentials are stored under: an [`Origin`]'s text, or for an account
    /// read from auth.json, its remote as written there (compared as the store does).
    pub url: String,
    /// Whether the user named it (`--remote-url` or `BASETEN_REMOTE_URL`) rather than
    /// it being the default: an account chosen by name must then belong to it.
    pub explicit: bool,
    /// `BASETEN_MANAGEMENT_API_URL_OVERRIDE`, which applies to every remote.
    api_override: Option<Origin>,
    /// The proxy variables of the run, for the route to another account's remote.
    proxies: ProxyVars,
    /// The management API base and the proxy route to it, resolved once; or why no
    /// request may be sent (unusable proxy variables, a remote against the rules).
    api: Result<Endpoint, String>,
}

impl Remote {
    /// The remote `url` with an optional management-base override; the proxy route to
    /// the API base is resolved here, once, from `proxies`.
    pub fn new(
        url: Origin,
        api_override: Option<Origin>,
        explicit: bool,
        proxies: ProxyVars,
    ) -> Remote {
        let base = api_override
            .clone()
            .unwrap_or_else(|| url.management_base());
        Remote {
            url: url.to_string(),
            explicit,
            api_override,
            api: proxies.route(&base).map(|route| Endpoint { base, route }),
            proxies,
        }
    }

    /// The remote of an account stored under `url`, with the same management-base
    /// override; the route is resolved again only for another API base. No request goes
    /// to a stored remote against the rules (SPEC §7).
    pub fn of_account(&self, url: &str) -> Remote {
        let api = if url == self.url || self.api_override.is_some() {
            self.api.clone()
        } else {
            match Origin::parse(url) {
                Ok(origin) => Remote::new(origin, None, self.explicit, self.proxies.clone()).api,
                Err(rule) => Err(format!("its remote_url in auth.json is refused: {rule}")),
            }
        };
        Remote {
            url: url.to_owned(),
            explicit: self.explicit,
            api_override: self.api_override.clone(),
            api,
            proxies: self.proxies.clone(),
        }
    }

    /// Where the management API is and how to reach it; the error (a usage error:
    /// unusable proxy variables) says why no request may be sent.
    pub fn endpoint(&self) -> Result<&Endpoint, String> {
        self.api.as_ref().map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::proxy;

    fn api(remote: &Remote) -> String {
        remote.endpoint().unwrap().base.to_string()
    }

    #[test]
    fn derives_management_base() {
        let base = |u: &str| {
            api(&Remote::new(
                Origin::parse(u).unwrap(),
                None,
                false,
                ProxyVars::default(),
            ))
        };
        assert_eq!(base("https://app.baseten.co"), "https://api.baseten.co");
        assert_eq!(
            base("https://app.staging.baseten.co/"),
            "https://api.staging.baseten.co"
        );
        assert_eq!(
            base("https://example.com:8443"),
            "https://api.example.com:8443"
        );
    }

    #[test]
    fn override_replaces_base_but_not_key() {
        let origin = |u: &str| Origin::parse(u).unwrap();
        let r = Remote::new(
            origin("https://app.baseten.co"),
            Some(origin("http://127.0.0.1:9")),
            true,
            ProxyVars::default(),
        );
        assert_eq!(r.url, "https://app.baseten.co");
        assert_eq!(api(&r), "http://127.0.0.1:9");
        let other = r.of_account("https://app.example.com");
        assert_eq!(other.url, "https://app.example.com");
        assert_eq!(api(&other), "http://127.0.0.1:9");
    }

    #[test]
    fn an_account_brings_its_own_base() {
        let r = Remote::new(
            Origin::parse(DEFAULT_REMOTE).unwrap(),
            None,
            false,
            ProxyVars::default(),
        );
        assert_eq!(
            api(&r.of_account("https://app.example.com:8443")),
            "https://api.example.com:8443"
        );
        // A stored remote against the rules keeps its key, and no request goes to it.
        let bad = r.of_account("http://10.0.0.1");
        assert_eq!(bad.url, "http://10.0.0.1");
        let why = bad.endpoint().unwrap_err();
        assert!(
            why.contains("plain http is only allowed for localhost"),
            "{why}"
        );
    }

    #[test]
    fn an_accounts_remote_is_routed_by_the_proxy_variables_of_the_run() {
        let env = |name: &str| match name {
            "HTTPS_PROXY" => Some("http://proxy.example:3128".to_owned()),
            "NO_PROXY" => Some("api.example.com".to_owned()),
            _ => None,
        };
        let r = Remote::new(
            Origin::parse(DEFAULT_REMOTE).unwrap(),
            None,
            false,
            ProxyVars::read(&env),
        );
        let via = |remote: &Remote| match &remote.endpoint().unwrap().route {
            proxy::Route::Proxy(chosen) => format!("proxy from {}", chosen.var),
            proxy::Route::Bypass { var } => format!("direct by {var}"),
            proxy::Route::Direct => "direct".to_owned(),
        };
        assert_eq!(via(&r), "proxy from HTTPS_PROXY");
        assert_eq!(
            via(&r.of_account("https://app.other.example")),
            "proxy from HTTPS_PROXY"
        );
        assert_eq!(
            via(&r.of_account("https://app.example.com")),
            "direct by NO_PROXY"
        );
    }

    #[test]
    fn proxy_variables_debug_shows_names_only() {
        let env = |name: &str| (name == "https_proxy").then(|| "http://u:hunter2@p:1".to_owned());
        let shown = format!("{:?}", ProxyVars::read(&env));
        assert_eq!(shown, r#"["https_proxy"]"#);
    }
}
