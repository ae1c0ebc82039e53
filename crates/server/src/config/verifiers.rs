//! What the team's other services rely on: the audiences wxlogin's tokens name
//! (`TOKEN_AUDIENCE`), and the services allowed to introspect tokens (`INTROSPECTION_CLIENTS`).
//!
//! No message here may contain a client secret, not even one too short to be used.

use secrecy::SecretString;

use super::ConfigError;

/// A service allowed to ask whether a token is live (`POST /api/auth/introspect`).
#[derive(Debug, Clone)]
pub struct IntrospectionClient {
    pub id: String,
    pub secret: SecretString,
}

/// `TOKEN_AUDIENCE`: comma-separated audience names, none when unset.
pub(super) fn token_audience(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `INTROSPECTION_CLIENTS`: comma-separated `id:secret` pairs, none when unset.
pub(super) fn introspection_clients(
    value: Option<String>,
) -> Result<Vec<IntrospectionClient>, ConfigError> {
    let problem = |problem: String| ConfigError {
        variable: "INTROSPECTION_CLIENTS",
        problem,
    };
    let mut clients: Vec<IntrospectionClient> = Vec::new();
    let entries = value.unwrap_or_default();
    let entries = entries.split(',').map(str::trim).filter(|e| !e.is_empty());
    for (number, entry) in entries.enumerate() {
        // The entry is never echoed: without its colon it may be nothing but a secret.
        let (id, secret) = entry
            .split_once(':')
            .map(|(id, secret)| (id.trim(), secret.trim()))
            .filter(|(id, _)| !id.is_empty())
            .ok_or_else(|| problem(format!("entry {} is not id:secret", number + 1)))?;
        // A client secret is a service's password: held to the rules of the signing secrets.
        let secret = super::secrets::strong("INTROSPECTION_CLIENTS", secret.to_owned())
            .map_err(|err| problem(format!("client {id:?}: its secret {}", err.problem)))?;
        if clients.iter().any(|client| client.id == id) {
            return Err(problem(format!("names client {id:?} twice")));
        }
        clients.push(IntrospectionClient {
            id: id.to_owned(),
            secret: secret.into(),
        });
    }
    Ok(clients)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const SECRET: &str = "orders-introspection-secret-0123456789";

    #[test]
    fn audience_names_are_trimmed_and_blank_ones_dropped() {
        assert!(token_audience(None).is_empty());
        assert_eq!(
            token_audience(Some(" orders, ,content ".into())),
            ["orders", "content"]
        );
    }

    #[test]
    fn clients_are_id_secret_pairs_whose_secret_may_hold_colons() {
        assert!(introspection_clients(None).unwrap().is_empty());
        let value = format!("orders:{SECRET}, pay:{SECRET}:x");
        let clients = introspection_clients(Some(value)).unwrap();
        assert_eq!(clients.len(), 2);
        assert_eq!(clients[0].id, "orders");
        assert_eq!(clients[0].secret.expose_secret(), SECRET);
        assert_eq!(clients[1].id, "pay");
        assert_eq!(clients[1].secret.expose_secret(), format!("{SECRET}:x"));
        assert!(!format!("{clients:?}").contains(SECRET));
    }

    #[test]
    fn bad_entries_are_refused_without_echoing_a_secret() {
        for value in [
            format!("orders{SECRET}"),
            format!(":{SECRET}"),
            "orders:short-secret".to_owned(),
            format!("orders:{}", "ab".repeat(20)),
            format!("orders:{SECRET},orders:{SECRET}"),
        ] {
            let err = introspection_clients(Some(value.clone())).unwrap_err();
            assert_eq!(err.variable, "INTROSPECTION_CLIENTS", "{value}");
            assert!(!err.to_string().contains(SECRET), "{err}");
            assert!(!err.to_string().contains("short-secret"), "{err}");
        }
    }
}
