//! The token vocabulary shared by every part of wxlogin.
//!
//! This crate owns what a wxlogin access token says and the rules applied to it. It must never do
//! I/O (no sockets, files, clocks or randomness): the server, the WebAssembly build for the mini
//! program and the tests all link it, and they must agree on every answer. Callers pass the
//! current time in.

pub mod claims;
pub mod rules;
pub mod unverified;

pub use claims::{Claims, ISSUER};
pub use rules::{is_expired, should_renew};
pub use unverified::{read_claims, read_expiry, TokenError, UnverifiedClaims};
