//! Change notifications over Redis pub/sub: when an admin changes a tenant, every node
//! drops its cached copy. In a Redis Cluster a message published on any node reaches
//! subscribers on every node, so a node subscribes on one and moves on to the next
//! when that one fails.
use futures_util::StreamExt;
use std::time::Duration;

use crate::Redis;

/// How often a live subscription is pinged; one unanswered within this time is dead.
pub const PING_EVERY: Duration = Duration::from_secs(1);

/// Subscribes to `channel` on `redis` and calls `on_message` with each payload, for as
/// long as the process lives; reconnects after a failure (to the next node of a
/// cluster), including a connection that stopped answering without closing (a ping
/// every [`PING_EVERY`] finds it). On (re)connect it also calls `on_message("*")`,
/// since changes may have been missed while disconnected.
pub async fn listen(redis: Redis, channel: String, on_message: impl Fn(&str)) {
    let urls = redis.subscribe_urls();
    for url in urls.iter().cycle() {
        match subscribe(&redis, url, &channel).await {
            Ok(pubsub) => {
                on_message("*");
                let why = follow(pubsub, &on_message).await;
                // Whatever came in between is unknown: drop everything again.
                on_message("*");
                tracing::warn!(
                    why,
                    "change notifications: subscription lost, resubscribing"
                );
            }
            Err(e) => tracing::warn!(error = %e, "change notifications: cannot subscribe"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Passes messages on until the subscription ends or stops answering pings.
async fn follow(pubsub: redis::aio::PubSub, on_message: &impl Fn(&str)) -> &'static str {
    let (mut sink, mut stream) = pubsub.split();
    let mut tick = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(msg) => {
                    if let Ok(payload) = msg.get_payload::<String>() {
                        on_message(&payload);
                    }
                }
                None => return "closed",
            },
            _ = tick.tick() => {
                let pong = tokio::time::timeout(PING_EVERY, sink.ping::<redis::Value>()).await;
                if !matches!(pong, Ok(Ok(_))) {
                    return "no answer to a ping";
                }
            }
        }
    }
}

async fn subscribe(
    redis: &Redis,
    url: &str,
    channel: &str,
) -> redis::RedisResult<redis::aio::PubSub> {
    let client = redis.client(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}
