//! End-user session services: "where am I logged in" and logging one device out.
use tessera_core::{Error, Result, ids::SessionId};

use crate::{
    Hub,
    actors::{ListSessions, RevokeOwnSession},
    services::admin::{page, page_size},
    views::{Page, SessionView},
};
use tessera_core::time::now;
use tessera_revocation::Entry;

/// Parses a sessions cursor: `<created_at>.<sid>`.
fn parse_cursor(c: &str) -> Result<(i64, String)> {
    c.split_once('.')
        .filter(|(at, _)| (1..=18).contains(&at.len()) && at.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|(at, sid)| Some((at.parse().ok()?, SessionId::parse(sid)?.into_string())))
        .ok_or_else(|| Error::field("cursor", "is not a cursor this list gave"))
}

impl Hub {
    /// `GET /users/me/sessions`: the caller's live sessions, newest first, the one
    /// of this request's token marked `current`.
    pub async fn my_sessions(
        &self,
        slug: &str,
        authorization: Option<&str>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> Result<Page<SessionView>> {
        let ctx = self.tenant(slug).await?;
        let claims = self.authenticate(&ctx, authorization).await?;
        let after = cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(parse_cursor)
            .transpose()?;
        let limit = page_size(limit)?;
        let rows = self
            .ask(
                &self.tokens,
                ListSessions {
                    tenant_id: ctx.id.clone(),
                    user_id: claims.sub.clone(),
                    after,
                    limit: limit + 1,
                },
            )
            .await?;
        page(
            rows,
            limit,
            |s| format!("{}.{}", s.created_at, s.sid),
            |s| Ok(SessionView::of(s, &claims.sid)),
        )
    }

    /// `DELETE /users/me/sessions/{sid}`: logs one of the caller's devices out; its
    /// tokens stop working at once. Another user's session is `not_found`.
    pub async fn end_my_session(
        &self,
        slug: &str,
        authorization: Option<&str>,
        sid: &SessionId,
    ) -> Result<()> {
        let ctx = self.tenant(slug).await?;
        let claims = self.authenticate(&ctx, authorization).await?;
        let revoked = self
            .ask(
                &self.tokens,
                RevokeOwnSession {
                    tenant_id: ctx.id.clone(),
                    user_id: claims.sub,
                    sid: sid.clone(),
                },
            )
            .await?
            .ok_or(Error::NotFound("Session"))?;
        let entry = Entry::session(&ctx.id, sid, now(), revoked.what);
        self.revoke_entries(&ctx.slug, &ctx.id, revoked.generation, vec![entry])
            .await
    }
}
