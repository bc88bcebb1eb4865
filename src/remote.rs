//! The remote of a run (SPEC §3): which Baseten deployment we talk to, its store key, and
//! the management API base derived from it with the proxy route to that base, resolved
//! once.

use crate::net::{Endpoint, proxy};
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
    /// The management API base and the proxy route to it, resolved once; or why no
    /// request may be sent (unusable proxy variables, a remote against the rules).
    api: Result<Endpoint, String>,
}

impl Remote {
    /// The remote `url` with an optional management-base override; the proxy route to
    /// the API base is resolved here, once, from the environment.
    pub fn new(url: Origin, api_override: Option<Origin>, explicit: bool) -> Remote {
        let base = api_override
            .clone()
            .unwrap_or_else(|| url.management_base());
        Remote {
            url: url.to_string(),
            explicit,
            api_override,
            api: proxy::route(&base).map(|route| Endpoint { base, route }),
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
                Ok(origin) => Remote::new(origin, None, self.explicit).api,
                Err(rule) => Err(format!("its remote_url in auth.json is refused: {rule}")),
            }
        };
        Remote {
            url: url.to_owned(),
            explicit: self.explicit,
            api_override: self.api_override.clone(),
            api,
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

    fn api(remote: &Remote) -> String {
        remote.endpoint().unwrap().base.to_string()
    }

    #[test]
    fn derives_management_base() {
        let base = |u: &str| api(&Remote::new(Origin::parse(u).unwrap(), None, false));
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
        );
        assert_eq!(r.url, "https://app.baseten.co");
        assert_eq!(api(&r), "http://127.0.0.1:9");
        let other = r.of_account("https://app.example.com");
        assert_eq!(other.url, "https://app.example.com");
        assert_eq!(api(&other), "http://127.0.0.1:9");
    }

    #[test]
    fn an_account_brings_its_own_base() {
        let r = Remote::new(Origin::parse(DEFAULT_REMOTE).unwrap(), None, false);
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
}
