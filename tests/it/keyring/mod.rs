//! The credential store's keyring half (SPEC §7): against a real Secret Service, and the
//! plain-text fallback when there is none or it does not answer.

mod fallback;
pub(crate) mod secret_service;
