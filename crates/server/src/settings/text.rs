//! Settings as text: how typed settings are read from their text (with errors that
//! say what is accepted), shown in summaries (secrets only as `<set>`), and how the
//! config crate's errors become one line naming the setting and its variable.
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
use std::{fmt, net::SocketAddr, str::FromStr};
use tessera_core::secret::SecretString;

use super::{ConfigError, env_name};

/// Reads a setting written as text through its type's `FromStr` (whose error says
/// what is accepted).
pub(super) fn text<'de, D: Deserializer<'de>, T: FromStr<Err: fmt::Display>>(
    d: D,
) -> Result<T, D::Error> {
    String::deserialize(d)?.parse().map_err(D::Error::custom)
}

/// Reads a listening address.
pub(super) fn address<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(d)?;
    text.parse()
        .map_err(|_| D::Error::custom("must be an address like 127.0.0.1:8080"))
}

/// Shows a typed setting as its text.
pub(super) fn shown<S: Serializer, T: fmt::Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// What a secret setting shows in summaries: whether it is set, never its value.
pub(super) trait Hidden {
    /// `<set>`, `<not set>` or `<n set>`.
    fn shown(&self) -> String;
}

impl Hidden for SecretString {
    fn shown(&self) -> String {
        "<set>".into()
    }
}

impl Hidden for Option<SecretString> {
    fn shown(&self) -> String {
        if self.is_some() { "<set>" } else { "<not set>" }.into()
    }
}

impl Hidden for Vec<SecretString> {
    fn shown(&self) -> String {
        match self.len() {
            0 => "<not set>".into(),
            n => format!("<{n} set>"),
        }
    }
}

pub(super) fn hidden<S: Serializer, T: Hidden>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&value.shown())
}

/// Appends `prefix.name = value` for every leaf of `map`: strings quoted, lists as
/// `["a", "b"]`, hidden secrets (`<set>`) as they are.
pub(super) fn summarize(
    out: &mut String,
    prefix: &str,
    map: &serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::Value;
    fn show(v: &Value) -> String {
        match v {
            Value::String(s) if s.starts_with('<') && s.ends_with('>') => s.clone(),
            Value::String(s) => format!("{s:?}"),
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(show).collect();
                format!("[{}]", items.join(", "))
            }
            other => other.to_string(),
        }
    }
    for (name, value) in map {
        match value {
            Value::Object(section) => summarize(out, &format!("{name}."), section),
            leaf => out.push_str(&format!("{prefix}{name} = {}\n", show(leaf))),
        }
    }
}

/// The config crate's message as one line that names the setting and its variable;
/// a quoted value (a type error may quote it, and it may be a secret) is hidden.
pub(super) fn explain(e: config::ConfigError) -> ConfigError {
    let msg = e.to_string();
    let Some((why, key)) = msg.rsplit_once(" for key `") else {
        return ConfigError(msg);
    };
    let key = key.split('`').next().unwrap_or(key);
    let why = match why.find(" string \"") {
        Some(at) if why.starts_with("invalid ") => format!("{} string <value hidden>", &why[..at]),
        _ => why.to_owned(),
    };
    ConfigError(format!("{key}: {why} ({})", env_name(key)))
}
