//! Scan-to-login as a browser and a phone do it, and the event stream read as a browser reads it.

use std::time::Duration;

use serde_json::Value;

use super::server::TestApp;

/// The user agent the test browser sends.
pub const BROWSER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36";

/// What `POST /api/qr-login` answered.
pub struct Ticket {
    pub ticket: String,
    pub poll_secret: String,
    pub qr_url: String,
    pub expires_in: u64,
}

impl TestApp {
    /// `POST /api/qr-login` from the test browser; asserts 201.
    pub async fn new_ticket(&self) -> Ticket {
        let response = self.request_ticket().await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let text = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {body}"))
                .to_owned()
        };
        Ticket {
            ticket: text("ticket"),
            poll_secret: text("poll_secret"),
            qr_url: text("qr_url"),
            expires_in: body["expires_in"].as_u64().expect("expires_in"),
        }
    }

    pub async fn request_ticket(&self) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/qr-login"))
                .header("user-agent", BROWSER_AGENT),
        )
        .await
    }

    /// `GET /api/qr-login/{ticket}?poll_secret=`, the secret left out when `None`.
    pub async fn poll_ticket(&self, ticket: &str, poll_secret: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(&format!("/api/qr-login/{ticket}")));
        if let Some(secret) = poll_secret {
            request = request.query(&[("poll_secret", secret)]);
        }
        self.send(request).await
    }

    /// The state a poll with the ticket's own secret reads; asserts 200.
    pub async fn ticket_state(&self, ticket: &Ticket) -> String {
        let poll = self
            .poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
            .await;
        assert_eq!(poll.status(), 200);
        let body: Value = poll.json().await.unwrap();
        body["state"].as_str().expect("state").to_owned()
    }

    /// `POST /api/qr-login/{ticket}/{step}` (scan, confirm or deny) with `token`.
    pub async fn ticket_step(&self, ticket: &str, step: &str, token: &str) -> reqwest::Response {
        self.post_bearer(&format!("/api/qr-login/{ticket}/{step}"), token)
            .await
    }

    /// Opens the event stream of `ticket`.
    pub async fn ticket_events(&self, ticket: &str, poll_secret: &str) -> reqwest::Response {
        self.send(
            self.http
                .get(self.url(&format!("/api/qr-login/{ticket}/events")))
                .query(&[("poll_secret", poll_secret)]),
        )
        .await
    }

    /// Moves the ticket's expiry to `seconds` from the database's now (negative: the past).
    pub async fn expire_ticket_in(&self, ticket: &str, seconds: f64) {
        sqlx::query(
            "UPDATE qr_login_tickets SET expires_at = now() + make_interval(secs => $2)
             WHERE ticket = $1",
        )
        .bind(ticket)
        .bind(seconds)
        .execute(&self.db)
        .await
        .unwrap();
    }
}

/// One server-sent event, or a comment line.
#[derive(Debug, PartialEq, Eq)]
pub enum Sse {
    Event { name: String, data: Value },
    Comment(String),
}

/// A stream of server-sent events read from a response, chunk by chunk.
pub struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

impl EventReader {
    pub fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event or comment within `limit`; `None` when the stream ended.
    pub async fn next(&mut self, limit: Duration) -> Option<Sse> {
        tokio::time::timeout(limit, self.next_frame())
            .await
            .unwrap_or_else(|_| panic!("nothing on the stream within {limit:?}"))
    }

    /// The next named event, skipping comments, within `limit`.
    pub async fn next_event(&mut self, limit: Duration) -> Option<(String, Value)> {
        loop {
            match self.next(limit).await? {
                Sse::Event { name, data } => return Some((name, data)),
                Sse::Comment(_) => {}
            }
        }
    }

    async fn next_frame(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_frame(frame.trim_end()));
            }
            let chunk = self.response.chunk().await.expect("the stream reads")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
        }
    }
}

fn parse_frame(frame: &str) -> Sse {
    let mut name = None;
    let mut data = String::new();
    for line in frame.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            return Sse::Comment(comment.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("event:") {
            name = Some(value.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push_str(value.trim_start());
        }
    }
    Sse::Event {
        name: name.unwrap_or_else(|| panic!("an event name in {frame:?}")),
        data: serde_json::from_str(&data).unwrap_or_else(|err| panic!("{err} in {frame:?}")),
    }
}

/// What a QR code in a PNG says.
pub fn read_qr_code(png: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("a readable QR code").1
}
