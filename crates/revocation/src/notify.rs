//! Change notifications over Redis pub/sub: when an admin changes a tenant, every node
//! drops its cached copy. In a Redis Cluster a message published on any node reaches
//! subscribers on every node, so a node subscribes on one and moves on to the next
//! when that one fails.
use futures_util::StreamExt;
use std::time::Duration;

use crate::Redis;

/// Subscribes to `channel` on `redis` and calls `on_message` with each payload, for as
/// long as the process lives; reconnects after a failure (to the next node of a
/// cluster). On (re)connect it also calls `on_message("*")`, since changes may have
/// been missed while disconnected.
pub async fn listen(redis: Redis, channel: String, on_message: impl Fn(&str)) {
    let urls = redis.subscribe_urls();
    for url in urls.iter().cycle() {
        match subscribe(url, &channel).await {
            Ok(mut pubsub) => {
                on_message("*");
                let mut stream = pubsub.on_message();
                while let Some(msg) = stream.next().await {
                    if let Ok(payload) = msg.get_payload::<String>() {
                        on_message(&payload);
                    }
                }
                tracing::warn!("change notifications: subscription ended, reconnecting");
            }
            Err(e) => tracing::warn!(error = %e, "change notifications: cannot subscribe"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn subscribe(url: &str, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}
