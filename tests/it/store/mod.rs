//! `auth.json`, the file half of the credential store (SPEC §7): its format and where it
//! lives, files the official CLI wrote, hostile local state, and the lock, atomic
//! writes and crashes.

mod file;
pub(crate) mod local_state;
pub(crate) mod locks;
pub(crate) mod official;
