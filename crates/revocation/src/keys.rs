//! Redis key names, all under one prefix.

/// What a revocation key covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A session (`sid`): its refresh token and every access token carrying it.
    Session,
    /// One token (`jti`).
    Token,
    /// A user cut-off: every token issued before it.
    User,
}

impl Kind {
    /// Short tag used in keys and in Postgres's `revocations.kind`.
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Session => "sid",
            Kind::Token => "jti",
            Kind::User => "user",
        }
    }

    /// The kind with this tag.
    pub fn from_tag(tag: &str) -> Option<Self> {
        [Kind::Session, Kind::Token, Kind::User]
            .into_iter()
            .find(|k| k.tag() == tag)
    }
}

#[derive(Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(crate) fn entry(&self, tenant_id: &str, kind: Kind, subject: &str) -> String {
        format!("{}rv:{}:{}:{}", self.prefix, tenant_id, kind.tag(), subject)
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn filled(&self) -> String {
        format!("{}rv:filled", self.prefix)
    }

    pub(crate) fn channel(&self) -> String {
        format!("{}changes", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_and_distinct() {
        let k = Keys::new("t1:");
        assert_eq!(k.entry("ten_a", Kind::Session, "s1"), "t1:rv:ten_a:sid:s1");
        assert_ne!(
            k.entry("ten_a", Kind::Token, "x"),
            k.entry("ten_b", Kind::Token, "x")
        );
        assert!(k.filled().starts_with("t1:"));
        for kind in [Kind::Session, Kind::Token, Kind::User] {
            assert_eq!(Kind::from_tag(kind.tag()), Some(kind));
        }
    }
}
