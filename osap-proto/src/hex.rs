//! Byte fields as hexadecimal text in serde formats.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Deserializer, Serializer};

/// Lowercase hexadecimal text of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The bytes of hexadecimal text (either case), or `None`.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// Serializes bytes as hexadecimal text.
pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&encode(bytes))
}

/// Deserializes hexadecimal text into owned bytes.
pub(crate) fn deserialize<'de, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, [u8]>, D::Error> {
    let text = <Cow<'de, str>>::deserialize(deserializer)?;
    decode(&text)
        .map(Cow::Owned)
        .ok_or_else(|| serde::de::Error::custom("expected an even number of hexadecimal digits"))
}

/// `Vec<u8>` fields as hexadecimal text.
pub(crate) mod vec {
    use alloc::vec::Vec;

    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        super::serialize(bytes, serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        super::deserialize(deserializer).map(alloc::borrow::Cow::into_owned)
    }
}

/// `[u8; 16]` fields as hexadecimal text.
pub(crate) mod array16 {
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        bytes: &[u8; 16],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        super::serialize(bytes, serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; 16], D::Error> {
        let bytes = super::deserialize(deserializer)?;
        <[u8; 16]>::try_from(bytes.as_ref())
            .map_err(|_| serde::de::Error::custom("expected 16 bytes"))
    }
}

/// Secret byte fields: written as the redaction placeholder, read from
/// hexadecimal text (the placeholder refused).
pub(crate) mod secret {
    use alloc::borrow::Cow;

    use iot_sansio::{REDACTED, Secret};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// `"<redacted>"`, or, where the runtime asked secrets to be revealed
    /// (`iot_sansio::revealing`), the bytes in hexadecimal, as the other
    /// fields are written.
    pub(crate) fn serialize<S: Serializer>(
        secret: &Secret<[u8]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        Secret::<String>::new(super::encode(secret.expose())).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Secret<[u8]>, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        if text == REDACTED {
            return Err(serde::de::Error::custom(
                "the secret is redacted: supply the real value",
            ));
        }
        super::decode(&text)
            .map(|bytes| Secret::from_box(bytes.into_boxed_slice()))
            .ok_or_else(|| {
                serde::de::Error::custom("expected an even number of hexadecimal digits")
            })
    }
}
