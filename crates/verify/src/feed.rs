//! The tenant's revocations in force, kept by following its revocation feed: read
//! whole at start, then long-polled (`since` + `wait`) in a background task that
//! ends when the verifier is dropped. Each entry is forgotten after its `until`.
use base64::{Engine, engine::general_purpose::STANDARD};
use parking_lot::RwLock;
use serde::Deserialize;
use std::{
    collections::HashMap,
    sync::{Arc, Weak},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::{Claims, Error};

/// How long one long poll waits at Tessera, seconds.
const WAIT: u64 = 25;

#[derive(Default)]
struct Lists {
    /// sid → until.
    sessions: HashMap<String, i64>,
    /// jti → until.
    tokens: HashMap<String, i64>,
    /// sub → (tokens issued before, until).
    users: HashMap<String, (i64, i64)>,
}

pub(crate) struct Revocations {
    lists: RwLock<Lists>,
}

#[derive(Deserialize)]
struct Page {
    items: Vec<Item>,
    cursor: String,
}

#[derive(Deserialize)]
struct Item {
    kind: String,
    sid: Option<String>,
    jti: Option<String>,
    sub: Option<String>,
    before: Option<i64>,
    until: i64,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Revocations {
    /// Reads every revocation in force, then follows the feed in the background.
    pub(crate) async fn start(
        http: reqwest::Client,
        url: String,
        (id, secret): (String, String),
    ) -> Result<Arc<Self>, Error> {
        let auth = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        let first = read(&http, &url, &auth, None).await?;
        let this = Arc::new(Self {
            lists: RwLock::default(),
        });
        this.apply(&first.items);
        tokio::spawn(follow(Arc::downgrade(&this), http, url, auth, first.cursor));
        Ok(this)
    }

    /// Whether a revocation covers these claims.
    pub(crate) fn refuses(&self, c: &Claims) -> bool {
        let lists = self.lists.read();
        lists.sessions.contains_key(&c.sid)
            || lists.tokens.contains_key(&c.jti)
            || lists
                .users
                .get(&c.sub)
                .is_some_and(|(before, _)| c.iat < *before)
    }

    fn apply(&self, items: &[Item]) {
        let t = now();
        let mut lists = self.lists.write();
        for i in items.iter().filter(|i| i.until > t) {
            match (i.kind.as_str(), &i.sid, &i.jti, &i.sub) {
                ("session", Some(sid), _, _) => {
                    lists.sessions.insert(sid.clone(), i.until);
                }
                ("token", _, Some(jti), _) => {
                    lists.tokens.insert(jti.clone(), i.until);
                }
                ("user", _, _, Some(sub)) => {
                    let before = i.before.unwrap_or(i.until);
                    let e = lists.users.entry(sub.clone()).or_insert((before, i.until));
                    *e = (e.0.max(before), e.1.max(i.until));
                }
                _ => {}
            }
        }
        lists.sessions.retain(|_, until| *until > t);
        lists.tokens.retain(|_, until| *until > t);
        lists.users.retain(|_, (_, until)| *until > t);
    }
}

/// Long-polls the feed for as long as the verifier lives.
async fn follow(
    this: Weak<Revocations>,
    http: reqwest::Client,
    url: String,
    auth: String,
    mut cursor: String,
) {
    loop {
        if this.strong_count() == 0 {
            return;
        }
        match read(&http, &url, &auth, Some(&cursor)).await {
            Ok(page) => {
                let Some(r) = this.upgrade() else { return };
                r.apply(&page.items);
                cursor = page.cursor;
            }
            Err(e) => {
                tracing::warn!(error = %e, "tessera revocation feed: retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn read(
    http: &reqwest::Client,
    url: &str,
    auth: &str,
    since: Option<&str>,
) -> Result<Page, Error> {
    // A cursor is the feed's own (digits): nothing to escape.
    let url = match since {
        Some(cursor) => format!("{url}?since={cursor}&wait={WAIT}"),
        None => url.to_owned(),
    };
    crate::get_json(http, &url, Some(auth)).await
}
