//! A message carried with the sender's span, so that what an actor does for it (a
//! Redis round trip, a database transaction) is traced as part of the request that
//! asked, although it runs on the actor's own thread.
use actix::{dev::MessageResponse, prelude::*};

use super::{AdminActor, BlacklistActor, PasswordHasher, TenantLoader, TokenActor, UserActor};

/// `msg` and the span its handling runs in.
pub struct Traced<M> {
    /// The message.
    pub msg: M,
    /// Entered while the actor handles `msg` (disabled, and free, unless traces are
    /// exported).
    pub span: tracing::Span,
}

impl<M: Message> Message for Traced<M> {
    type Result = M::Result;
}

/// How an actor handles `M`: what actix's `Handler` would be, except that messages
/// reach it only as [`Traced<M>`] (each actor's `Handler<Traced<M>>` enters the
/// span and calls this).
pub trait Handles<M: Message>: Actor {
    /// The reply.
    type Result: MessageResponse<Self, Traced<M>>;

    /// Handles one message.
    fn handle(&mut self, msg: M, ctx: &mut Self::Context) -> <Self as Handles<M>>::Result;
}

/// Every actor handles `Traced<M>` as it [`Handles`] `M`, inside the span.
macro_rules! traced {
    ($($actor:ty),* $(,)?) => {
        $(
            impl<M: Message> Handler<Traced<M>> for $actor
            where
                Self: Handles<M>,
            {
                type Result = <Self as Handles<M>>::Result;

                fn handle(&mut self, t: Traced<M>, ctx: &mut Self::Context) -> Self::Result {
                    let _inside = t.span.enter();
                    <Self as Handles<M>>::handle(self, t.msg, ctx)
                }
            }
        )*
    };
}

traced!(
    UserActor,
    PasswordHasher,
    TokenActor,
    BlacklistActor,
    AdminActor,
    TenantLoader,
);
