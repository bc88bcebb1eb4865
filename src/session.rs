//! The life of an OAuth session: a token pair made from a token response, counted as
//! expired a little before its expiry, and refreshed. It is not a command but what
//! several commands share, between the server ([`api`](crate::api)) and the store
//! ([`store`](crate::store)). Two ways to get a usable pair, named for whether the
//! refresh is saved: [`usable_saving_refresh`] for accounts that stay
//! ([`token`](crate::commands::token), [`whoami`](crate::commands::whoami)),
//! [`usable_without_saving`] for one about to be removed
//! ([`logout`](crate::commands::logout)).
//!
//! No refresh happens under the `auth.json` lock (a slow server must not block commands
//! on other accounts); runs refreshing the same account take a per-account lock instead,
//! and the one that waited uses the pair the other saved, so a single-use refresh token
//! is traded once.

use jiff::Timestamp;

use crate::api::{Api, TokenResponse};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::{Account, Credential, Expiry, OAuthCredential, Refreshed, Snapshot, Store};

/// Seconds before the recorded expiry at which an access token counts as expired.
const EXPIRY_MARGIN: i64 = 10;

/// A stored credential from a token response; a refresh that returns no new refresh
/// token keeps the `previous` one.
pub fn credential_from(token: TokenResponse, previous: Option<&Secret>) -> OAuthCredential {
    let expiry = token.expires_in.map(|s| {
        // Whole seconds, as the expiry has always been written; past the last date jiff
        // knows, that date.
        let at = Timestamp::now()
            .as_second()
            .saturating_add(i64::try_from(s).unwrap_or(i64::MAX));
        Timestamp::from_second(at).unwrap_or(Timestamp::MAX)
    });
    OAuthCredential::new(
        token.access_token,
        token
            .refresh_token
            .or_else(|| previous.cloned())
            .unwrap_or_default(),
        Expiry::new(expiry),
    )
}

/// Whether the access token has expired (or is about to).
pub fn is_expired(cred: &OAuthCredential) -> bool {
    cred.expiry.at.is_some_and(|t| {
        Timestamp::now().as_second() >= t.as_second().saturating_sub(EXPIRY_MARGIN)
    })
}

/// `cred`, or a refreshed pair when it has expired, not saved: for a credential that is
/// about to be discarded.
pub fn usable_without_saving(api: &Api, cred: OAuthCredential) -> Result<OAuthCredential> {
    if !is_expired(&cred) {
        return Ok(cred);
    }
    refresh_with(api, &cred)
}

/// `cred` (the account's current pair), or when it has expired a refreshed pair, saved
/// where the old one was before it is returned. Fails before spending the refresh token
/// when the store could not save its replacement. When a login or refresh of the
/// account landed while this one was at the server, that pair wins and the new session
/// is revoked.
pub fn usable_saving_refresh(
    store: &Store<'_>,
    api: &Api,
    account: &Account,
    cred: OAuthCredential,
) -> Result<OAuthCredential> {
    if !is_expired(&cred) {
        return Ok(cred);
    }
    let _refreshing = store.lock_account(&account.name)?;
    // Another run may have refreshed it while this one waited for the lock.
    let removed = || Error::failure(format!("account {:?} was removed", account.name));
    let current = Snapshot::new(&store.read()?)?
        .get(&account.name)?
        .ok_or_else(removed)?;
    let Credential::OAuth(cred) = store.secret(&current)? else {
        return Err(removed());
    };
    if !is_expired(&cred) {
        return Ok(cred);
    }
    let plan = store.prepare_refresh(&current)?;
    let new = refresh_with(api, &cred)?;
    let saved = store.save_refresh(plan, &account.name, &cred, new.clone());
    match saved {
        Ok(Refreshed::Saved(saved)) => {
            saved.warn_if_fell_back();
            Ok(new)
        }
        Ok(Refreshed::Superseded(current)) => {
            revoke_unneeded(api, &new);
            Ok(current)
        }
        Err(e) => {
            revoke_unneeded(api, &new);
            Err(e)
        }
    }
}

/// Revokes a session that no account keeps, best effort.
fn revoke_unneeded(api: &Api, cred: &OAuthCredential) {
    if let Err(e) = api.revoke(&cred.access_token) {
        crate::ui::debug!("the unneeded session was not revoked: {e}");
    }
}

/// Trades `cred`'s refresh token for a new pair.
fn refresh_with(api: &Api, cred: &OAuthCredential) -> Result<OAuthCredential> {
    if cred.refresh_token.is_empty() {
        return Err(Error::Auth(
            "the access token expired and there is no refresh token; run `baseten auth login` again"
                .into(),
        ));
    }
    let token = api.refresh(&cred.refresh_token)?;
    Ok(credential_from(token, Some(&cred.refresh_token)))
}
