//! Change notifications over Redis pub/sub: when an admin changes a tenant, every node
//! drops its cached copy.
use futures_util::StreamExt;
use std::time::Duration;

/// Subscribes to `channel` at `url` and calls `on_message` with each payload, for as
/// long as the process lives; reconnects after a failure. On (re)connect it also
/// calls `on_message("*")`, since changes may have been missed while disconnected.
pub async fn listen(url: String, channel: String, on_message: impl Fn(&str)) {
    loop {
        match subscribe(&url, &channel).await {
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
