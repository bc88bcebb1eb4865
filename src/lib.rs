//! The `baseten` command line as a library: the binary (`main.rs`) is a thin shell over
//! it, and the fuzz targets drive the same parser and decoders the binary uses.

// Both would build: the vendored copy would win, silently.
#[cfg(all(feature = "system-dbus", feature = "vendored-dbus"))]
compile_error!(
    "the system-dbus feature replaces the vendored libdbus: build with \
     --no-default-features --features system-dbus"
);

pub mod api;
pub mod browser;
pub mod cli;
pub mod commands;
pub mod core_dumps;
pub mod device_flow;
pub mod error;
pub mod jq;
pub mod net;
pub mod origin;
pub mod output;
pub mod remote;
pub mod sanitize;
pub mod secret;
pub mod session;
pub mod store;
pub mod terminal;
pub mod ui;
pub mod vars;
