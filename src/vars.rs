//! The names of the environment variables the program reads, in one place: the code that
//! reads a variable names it from here, and so does the ENVIRONMENT table of the help and
//! man page (`cli::defs::ENVIRONMENT`), which a test holds to the README's table. A
//! variable read anywhere under another spelling is a bug this module exists to prevent.
//! Only `PATH`, searched for a browser opener, and jq's `$ENV` are read without a name
//! here: neither is a setting of this program.

/// An API key that overrides stored credentials.
pub const API_KEY: &str = "BASETEN_API_KEY";
/// A file whose first line is that API key.
pub const API_KEY_FILE: &str = "BASETEN_API_KEY_FILE";
/// A stored account to use, by name (the official CLI's variable).
pub const PROFILE: &str = "BASETEN_PROFILE";
/// The remote.
pub const REMOTE_URL: &str = "BASETEN_REMOTE_URL";
/// The management API base.
pub const MANAGEMENT_API_URL_OVERRIDE: &str = "BASETEN_MANAGEMENT_API_URL_OVERRIDE";
/// The config directory.
pub const CONFIG_DIR: &str = "BASETEN_CONFIG_DIR";
/// The XDG base of the default config directory.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The home directory, the base of the default config directory otherwise.
pub const HOME: &str = "HOME";
/// On Windows, the base of the default config directory.
pub const APPDATA: &str = "APPDATA";
/// The program that opens the login page.
pub const BROWSER: &str = "BROWSER";
/// Set when a graphical session exists (X11, Wayland): a browser and an unlock prompt
/// can be shown.
pub const DISPLAYS: [&str; 2] = ["DISPLAY", "WAYLAND_DISPLAY"];
/// Set in an SSH session: a browser started here would open on the wrong machine.
pub const SSH: [&str; 2] = ["SSH_CONNECTION", "SSH_TTY"];
/// Set under WSL: the login page opens in Windows.
pub const WSL_DISTRO_NAME: &str = "WSL_DISTRO_NAME";
/// The proxy for `https://` requests; each proxy pair is in curl's order: the
/// lower-case spelling wins.
pub const HTTPS_PROXY: [&str; 2] = ["https_proxy", "HTTPS_PROXY"];
/// The proxy for `http://` requests.
pub const HTTP_PROXY: [&str; 2] = ["http_proxy", "HTTP_PROXY"];
/// The proxy for either scheme when its own is unset.
pub const ALL_PROXY: [&str; 2] = ["all_proxy", "ALL_PROXY"];
/// The hosts reached without a proxy.
pub const NO_PROXY: [&str; 2] = ["no_proxy", "NO_PROXY"];
/// Extra trust roots, read by the platform verifier (OpenSSL's names).
pub const SSL_CERT: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];
