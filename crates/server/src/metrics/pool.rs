//! `wxlogin_db_pool_connections`: the database pool's connections, read when scraped.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use sqlx::PgPool;

#[derive(Debug)]
pub(super) struct PoolConnections(pub(super) PgPool);

impl Collector for PoolConnections {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let size = i64::from(self.0.size());
        let idle = i64::try_from(self.0.num_idle())
            .unwrap_or(i64::MAX)
            .min(size);
        let mut family = encoder.encode_descriptor(
            "wxlogin_db_pool_connections",
            "Database connections this instance holds, by state: idle or in_use",
            None,
            MetricType::Gauge,
        )?;
        for (state, count) in [("idle", idle), ("in_use", size - idle)] {
            ConstGauge::new(count).encode(family.encode_family(&[("state", state)])?)?;
        }
        Ok(())
    }
}
