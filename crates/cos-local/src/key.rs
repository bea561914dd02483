//! Names of stored entries, parsed: handlers parse a request's path into a
//! [`shared::ObjectKey`] or a [`shared::DirPath`] once, and storage and upload
//! sessions take those types; a key becomes a string again only where it is
//! written down (sidecar and session JSON, the index, listings, URLs).

use serde::{Deserialize as _, Deserializer, Serializer};
use shared::{DirPath, ObjectKey};

/// A stored entry's name: an object (`a/b.jpg`) or a directory marker (`a/b/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreKey {
    Object(ObjectKey),
    Dir(DirPath),
}

/// What the storage API accepts as a key: only parsed names.
pub(crate) trait AsStoreKey {
    /// The key as stored and listed: `a/b.jpg`, or `a/b/` for a directory
    /// marker (empty for the bucket root, which is never stored).
    fn store_key(&self) -> &str;
}

impl AsStoreKey for ObjectKey {
    fn store_key(&self) -> &str {
        self.as_str()
    }
}

impl AsStoreKey for DirPath {
    fn store_key(&self) -> &str {
        self.key_prefix()
    }
}

impl AsStoreKey for StoreKey {
    fn store_key(&self) -> &str {
        match self {
            StoreKey::Object(key) => key.store_key(),
            StoreKey::Dir(dir) => dir.store_key(),
        }
    }
}

/// `#[serde(with = "crate::key::object_key")]`: an [`ObjectKey`] written as
/// its string and parsed again when read.
pub(crate) mod object_key {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(key: &ObjectKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(key.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectKey, D::Error> {
        let text = String::deserialize(d)?;
        ObjectKey::parse(&text).map_err(serde::de::Error::custom)
    }
}
