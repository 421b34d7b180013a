//! The diesel schema, kept by hand in step with `migrations/`.
#![allow(missing_docs)]

diesel::table! {
    tenants (id) {
        id -> Text,
        slug -> Text,
        display_name -> Text,
        issuer -> Nullable<Text>,
        audience -> Nullable<Text>,
        algorithm -> Text,
        access_token_ttl -> BigInt,
        refresh_token_ttl -> BigInt,
        session_max_lifetime -> BigInt,
        rotate_refresh_tokens -> Bool,
        leeway -> BigInt,
        auth_header_types -> Text,
        allow_signup -> Bool,
        password_min_length -> Integer,
        refresh_cookie -> Bool,
        login_rate_limit -> Integer,
        custom_claims -> Text,
        key_rotation_interval -> Nullable<BigInt>,
        disabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        revocation_gen -> BigInt,
        allowed_origins -> Text,
        refresh_reuse_interval -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        tenant_id -> Text,
        algorithm -> Text,
        public_jwk -> Nullable<Text>,
        private_key_enc -> Text,
        status -> Text,
        created_at -> BigInt,
        activated_at -> Nullable<BigInt>,
        not_after -> Nullable<BigInt>,
        origin -> Text,
        legacy_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        tenant_id -> Text,
        username -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        is_active -> Bool,
        roles -> Text,
        date_joined -> BigInt,
        last_login -> Nullable<BigInt>,
        password_changed_at -> BigInt,
        username_key -> Text,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (sid) {
        sid -> Text,
        tenant_id -> Text,
        user_id -> Text,
        created_at -> BigInt,
        last_used_at -> BigInt,
        expires_at -> BigInt,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (jti) {
        jti -> Text,
        tenant_id -> Text,
        sid -> Text,
        parent_jti -> Nullable<Text>,
        user_id -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    revocations (tenant_id, kind, subject) {
        tenant_id -> Text,
        kind -> Text,
        subject -> Text,
        revoked_at -> BigInt,
        expires_at -> BigInt,
        generation -> BigInt,
    }
}

diesel::table! {
    admin_api_keys (id) {
        id -> Text,
        name -> Text,
        tenant_id -> Nullable<Text>,
        key_hash -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        secret_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        tenant_slug -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        target -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::joinable!(signing_keys -> tenants (tenant_id));
diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (sid));
diesel::joinable!(admin_api_keys -> tenants (tenant_id));
diesel::joinable!(clients -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    signing_keys,
    users,
    sessions,
    refresh_tokens,
    revocations,
    admin_api_keys,
    clients,
    audit_events,
);
