//! A Django project's `SIMPLE_JWT` settings (as JSON, lifetimes in seconds) read as
//! Tessera tenant settings: each setting with a counterpart becomes it; one whose
//! value Tessera always has (simplejwt's default for the claim names, say) is
//! accepted as it is; anything else is refused with one line naming it, so that no
//! behaviour the project relied on is silently dropped.
use serde_json::{Map, Value, json};

/// How each `SIMPLE_JWT` key maps, for the reader below and the migration guide.
pub enum Mapping {
    /// Becomes this tenant setting.
    Setting(&'static str),
    /// Tessera behaves this way always: only these values (JSON texts) are accepted.
    Fixed(&'static [&'static str]),
    /// Not a setting: brought over another way (said in the message).
    Elsewhere(&'static str),
}

/// The `SIMPLE_JWT` keys Tessera knows, and what each becomes.
pub fn mapping(key: &str) -> Option<Mapping> {
    use Mapping::*;
    Some(match key {
        "ACCESS_TOKEN_LIFETIME" => Setting("access_token_ttl"),
        "REFRESH_TOKEN_LIFETIME" => Setting("refresh_token_ttl"),
        "ROTATE_REFRESH_TOKENS" => Setting("rotate_refresh_tokens"),
        "ALGORITHM" => Setting("algorithm"),
        "AUDIENCE" => Setting("audience"),
        "ISSUER" => Setting("issuer"),
        "LEEWAY" => Setting("leeway"),
        "AUTH_HEADER_TYPES" => Setting("auth_header_types"),
        "SIGNING_KEY" | "VERIFYING_KEY" => Elsewhere(
            "import the key with POST /v1/admin/tenants/{tenant}/keys/import and \"legacy\": true",
        ),
        // Tessera refuses a rotated-out token for ever after.
        "BLACKLIST_AFTER_ROTATION" => Fixed(&["true"]),
        // A login always records its time.
        "UPDATE_LAST_LOGIN" => Fixed(&["true", "false"]),
        // Tessera does not compare the legacy tokens' password-hash claim: a project
        // that checks it would see its older tokens accepted again.
        "CHECK_REVOKE_TOKEN" => Fixed(&["false"]),
        "REVOKE_TOKEN_CLAIM" => Fixed(&["null", "\"hash_password\""]),
        "USER_ID_FIELD" => Fixed(&["\"id\"", "\"pk\""]),
        "USER_ID_CLAIM" => Fixed(&["\"user_id\""]),
        "TOKEN_TYPE_CLAIM" => Fixed(&["\"token_type\""]),
        "JTI_CLAIM" => Fixed(&["\"jti\""]),
        "AUTH_HEADER_NAME" => Fixed(&["\"HTTP_AUTHORIZATION\""]),
        "JWK_URL" | "JSON_ENCODER" => Fixed(&["null"]),
        "USER_AUTHENTICATION_RULE" => {
            Fixed(&["\"rest_framework_simplejwt.authentication.default_user_authentication_rule\""])
        }
        "TOKEN_USER_CLASS" => Fixed(&["\"rest_framework_simplejwt.models.TokenUser\""]),
        "AUTH_TOKEN_CLASSES" => Fixed(&[
            "\"rest_framework_simplejwt.tokens.AccessToken\"",
            "[\"rest_framework_simplejwt.tokens.AccessToken\"]",
        ]),
        _ => return None,
    })
}

/// The tenant settings a `SIMPLE_JWT` object maps to (a settings object as the admin
/// API takes it), or the first key that has no counterpart, in one line.
pub fn settings_from(simple_jwt: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(keys) = simple_jwt else {
        return Err("SIMPLE_JWT must be a JSON object".into());
    };
    let mut settings = Map::new();
    for (key, value) in keys {
        let refuse = |why: &str| Err(format!("SIMPLE_JWT {key}: {why}"));
        match mapping(key) {
            None => return refuse("has no counterpart in Tessera"),
            Some(Mapping::Elsewhere(how)) => return refuse(&format!("is not a setting; {how}")),
            Some(Mapping::Fixed(allowed)) => {
                let ok = allowed
                    .iter()
                    .any(|a| serde_json::from_str::<Value>(a).is_ok_and(|a| a == *value));
                if !ok {
                    return refuse(&format!(
                        "{value} has no counterpart in Tessera (it accepts {})",
                        allowed.join(" or ")
                    ));
                }
            }
            Some(Mapping::Setting(name)) => {
                let converted = match (name, value) {
                    ("auth_header_types", Value::String(s)) => json!([s]),
                    // No issuer or audience: Tessera's own issuer, no audience.
                    ("issuer" | "audience", Value::Null) => continue,
                    _ => value.clone(),
                };
                settings.insert(name.to_owned(), converted);
            }
        }
    }
    Ok(settings)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn simplejwt_settings_become_tenant_settings() {
        let s = settings_from(&json!({
            "ACCESS_TOKEN_LIFETIME": 300, "REFRESH_TOKEN_LIFETIME": 86400,
            "ROTATE_REFRESH_TOKENS": true, "BLACKLIST_AFTER_ROTATION": true,
            "ALGORITHM": "HS256", "AUDIENCE": null, "ISSUER": null, "LEEWAY": 5,
            "AUTH_HEADER_TYPES": ["Bearer", "JWT"], "USER_ID_FIELD": "id",
            "USER_ID_CLAIM": "user_id", "AUTH_TOKEN_CLASSES": ["rest_framework_simplejwt.tokens.AccessToken"],
            "UPDATE_LAST_LOGIN": false, "JWK_URL": null,
        }))
        .unwrap();
        assert_eq!(
            Value::Object(s),
            json!({"access_token_ttl": 300, "refresh_token_ttl": 86400,
                "rotate_refresh_tokens": true, "algorithm": "HS256", "leeway": 5,
                "auth_header_types": ["Bearer", "JWT"]})
        );
        let s = settings_from(&json!({"AUTH_HEADER_TYPES": "JWT"})).unwrap();
        assert_eq!(s["auth_header_types"], json!(["JWT"]));
    }

    #[test]
    fn what_has_no_counterpart_is_refused_by_name() {
        for (input, says) in [
            (
                json!({"SLIDING_TOKEN_LIFETIME": 300}),
                "SLIDING_TOKEN_LIFETIME: has no counterpart",
            ),
            (
                json!({"USER_ID_CLAIM": "uid"}),
                "USER_ID_CLAIM: \"uid\" has no counterpart",
            ),
            (
                json!({"BLACKLIST_AFTER_ROTATION": false}),
                "BLACKLIST_AFTER_ROTATION: false",
            ),
            (json!({"SIGNING_KEY": "x"}), "SIGNING_KEY: is not a setting"),
            (json!({"JWK_URL": "https://x"}), "JWK_URL"),
            (json!([1]), "must be a JSON object"),
        ] {
            let e = settings_from(&input).unwrap_err();
            assert!(e.contains(says), "{input}: {e}");
        }
    }
}
