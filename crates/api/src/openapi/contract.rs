//! What the generated document cannot say by itself, added from the same constants
//! the validation uses (so the two cannot drift): the problem answers every route
//! shares, the ranges, lengths and patterns of request fields and parameters, each
//! setting's default, the create-tenant body as one flat object, and the two shapes
//! of a key import.
use serde_json::{Map, Value, json};
use tessera_actors::{
    admin_jobs::{
        api_keys::MAX_NAME,
        imports::{MAX_IMPORT_RECORDS, MAX_IMPORT_USERS},
    },
    services::{MAX_FEED_WAIT, MAX_PAGE, MAX_SEARCH},
};
use tessera_core::{
    algorithm::SigningAlgorithm,
    ids::SLUG_PATTERN,
    key_material::min_secret_bytes,
    password::{
        MAX_EMAIL_CHARS, MAX_EXTERNAL_ID_CHARS, MAX_HASH_BYTES, MAX_PASSWORD_CHARS,
        MAX_USERNAME_CHARS,
    },
    settings::{
        MAX_ALLOWED_ORIGINS, MAX_DISPLAY_NAME, MAX_LEEWAY, MAX_LIFETIME, MAX_LOGIN_RATE_LIMIT,
        MAX_ORIGIN, MAX_REUSE_INTERVAL, MAX_ROLE_BYTES, MAX_ROLES, MAX_ROTATION_INTERVAL, MAX_URL,
        RESERVED_CLAIMS, TOKEN_CLAIMS_ALLOWANCE, TenantSettings,
    },
};

/// Characters a username, role or e-mail may not hold: whitespace (usernames,
/// e-mails) and controls, as a regex class body.
const CONTROLS: &str = r"\x00-\x1f\x7f-\x9f";

/// Applies everything this module knows to the document.
pub fn apply(doc: &mut Value) {
    shared_responses(doc);
    request_constraints(doc);
    parameter_constraints(doc);
    setting_defaults(doc);
    flat_create_tenant(doc);
    key_import_shapes(doc);
    import_shapes(doc);
    introspection_shape(doc);
    form_examples(doc);
    state_warnings(doc);
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

/// The answers many routes give, defined once and referred to by every route that
/// can give them and does not say so itself.
fn shared_responses(doc: &mut Value) {
    let body_limit = crate::extract::MAX_BODY_BYTES / 1024;
    let bulk_limit = crate::extract::MAX_BULK_BODY_BYTES / (1024 * 1024);
    doc["components"]["responses"] = json!({
        "BulkPayloadTooLarge": problem(&format!("`payload_too_large`: the body is over {bulk_limit} MiB")),
        "ValidationError": problem("`validation_error`: the body or a parameter is malformed or out of range; `errors` names each field"),
        "PayloadTooLarge": problem(&format!("`payload_too_large`: the body is over {body_limit} KiB")),
        "UnsupportedMediaType": problem("`unsupported_media_type`: the body is not JSON (nor, where accepted, form-encoded)"),
        "TenantNotFound": problem("`tenant_not_found`: no tenant has this slug, or it is disabled (`not_found` for another missing resource)"),
        "Unavailable": problem("`service_unavailable`: a dependency (the database, the revocation store) did not answer in time; retry"),
    });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut().filter_map(Value::as_object_mut) {
            let has_body = op.contains_key("requestBody");
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |status: &str, name: &str| {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
            };
            if has_body || has_query {
                add("400", "ValidationError");
            }
            if path.ends_with("/users/import") || path.ends_with("/revocations/import") {
                add("413", "BulkPayloadTooLarge");
            }
            if has_body {
                add("413", "PayloadTooLarge");
                add("415", "UnsupportedMediaType");
            }
            if path.contains("{tenant}") {
                add("404", "TenantNotFound");
            }
            if path.starts_with("/v1/") {
                add("503", "Unavailable");
            }
        }
    }
}

/// The property `field` of the component schema `schema`, to constrain.
fn property<'a>(
    doc: &'a mut Value,
    schema: &str,
    field: &str,
) -> Option<&'a mut Map<String, Value>> {
    doc.get_mut("components")?
        .get_mut("schemas")?
        .get_mut(schema)?
        .get_mut("properties")?
        .get_mut(field)?
        .as_object_mut()
}

/// Sets `rules` on a property (`items` rules are added to its items' schema).
fn constrain(doc: &mut Value, schema: &str, field: &str, rules: Value) {
    if let (Some(p), Value::Object(rules)) = (property(doc, schema, field), rules) {
        merge(p, rules);
    }
}

