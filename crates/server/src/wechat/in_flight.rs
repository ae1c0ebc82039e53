//! At most `WECHAT_MAX_IN_FLIGHT` WeChat calls in flight from this instance.
//!
//! When WeChat slows down, every login waiting on it holds memory, a connection and a client; an
//! unbounded number of them is how a slow WeChat takes the whole instance down. A call that finds
//! every slot taken waits up to [`SLOT_WAIT`] for one, then fails with
//! [`WechatError::Saturated`], which the client sees as 503 `upstream_busy` with `Retry-After`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::calls::{self, WechatApi};
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
    /// Sends `request`, a call to `api`, in a slot of its own and reads the answer (see
    /// [`read_answer`]); every call, sent or not, is recorded (see [`calls`]). A retry takes a
    /// slot anew, so a backoff holds none.
    pub(super) async fn answer<T: DeserializeOwned>(
        &self,
        api: WechatApi,
        request: reqwest::RequestBuilder,
    ) -> Result<T, WechatError> {
        self.in_slot(api, read_answer(request)).await
    }

    /// [`Self::answer`] for a call answered with a PNG image (see [`read_png_answer`]).
    pub(super) async fn png_answer(
        &self,
        api: WechatApi,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, WechatError> {
        self.in_slot(api, read_png_answer(request)).await
    }

    /// Runs `call` in a free slot, waiting at most [`SLOT_WAIT`] for one, and records it.
    async fn in_slot<T>(
        &self,
        api: WechatApi,
        call: impl std::future::Future<Output = Result<T, WechatError>>,
    ) -> Result<T, WechatError> {
        let Ok(slot) = tokio::time::timeout(SLOT_WAIT, self.slots.0.acquire()).await else {
            let saturated = Err(WechatError::Saturated);
            calls::record::<T>(&self.metrics, api, &saturated, None);
            return saturated;
        };
        let _slot = slot.expect("the semaphore is never closed");
        let started = Instant::now();
        let answer = call.await;
        calls::record(&self.metrics, api, &answer, Some(started.elapsed()));
        answer
    }
}
