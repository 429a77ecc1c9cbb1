//! How a durable record holds a secret: as a [`Secret`] in memory (wiped
//! on drop, `<redacted>` when printed), and as its plain text when the
//! record is serialized for the runtime's store, which must get it back
//! whole; that store is the secret's keeper.

use iot_sansio::Secret;
use serde::{Deserialize, Deserializer, Serializer};

/// Serializes the secret's text.
pub(crate) fn serialize<S: Serializer>(
    secret: &Option<Secret<String>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_some(s.expose()),
        None => serializer.serialize_none(),
    }
}

/// Reads the secret's text.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Secret<String>>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(Secret::new))
}

/// The same for a secret that is always there.
pub(crate) mod required {
    use iot_sansio::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        secret: &Secret<String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(secret.expose())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Secret<String>, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}
