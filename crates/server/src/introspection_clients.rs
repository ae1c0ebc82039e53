//! The services allowed to introspect tokens, and the check of their credentials.
//!
//! Secrets are kept and compared as SHA-256 digests, in constant time and against every client,
//! so that neither the time an answer takes nor a secret's length tells a caller how close a
//! guess came or which client matched. Knows nothing of HTTP.

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::config::IntrospectionClient;

pub struct IntrospectionClients {
    clients: Vec<(String, [u8; 32])>,
}

impl IntrospectionClients {
    pub fn new(clients: &[IntrospectionClient]) -> Self {
        Self {
            clients: clients
                .iter()
                .map(|client| (client.id.clone(), digest(client.secret.expose_secret())))
                .collect(),
        }
    }

    /// Whether any client is configured; with none, introspection does not exist.
    pub fn any(&self) -> bool {
        !self.clients.is_empty()
    }

    /// Whether `id` and `secret` are the credentials of a configured client.
    pub fn authenticate(&self, id: &str, secret: &str) -> bool {
        let presented = digest(secret);
        let mut matched = Choice::from(0);
        for (client_id, secret_digest) in &self.clients {
            // Ids are not secret, but comparing them the same way keeps the loop's time flat.
            matched |= client_id.as_bytes().ct_eq(id.as_bytes()) & secret_digest.ct_eq(&presented);
        }
        matched.into()
    }
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str, secret: &str) -> IntrospectionClient {
        IntrospectionClient {
            id: id.to_owned(),
            secret: secret.to_owned().into(),
        }
    }

    #[test]
    fn only_a_configured_pair_authenticates() {
        let clients = IntrospectionClients::new(&[
            client("orders", "orders-secret-0123456789abcdef0123"),
            client("pay", "pay-secret-0123456789abcdef0123456"),
        ]);
        assert!(clients.any());
        assert!(clients.authenticate("orders", "orders-secret-0123456789abcdef0123"));
        assert!(clients.authenticate("pay", "pay-secret-0123456789abcdef0123456"));
        assert!(!clients.authenticate("orders", "pay-secret-0123456789abcdef0123456"));
        assert!(!clients.authenticate("orders", "orders-secret-0123456789abcdef012"));
        assert!(!clients.authenticate("nobody", "orders-secret-0123456789abcdef0123"));
        assert!(!clients.authenticate("", ""));
        assert!(!IntrospectionClients::new(&[]).any());
    }
}
