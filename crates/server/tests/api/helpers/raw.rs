//! A client that speaks HTTP/1.1 by hand over a bare socket, to be as slow, silent or rude as
//! the tests of the connection limits need.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct RawClient(TcpStream);

impl RawClient {
    /// Connects to the server at `base_url` (`http://host:port`).
    pub async fn connect(base_url: &str) -> Self {
        let addr = base_url.strip_prefix("http://").expect("an http base URL");
        Self(TcpStream::connect(addr).await.expect("connect"))
    }

    /// Sends `bytes`; false when the server has already closed the connection.
    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        self.0.write_all(bytes).await.is_ok()
    }

    /// Everything the server sends until it closes the connection, or `None` if it is still
    /// open after `limit`. A reset counts as closed.
    pub async fn read_until_closed(&mut self, limit: Duration) -> Option<Vec<u8>> {
        let mut received = Vec::new();
        let read = async {
            let mut buffer = [0u8; 8192];
            loop {
                match self.0.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received.extend_from_slice(&buffer[..n]),
                }
            }
        };
        tokio::time::timeout(limit, read).await.ok()?;
        Some(received)
    }

    /// Whatever the server sends within `limit`, as text; empty when it sends nothing.
    pub async fn read_for(&mut self, limit: Duration) -> String {
        let mut received = Vec::new();
        let mut buffer = [0u8; 8192];
        let deadline = tokio::time::Instant::now() + limit;
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, self.0.read(&mut buffer)).await {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&received).into_owned()
    }
}

/// A complete `GET path` that asks the server to close the connection after answering.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: wxlogin\r\nConnection: close\r\n\r\n").into_bytes()
}
