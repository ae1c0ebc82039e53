//! The API as a client sees it: each call returns its status (0 when no answer came), its JSON
//! body (null when none) and how long it took.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub latency: Duration,
}

impl Answer {
    pub fn text(&self, name: &str) -> Option<String> {
        self.body[name].as_str().map(str::to_owned)
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base_url: String,
}

impl Api {
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(1024)
            .build()
            .expect("a client");
        Self {
            http,
            base_url: base_url.to_owned(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let started = Instant::now();
        let (status, body) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.json().await.unwrap_or(Value::Null);
                (status, body)
            }
            Err(_) => (0, Value::Null),
        };
        Answer {
            status,
            body,
            latency: started.elapsed(),
        }
    }

    /// Logs in as the user named `label`, from `client_ip` when the server trusts us as a proxy.
    pub async fn login(&self, label: &str, client_ip: Option<&str>) -> Answer {
        let code = format!("{label}:{:016x}", rand::random::<u64>());
        self.post_json("/api/auth/login", json!({ "code": code }), client_ip)
            .await
    }

    pub async fn refresh(&self, refresh_token: &str, client_ip: Option<&str>) -> Answer {
        let body = json!({ "refresh_token": refresh_token });
        self.post_json("/api/auth/refresh", body, client_ip).await
    }

    async fn post_json(&self, path: &str, body: Value, client_ip: Option<&str>) -> Answer {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(&body);
        if let Some(ip) = client_ip {
            request = request.header("x-forwarded-for", ip);
        }
        self.send(request).await
    }

    pub async fn me(&self, access_token: &str) -> Answer {
        self.send(
            self.http
                .get(format!("{}/api/me", self.base_url))
                .bearer_auth(access_token),
        )
        .await
    }

    pub async fn logout(&self, access_token: &str) -> Answer {
        self.send(
            self.http
                .post(format!("{}/api/auth/logout", self.base_url))
                .bearer_auth(access_token),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(format!("{}{path}", self.base_url)))
            .await
    }
}

/// The session id (`sid`) and user id (`sub`) an access token names, read without verifying.
pub fn token_subject(access_token: &str) -> Option<(String, String)> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let payload = access_token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    Some((
        claims["sid"].as_str()?.to_owned(),
        claims["sub"].as_str()?.to_owned(),
    ))
}
