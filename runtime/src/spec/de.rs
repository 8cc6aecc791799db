//! Lenient serde helpers for the workflow model: fields that Argo types as strings but that YAML authors
//! write as numbers, booleans or lists.
//!
//! Argo's `AnyString` accepts any scalar and keeps its text; a sequence or a mapping becomes its JSON text.
//! These helpers do the same, with a visitor (not an untagged enum) so that serde_yaml keeps the line and
//! column of a type error.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The text of a scalar, or the JSON text of a sequence or mapping; `None` for a YAML null.
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number, a boolean, or a list or map (kept as JSON text)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TextVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let value = serde_json::Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(Some(value.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let value = serde_json::Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Some(value.to_string()))
    }
}

/// A scalar's text (or JSON text of a list or map); a YAML null becomes `None`.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(TextVisitor)
}

/// A scalar's text; a YAML null becomes the empty string.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(d.deserialize_any(TextVisitor)?.unwrap_or_default())
}

/// One element of a list or map whose values are kept as text.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        text(d).map(Text)
    }
}

/// A list whose items are kept as text (`args: [echo, 5]`); a YAML null becomes the empty list.
pub(crate) fn text_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items: Option<Vec<Text>> = Option::deserialize(d)?;
    Ok(items.unwrap_or_default().into_iter().map(|t| t.0).collect())
}

/// A map whose values are kept as text (`limits: {cpu: 1}`); a YAML null becomes the empty map.
pub(crate) fn text_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let items: Option<BTreeMap<String, Text>> = Option::deserialize(d)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect())
}

/// A list or map that may be written as `null` (`parameters:` with nothing after it): `null` is empty.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An integer, or a string that should hold one (or a `{{...}}` tag that will): Kubernetes' `IntOrString`.
///
/// Both `limit: 10` and `limit: "10"` are accepted; [`IntOrString::as_i64`] reads either.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// Written as a YAML integer.
    Int(i64),
    /// Written as a string (possibly an integer in quotes, or a `{{...}}` tag).
    String(String),
}

impl IntOrString {
    /// The integer value: the `Int`, or the `String` parsed after trimming spaces. `None` when the string
    /// does not hold an integer (for example a `{{...}}` tag not yet substituted).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            IntOrString::Int(i) => Some(*i),
            IntOrString::String(s) => s.trim().parse().ok(),
        }
    }

    /// The value as text, as written.
    pub fn text(&self) -> String {
        match self {
            IntOrString::Int(i) => i.to_string(),
            IntOrString::String(s) => s.clone(),
        }
    }
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl From<i64> for IntOrString {
    fn from(value: i64) -> Self {
        IntOrString::Int(value)
    }
}

impl From<&str> for IntOrString {
    fn from(value: &str) -> Self {
        IntOrString::String(value.to_string())
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(i) => s.serialize_i64(*i),
            IntOrString::String(v) => s.serialize_str(v),
        }
    }
}

struct IntOrStringVisitor;

impl Visitor<'_> for IntOrStringVisitor {
    type Value = IntOrString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(IntOrString::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or_else(|_| IntOrString::String(v.to_string()), IntOrString::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Kept as text: validation reports that it is not an integer, with the position.
        Ok(IntOrString::String(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(IntOrString::String(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(IntOrString::String(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntOrStringVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_text")]
        v: Option<String>,
        #[serde(default, deserialize_with = "text_vec")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "text_map")]
        map: BTreeMap<String, String>,
        #[serde(default)]
        n: Option<IntOrString>,
    }

    fn probe(src: &str) -> Probe {
        serde_yaml::from_str(src).unwrap()
    }

    #[test]
    fn scalars_keep_their_text() {
        assert_eq!(probe("v: 5").v.as_deref(), Some("5"));
        assert_eq!(probe("v: true").v.as_deref(), Some("true"));
        assert_eq!(probe("v: 1.5").v.as_deref(), Some("1.5"));
        assert_eq!(probe("v: hello").v.as_deref(), Some("hello"));
        assert_eq!(probe("v: '007'").v.as_deref(), Some("007"));
        assert_eq!(probe("v:").v, None);
        assert_eq!(probe("v: ~").v, None);
    }

    #[test]
    fn lists_and_maps_become_json_text() {
        assert_eq!(probe("v: [a, 1]").v.as_deref(), Some(r#"["a",1]"#));
        assert_eq!(probe("v: {a: b}").v.as_deref(), Some(r#"{"a":"b"}"#));
        assert_eq!(probe("list: [echo, 5, true]").list, ["echo", "5", "true"]);
        assert_eq!(probe("map: {cpu: 1, memory: 1Gi}").map["cpu"], "1");
    }

    #[test]
    fn int_or_string_reads_both() {
        assert_eq!(probe("n: 10").n.unwrap().as_i64(), Some(10));
        assert_eq!(probe("n: '10'").n.unwrap().as_i64(), Some(10));
        let tag = probe("n: '{{inputs.parameters.n}}'").n.unwrap();
        assert_eq!(tag.as_i64(), None);
        assert_eq!(tag.text(), "{{inputs.parameters.n}}");
    }
}
