//! Settings as text: how typed settings are read from their text (with errors that
//! say what is accepted), shown in summaries (secrets only as `<set>`), and how the
//! config crate's errors become one line naming the setting and its variable.
use secrecy::SecretString;
use serde::{
    Deserialize, Deserializer, Serializer,
    de::{Error as _, MapAccess, SeqAccess, Visitor},
};
use std::{fmt, net::SocketAddr, str::FromStr};

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

/// The map key that marks a hidden value in the summary's serialization (a key no
/// setting can have), so it is shown as it is rather than as a string.
const HIDDEN: &str = "\u{0}hidden";

/// Serializes a secret setting as whether it is set (`<set>`), marked as hidden.
pub(super) fn hidden<S: Serializer, T: Hidden>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(HIDDEN, &value.shown())?;
    map.end()
}

/// A setting's shown value, or a section of settings in their declared order.
enum Node {
    Leaf(String),
    Section(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Shown;
        impl<'de> Visitor<'de> for Shown {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a setting")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Leaf(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Leaf(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Leaf(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Leaf(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Leaf(format!("{v:?}")))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf("null".into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    if let Node::Leaf(text) = item {
                        items.push(text);
                    }
                }
                Ok(Node::Leaf(format!("[{}]", items.join(", "))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name == HIDDEN {
                        return Ok(Node::Leaf(map.next_value()?));
                    }
                    entries.push((name, map.next_value()?));
                }
                Ok(Node::Section(entries))
            }
        }
        d.deserialize_any(Shown)
    }
}

/// `name = value` lines for every setting of `settings` (serialized), in the order
/// the settings declare them: strings quoted, lists as `["a", "b"]`, secrets only as
/// `<set>` / `<not set>`.
pub(super) fn summarize(settings: &impl serde::Serialize) -> String {
    fn walk(out: &mut String, prefix: &str, entries: &[(String, Node)]) {
        for (name, node) in entries {
            match node {
                Node::Section(inner) => walk(out, &format!("{prefix}{name}."), inner),
                Node::Leaf(value) => out.push_str(&format!("{prefix}{name} = {value}\n")),
            }
        }
    }
    let mut out = String::new();
    let tree = serde_json::to_string(settings).and_then(|json| serde_json::from_str(&json));
    if let Ok(Node::Section(entries)) = tree {
        walk(&mut out, "", &entries);
    }
    out
}

/// The config crate's message as one line naming the setting: a message of Tessera's
/// own (what a typed setting accepts) gets the setting's variable; serde's and the
/// config crate's keep their form (with where the value came from), any quoted value
/// hidden (it may be a secret).
pub(super) fn explain(e: config::ConfigError) -> ConfigError {
    let msg = e.to_string();
    let generic = [
        "invalid type",
        "invalid value",
        "unknown field",
        "missing field",
    ];
    if generic.iter().any(|g| msg.starts_with(g)) {
        return ConfigError(hide_quoted(&msg));
    }
    let Some((why, key)) = msg.rsplit_once(" for key `") else {
        return ConfigError(msg);
    };
    let key = key.split('`').next().unwrap_or(key);
    ConfigError(format!("{key} {why} ({})", env_name(key)))
}

/// `invalid type: string "…" …` without the quoted value.
fn hide_quoted(msg: &str) -> String {
    match msg.find(" string \"") {
        Some(at) => {
            let key = msg
                .rsplit_once(" for key ")
                .map(|(_, k)| format!(" for key {k}"))
                .unwrap_or_default();
            format!("{} string <value hidden>{key}", &msg[..at])
        }
        None => msg.to_owned(),
    }
}
