//! Object keys: S3's rules, plus the ones that keep a key inside the local
//! bucket folder (no `..`, no absolute paths, no empty segments).

use serde::{Deserialize, Serialize};
use std::fmt;

/// S3's limit on key length.
pub const MAX_KEY_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn parse(key: &str) -> Result<Self, String> {
        let shown = stockwatch_domain::escape_for_terminal(key);
        if key.is_empty() {
            return Err("an object key cannot be empty".into());
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(format!("object key `{shown}` is longer than {MAX_KEY_BYTES} bytes"));
        }
        if key.chars().any(char::is_control) {
            return Err(format!("object key `{shown}` contains a control character"));
        }
        if key.contains('\\') {
            return Err(format!(
                "object key `{shown}` contains a backslash; use `/` between folders"
            ));
        }
        for segment in key.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(format!(
                    "object key `{shown}` has an empty, `.` or `..` part; keys are folder/name paths inside the bucket"
                ));
            }
        }
        Ok(ObjectKey(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Path segments, each safe to join under a folder.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment: the file name.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&stockwatch_domain::escape_for_terminal(&self.0))
    }
}

impl TryFrom<String> for ObjectKey {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        ObjectKey::parse(&value)
    }
}

impl From<ObjectKey> for String {
    fn from(key: ObjectKey) -> String {
        key.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_climb_out_of_the_bucket() {
        for bad in [
            "../etc/passwd",
            "a/../../b",
            "/abs",
            "a//b",
            "a/./b",
            "a\\..\\b",
            "",
            "a/",
            "x\0y",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn ordinary_keys_are_kept_as_given() {
        let key = ObjectKey::parse("incoming/2026-11-26/inventory berlin+1 ü.csv").unwrap();
        assert_eq!(key.file_name(), "inventory berlin+1 ü.csv");
        assert_eq!(key.segments().count(), 3);
        assert!(ObjectKey::parse(&"k".repeat(1025)).is_err());
    }
}