/// Adds `rules` to `schema`, one level into `items`.
fn merge(schema: &mut Map<String, Value>, rules: Map<String, Value>) {
    for (key, rule) in rules {
        match (schema.get_mut(&key), rule) {
            (Some(Value::Object(inner)), Value::Object(more)) if key == "items" => {
                inner.extend(more);
            }
            (_, rule) => {
                schema.insert(key, rule);
            }
        }
    }
}

/// The shape of a prefixed id (`key_` and 32 lowercase hex digits).
fn id_pattern(prefix: &str) -> String {
    format!("^{prefix}[0-9a-f]{{32}}$")
}

/// What a list's `?cursor=` looks like (what the list gives as `next_cursor`).
fn cursor_pattern(path: &str) -> String {
    use tessera_core::ids::{ApiKeyId, AuditId, ClientId, Kid, UserId};
    let slug = SLUG_PATTERN.trim_start_matches('^');
    match path.rsplit('/').next().unwrap_or_default() {
        "api-keys" => id_pattern(ApiKeyId::PREFIX),
        "clients" => id_pattern(ClientId::PREFIX),
        "audit" => id_pattern(AuditId::PREFIX),
        "keys" => id_pattern(Kid::PREFIX),
        "users" => id_pattern(UserId::PREFIX),
        "sessions" => r"^[0-9]{1,18}\.[0-9a-f]{32}$".to_owned(),
        _ => format!("^{}{slug}", tessera_actors::services::TENANT_CURSOR),
    }
}

/// Holds a character that is neither whitespace nor a control (a name people can
/// see), and no control at all.
fn visible() -> String {
    format!(r"^[^{CONTROLS}]*[^\s{CONTROLS}][^{CONTROLS}]*$")
}

/// Holds no control character.
fn no_controls() -> String {
    format!(r"^[^{CONTROLS}]*$")
}

fn username() -> Value {
    json!({"minLength": 1, "maxLength": MAX_USERNAME_CHARS, "pattern": format!(r"^[^\s{CONTROLS}]+$")})
}

/// A new password: the document knows the longest; the shortest is the tenant's
/// `password_min_length`.
fn new_password() -> Value {
    json!({
        "minLength": 1,
        "maxLength": MAX_PASSWORD_CHARS,
        "description": "At least the tenant's `password_min_length` characters (default 8).",
    })
}

fn email() -> Value {
    let c = format!(r"[^\s{CONTROLS}]");
    json!({"maxLength": MAX_EMAIL_CHARS, "pattern": format!(r"^[^@\s{CONTROLS}]+@{c}*\.{c}*$")})
}

