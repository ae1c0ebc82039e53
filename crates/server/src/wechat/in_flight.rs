//! At most `WECHAT_MAX_IN_FLIGHT` WeChat calls in flight from this instance.
//!
//! When WeChat slows down, every login waiting on it holds memory, a connection and a client; an
//! unbounded number of them is how a slow WeChat takes the whole instance down. A call that finds
//! every slot taken waits up to [`SLOT_WAIT`] for one, then fails with
//! [`WechatError::Saturated`], which the client sees as 503 `upstream_busy` with `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::response::{read_answer, read_png_answer};
use super::{WechatClient, WechatError};

/// How long a call waits for a free slot. Short: a client retrying later does better than one
/// waiting behind a queue it cannot see.
pub const SLOT_WAIT: Duration = Duration::from_secs(1);

/// The slots, shared by every clone of the client.
#[derive(Clone)]
pub(super) struct Slots(Arc<Semaphore>);

impl Slots {
    pub(super) fn new(max_in_flight: usize) -> Self {
        Self(Arc::new(Semaphore::new(max_in_flight)))
    }
}

impl WechatClient {
    /// Sends `request` in a slot of its own and reads the answer (see [`read_answer`]). A retry
    /// takes a slot anew, so a backoff holds none.
    pub(super) async fn answer<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, WechatError> {
        let _slot = self.slot().await?;
        read_answer(request).await
    }

    /// [`Self::answer`] for a call answered with a PNG image (see [`read_png_answer`]).
    pub(super) async fn png_answer(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, WechatError> {
        let _slot = self.slot().await?;
        read_png_answer(request).await
    }

    /// A free slot, waiting at most [`SLOT_WAIT`] for one.
    async fn slot(&self) -> Result<SemaphorePermit<'_>, WechatError> {
        Ok(tokio::time::timeout(SLOT_WAIT, self.slots.0.acquire())
            .await
            .map_err(|_| WechatError::Saturated)?
            .expect("the semaphore is never closed"))
    }
}
