//! What a revocation covers.

text_enum!(
    /// The kind of a revocation: what its subject names.
    RevocationKind {
        /// A session (its `sid`): every token of one login.
        Session => "sid",
        /// A single token (its `jti`).
        Token => "jti",
        /// A user cut-off: every token of the user issued before the cut-off time.
        User => "user",
    }
);
