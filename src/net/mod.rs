//! Talking to the management API over the network (SPEC §4, §4a): the client, the proxy
//! route a request takes, and what a failure on the way says.

pub mod client;
mod failure;
pub mod proxy;

use crate::origin::Origin;

/// Where requests go: an API base and the route to it, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The API's origin.
    pub base: Origin,
    /// Direct, or through which proxy.
    pub route: proxy::Route,
}
