//! Reading avatars without starving everything else of database connections.
//!
//! An avatar is up to 1 MB read from Postgres, and anyone may ask for one. Hundreds of downloads
//! at once would each hold a pool connection while their image streams out of Postgres, and every
//! other request would queue behind them. So avatar reads take turns on a few slots, a quarter of
//! the pool: the rest of the pool stays free for logins and token checks, and an avatar that
//! cannot get a slot within the pool's acquire timeout is answered like a full pool, 503
//! `unavailable`. In production a CDN in front of `/avatars/` answers almost all of them anyway
//! (see the README).

use std::time::Duration;

use crate::db::Db;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::storage::avatars::{self, Avatar};

pub struct AvatarReads {
    db: Db,
    slots: Semaphore,
    wait: Duration,
}

impl AvatarReads {
    /// Reads on `db`, a pool of `pool_size` connections, waiting at most `wait` for a slot.
    pub fn new(db: Db, pool_size: u32, wait: Duration) -> Self {
        Self {
            db,
            slots: Semaphore::new(Self::slots_for(pool_size)),
            wait,
        }
    }

    /// A quarter of the pool, and at least one connection.
    pub fn slots_for(pool_size: u32) -> usize {
        usize::try_from(pool_size / 4).unwrap_or(usize::MAX).max(1)
    }

    pub async fn find(&self, avatar_id: Uuid) -> Result<Option<Avatar>, sqlx::Error> {
        let _slot = self.slot().await?;
        avatars::find(&self.db, avatar_id).await
    }

    pub async fn exists(&self, avatar_id: Uuid) -> Result<bool, sqlx::Error> {
        let _slot = self.slot().await?;
        avatars::exists(&self.db, avatar_id).await
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, sqlx::Error> {
        match tokio::time::timeout(self.wait, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; either way no connection could be had in time.
            Ok(Err(_)) | Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AvatarReads;

    #[test]
    fn avatars_get_a_quarter_of_the_pool_and_at_least_one_connection() {
        assert_eq!(AvatarReads::slots_for(1), 1);
        assert_eq!(AvatarReads::slots_for(7), 1);
        assert_eq!(AvatarReads::slots_for(8), 2);
        assert_eq!(AvatarReads::slots_for(40), 10);
    }
}
