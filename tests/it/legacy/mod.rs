//! The legacy layout of the official CLI (SPEC §7): the file read as it is and converted
//! on the first write, and legacy keyring items moved once. Deleting that layout one day
//! means deleting these tests.

mod file;
mod keyring;
