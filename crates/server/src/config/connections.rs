//! How long a client may take over each part of a request, and how many connections may be
//! open at once. Enforced in `connections/`.

use std::time::Duration;

/// The connection limits: without them a client that sends nothing, or one byte now and then,
/// holds its connection and a file descriptor for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once; past it new ones wait in the listen backlog.
    pub max_connections: usize,
    /// A request's head must arrive in full within this, counted from when the connection is
    /// ready for a request: so it also bounds how long a keep-alive connection may sit unused.
    pub header_timeout: Duration,
    /// A request's body must arrive in full within this, counted from its head.
    pub body_timeout: Duration,
    /// A connection on which no byte moves either way for this long, while the server is not
    /// working on one of its requests, is closed: a client that stopped reading its answer.
    pub idle_timeout: Duration,
}

/// Defaults: far more than any honest client needs, far less than for ever.
pub(super) const DEFAULT_MAX_CONNECTIONS: u64 = 1_024;
pub(super) const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
pub(super) const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
pub(super) const DEFAULT_IDLE_TIMEOUT_MS: u64 = 30_000;
/// No timeout may be longer than an hour, nor the cap above what a process can open.
pub(super) const MAX_TIMEOUT_MS: u64 = 3_600_000;
pub(super) const MAX_CONNECTIONS: u64 = 1_000_000;
