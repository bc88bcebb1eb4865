//! The network (SPEC §4, §4a, §8): proxies by curl's rules, TLS failures in words, and
//! what a hostile or broken server can and cannot do.

mod hostile_server;
mod proxy;
mod tls;