fn roles() -> Value {
    json!({"maxItems": MAX_ROLES, "items": {
        "minLength": 1,
        "maxLength": MAX_ROLE_BYTES,
        "pattern": format!(r#"^[^"\\{CONTROLS}]+$"#),
        "description": format!("At most {MAX_ROLE_BYTES} bytes of UTF-8; no quotes, backslashes or control characters."),
    }})
}

fn external_id() -> Value {
    json!({"minLength": 1, "maxLength": MAX_EXTERNAL_ID_CHARS, "pattern": format!(r#"^[^\s"\\{CONTROLS}]+$"#)})
}

/// Lengths, ranges and patterns of request bodies.
fn request_constraints(doc: &mut Value) {
    let lifetime = json!({"minimum": 1, "maximum": MAX_LIFETIME});
    let patch = [
        (
            "display_name",
            json!({"minLength": 1, "maxLength": MAX_DISPLAY_NAME, "pattern": visible()}),
        ),
        (
            "issuer",
            json!({"maxLength": MAX_URL, "pattern": format!("^https?://[^{CONTROLS}]*$")}),
        ),
        (
            "audience",
            json!({"minLength": 1, "maxLength": MAX_URL, "pattern": no_controls()}),
        ),
        ("access_token_ttl", lifetime.clone()),
        ("refresh_token_ttl", lifetime.clone()),
        ("session_max_lifetime", lifetime),
        (
            "refresh_reuse_interval",
            json!({"minimum": 0, "maximum": MAX_REUSE_INTERVAL}),
        ),
        ("leeway", json!({"minimum": 0, "maximum": MAX_LEEWAY})),
        (
            "auth_header_types",
            json!({"minItems": 1, "items": {"enum": ["Bearer", "JWT"]}}),
        ),
        (
            "password_min_length",
            json!({"minimum": 1, "maximum": MAX_PASSWORD_CHARS}),
        ),
        (
            "allowed_origins",
            json!({"maxItems": MAX_ALLOWED_ORIGINS, "items": {
                "maxLength": MAX_ORIGIN,
                "pattern": r"^https?://[A-Za-z0-9.:\[\]-]+$",
            }}),
        ),
        (
            "login_rate_limit",
            json!({"minimum": 1, "maximum": MAX_LOGIN_RATE_LIMIT}),
        ),
        (
            "key_rotation_interval",
            json!({"minimum": 1, "maximum": MAX_ROTATION_INTERVAL}),
        ),
        (
            "custom_claims",
            json!({"propertyNames": {"not": {"enum": RESERVED_CLAIMS}}}),
        ),
    ];
    for (field, rules) in patch {
        constrain(doc, "SettingsPatch", field, rules);
    }
    for schema in ["SignupRequest", "CreateUserRequest"] {
        constrain(doc, schema, "username", username());
        constrain(doc, schema, "password", new_password());
        constrain(doc, schema, "email", email());
    }
    for (schema, field) in [
        ("CreateUserRequest", "external_id"),
        ("UserPatch", "external_id"),
        ("TesseraUser", "external_id"),
    ] {
        constrain(doc, schema, field, external_id());
    }
    let hash = json!({"maxLength": MAX_HASH_BYTES, "pattern": no_controls()});
    constrain(doc, "TesseraUser", "password_hash", hash.clone());
    constrain(doc, "DjangoUserFields", "password", hash);
    constrain(doc, "TesseraUser", "username", username());
    constrain(doc, "TesseraUser", "email", email());
    constrain(doc, "TesseraUser", "roles", roles());
    constrain(doc, "CreateUserRequest", "roles", roles());
    constrain(doc, "UserPatch", "roles", roles());
    constrain(doc, "UserPatch", "email", email());
    constrain(doc, "UserPatch", "password", new_password());
    constrain(doc, "PasswordChange", "new_password", new_password());
    constrain(
        doc,
        "CreateClientRequest",
        "name",
        json!({"minLength": 1, "maxLength": MAX_NAME, "pattern": visible()}),
    );
    constrain(
        doc,
        "CreateApiKeyRequest",
        "name",
        json!({"minLength": 1, "maxLength": MAX_NAME, "pattern": visible()}),
    );
    constrain(
        doc,
        "CreateApiKeyRequest",
        "tenant",
        json!({"pattern": SLUG_PATTERN}),
    );
}

/// Ranges of query parameters and the shape of path slugs.
fn parameter_constraints(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, op) in paths
        .iter_mut()
        .filter_map(|(path, item)| Some((path.clone(), item.as_object_mut()?)))
        .flat_map(|(path, item)| item.values_mut().map(move |op| (path.clone(), op)))
    {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for p in params.iter_mut() {
            let rules = match (p["in"].as_str(), p["name"].as_str()) {
                (Some("query"), Some("limit")) => json!({"minimum": 1, "maximum": MAX_PAGE}),
                (Some("query"), Some("search")) => {
                    json!({"maxLength": MAX_SEARCH, "pattern": no_controls()})
                }
                // Empty is the first page, like no cursor.
                (Some("query"), Some("cursor")) => {
                    json!({"pattern": format!("^$|{}", cursor_pattern(&path))})
                }
                (Some("query"), Some("wait")) => json!({"minimum": 0, "maximum": MAX_FEED_WAIT}),
                // A cursor the feed gave: the revocation generation; empty is none.
                (Some("query"), Some("since")) => json!({"pattern": "^[0-9]{0,18}$"}),
                (Some("path"), Some("tenant")) => json!({"pattern": SLUG_PATTERN}),
                _ => continue,
            };
            let schema = p.get_mut("schema").and_then(Value::as_object_mut);
            if let (Some(schema), Value::Object(rules)) = (schema, rules) {
                schema.extend(rules);
            }
        }
    }
}

/// Each setting's description ends with its default (from the defaults themselves).
fn setting_defaults(doc: &mut Value) {
    let Ok(Value::Object(defaults)) = serde_json::to_value(TenantSettings::new("-")) else {
        return;
    };
    for (field, default) in defaults {
        let shown = match (field.as_str(), &default) {
            ("display_name", _) => "the slug".to_owned(),
            (_, Value::Null) => "null".to_owned(),
            (_, v) => format!("`{v}`"),
        };
        if let Some(p) = property(doc, "SettingsPatch", &field) {
            // A nullable reference keeps its sentence inside `oneOf`: bring it up.
            let inner = p
                .get("oneOf")
                .and_then(|o| o.pointer("/0/description"))
                .cloned();
            let text = p
                .get("description")
                .or(inner.as_ref())
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut text = text.trim_end().to_owned();
            if field == "custom_claims" {
                text.push_str(&format!(
                    " `issuer`, `audience` and `custom_claims` (as JSON) together: at most \
                     {TOKEN_CLAIMS_ALLOWANCE} bytes."
                ));
            }
            p.insert(
                "description".into(),
                json!(format!("{text} Default: {shown}.")),
            );
        }
    }
}

/// `POST /v1/admin/tenants` takes a slug beside any settings in one flat object:
/// the settings' schema with `slug` added and required (a composition of two
/// closed objects could never be satisfied).
fn flat_create_tenant(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    let mut flat = schemas["SettingsPatch"].clone();
    let original = schemas["CreateTenantRequest"].clone();
    let Some(obj) = flat.as_object_mut() else {
        return;
    };
    obj.insert("description".into(), original["description"].clone());
    obj.insert("example".into(), original["example"].clone());
    obj.insert("required".into(), json!(["slug"]));
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        let slug = json!({
            "type": "string",
            "description": "Lowercase `[a-z0-9-]{3,63}`, not starting or ending with `-`; unique. It names the tenant in every path.",
            "minLength": 3,
            "maxLength": 63,
            "pattern": SLUG_PATTERN,
        });
        let mut with_slug = Map::from_iter([("slug".to_owned(), slug)]);
        with_slug.extend(std::mem::take(props));
        *props = with_slug;
    }
    schemas["CreateTenantRequest"] = flat;
}

/// A key import is one of two shapes: an HS algorithm with its secret, or an
/// asymmetric algorithm with its PEM private key.
fn key_import_shapes(doc: &mut Value) {
    let schema = &mut doc["components"]["schemas"]["ImportKeyRequest"];
    let (description, example) = (schema["description"].clone(), schema["example"].clone());
    let mut shapes: Vec<Value> = SigningAlgorithm::ALL
        .into_iter()
        .filter(|a| a.is_symmetric())
        .map(|alg| {
            json!({
                "type": "object",
                "title": format!("{alg} secret"),
                "required": ["algorithm", "secret"],
                "properties": {
                    "algorithm": {"const": alg.as_str()},
                    "secret": {
                        "type": "string",
                        "format": "password",
                        "minLength": min_secret_bytes(alg),
                        "description": format!("The shared secret (e.g. simplejwt's `SIGNING_KEY`), at least {} bytes.", min_secret_bytes(alg)),
                    },
                    "private_key": {"type": "null"},
                },
                "additionalProperties": false,
            })
        })
        .collect();
    let asymmetric: Vec<&str> = SigningAlgorithm::ALL
        .into_iter()
        .filter(|a| !a.is_symmetric())
        .map(SigningAlgorithm::as_str)
        .collect();
    shapes.push(json!({
        "type": "object",
        "title": "private key",
        "required": ["algorithm", "private_key"],
        "properties": {
            "algorithm": {"enum": asymmetric},
            "private_key": {
                "type": "string",
                "format": "password",
                "description": "The private key of the algorithm, PKCS#8 PEM (RSA at most 4096 bits).",
            },
            "secret": {"type": "null"},
        },
        "additionalProperties": false,
    }));
    *schema = json!({"description": description, "example": example, "oneOf": shapes});
}

/// The two formats of a user import, each with the records it takes; the shapes of
/// a blacklist's two records. A legacy key's fields on every key import shape.
fn import_shapes(doc: &mut Value) {
    let users = &mut doc["components"]["schemas"]["ImportUsersRequest"];
    let (description, example) = (users["description"].clone(), users["example"].clone());
    let format = |format: &str, record: &str| {
        json!({
            "type": "object",
            "title": format!("{format} records"),
            "required": ["format", "users"],
            "properties": {
                "format": {"const": format},
                "users": {
                    "type": "array",
                    "maxItems": MAX_IMPORT_USERS,
                    "items": {"$ref": format!("#/components/schemas/{record}")},
                },
            },
            "additionalProperties": false,
        })
    };
    *users = json!({"description": description, "example": example, "oneOf": [
        format("django", "DjangoUser"),
        format("tessera", "TesseraUser"),
    ]});
    let objects =
        &mut doc["components"]["schemas"]["ImportRevocationsRequest"]["properties"]["objects"];
    let records = json!({"maxItems": MAX_IMPORT_RECORDS, "items": {"oneOf": [
        {
            "type": "object",
            "title": "OutstandingToken",
            "required": ["model", "pk", "fields"],
            "properties": {
                "model": {"const": "token_blacklist.outstandingtoken"},
                "pk": {"type": ["integer", "string"]},
                "fields": {
                    "type": "object",
                    "required": ["jti", "expires_at"],
                    "properties": {
                        "jti": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                        "expires_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
        {
            "type": "object",
            "title": "BlacklistedToken",
            "required": ["model", "pk", "fields"],
            "properties": {
                "model": {"const": "token_blacklist.blacklistedtoken"},
                "pk": {"type": ["integer", "string"]},
                "fields": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {"token": {"type": ["integer", "string"]}},
                },
            },
        },
    ]}});
    if let (Some(o), Value::Object(rules)) = (objects.as_object_mut(), records) {
        merge(o, rules);
    }
    let pk = &mut doc["components"]["schemas"]["DjangoUser"]["properties"]["pk"];
    *pk = json!({"type": ["integer", "string"], "description": pk["description"].clone()});
    let legacy = json!({
        "legacy": {"type": "boolean", "default": false, "description": "Also verify the tokens the old system issued (they carry no `kid`) for `legacy_ttl` seconds; one key of a tenant is its legacy key."},
        "legacy_ttl": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIFETIME, "description": "Only with `legacy`: how long, in seconds (default: the tenant's `refresh_token_ttl`)."},
    });
    if let Some(shapes) = doc["components"]["schemas"]["ImportKeyRequest"]["oneOf"].as_array_mut() {
        for shape in shapes {
            if let (Some(p), Some(more)) = (shape["properties"].as_object_mut(), legacy.as_object())
            {
                p.extend(more.clone());
            }
        }
    }
}

/// An introspection answer is exactly `{"active": false}` or an active token's
/// facts with `"active": true`.
fn introspection_shape(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    let active = schemas["ActiveToken"].clone();
    let mut properties = active["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    properties.insert("active".into(), json!({"const": true}));
    let mut required = active["required"].as_array().cloned().unwrap_or_default();
    required.push(json!("active"));
    let answer = &mut schemas["Introspection"];
    let (description, example) = (answer["description"].clone(), answer["example"].clone());
    *answer = json!({
        "description": description,
        "example": example,
        "oneOf": [
            {
                "type": "object",
                "title": "active",
                "required": required,
                "properties": properties,
                "additionalProperties": false,
            },
            {
                "type": "object",
                "title": "inactive",
                "required": ["active"],
                "properties": {"active": {"const": false}},
                "additionalProperties": false,
            },
        ],
    });
}

/// A form-encoded body gets the same example as the JSON one, on the body and on
/// each field (what Swagger UI pre-fills a form with).
fn form_examples(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(form) = op
            .pointer_mut("/requestBody/content/application~1x-www-form-urlencoded")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let name = form
            .get("schema")
            .and_then(|s| s["$ref"].as_str())
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_default();
        let example = schemas[name]["example"].clone();
        if example.is_object() {
            form.insert("example".into(), example);
        }
    }
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else {
        return;
    };
    for name in [
        "LoginRequest",
        "RefreshRequest",
        "RevokeRequest",
        "TokenRequest",
    ] {
        let Some(schema) = schemas.get_mut(name) else {
            continue;
        };
        let example = schema["example"].clone();
        if let (Some(props), Value::Object(example)) = (
            schema.get_mut("properties").and_then(Value::as_object_mut),
            example,
        ) {
            for (field, value) in example {
                if let Some(p) = props.get_mut(&field).and_then(Value::as_object_mut) {
                    p.entry("example").or_insert(value);
                }
            }
        }
    }
}

/// Operations that change something say so: "Try it out" in Swagger UI really does
/// it, with the example's values (a placeholder id is refused as not found).
fn state_warnings(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    let harmless = ["/token", "/token/verify"];
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if method == "get" || harmless.iter().any(|h| path.ends_with(h)) {
                continue;
            }
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let text = op
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let warned = format!(
                "{text}\n\n**Changes state:** trying this out really does it, with the values shown."
            );
            op.insert("description".into(), json!(warned.trim_start()));
        }
    }
}
