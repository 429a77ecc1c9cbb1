//! The one secret type of the family.

use alloc::boxed::Box;

use secrecy::{ExposeSecret, SecretBox};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// The text that stands for a secret wherever one is serialized.
pub const REDACTED: &str = "<redacted>";

/// A secret value: a key, a password, a token, a credential, a verification
/// code. It lives in `secrecy`'s zeroizing box, so it is wiped from memory
/// when dropped and its `Debug` shows `[REDACTED]`; it compares in constant
/// time (with `subtle`), whatever the position of the first difference;
/// and with the `serde` feature it serializes as `"<redacted>"` and refuses
/// that placeholder when read back, so a redacted document cannot be
/// turned back into a request by mistake.
///
/// ```
/// use iot_sansio::Secret;
///
/// let token: Secret<String> = Secret::new("s3cret");
/// assert!(!format!("{token:?}").contains("s3cret"));
/// assert_eq!(token.expose(), "s3cret");
/// assert_eq!(token, Secret::new("s3cret"));
/// assert_ne!(token, Secret::new("s3creT"));
/// ```
///
/// `T` may be unsized: a `Secret<[u8]>` holds its bytes in one
/// allocation.
#[derive(Debug)]
pub struct Secret<T: Zeroize + ?Sized>(SecretBox<T>);

impl<T: Zeroize> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: impl Into<T>) -> Self {
        Self(SecretBox::new(Box::new(value.into())))
    }
}

impl<T: Zeroize + ?Sized> Secret<T> {
    /// Takes a boxed secret value (a `Box<[u8]>`, say) without copying it.
    pub fn from_box(value: Box<T>) -> Self {
        Self(SecretBox::new(value))
    }

    /// The secret value, for the moment it must be used.
    #[must_use]
    pub fn expose(&self) -> &T {
        self.0.expose_secret()
    }
}

impl<T: Zeroize + Default> Secret<T> {
    /// A secret filled in place by `fill`, so that the value is never
    /// copied through the stack on its way into the box (keys derived or
    /// drawn from an RNG).
    pub fn init_with(fill: impl FnOnce(&mut T)) -> Self {
        let mut boxed = Box::<T>::default();
        fill(&mut boxed);
        Self(SecretBox::new(boxed))
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self::new(self.expose().clone())
    }
}

impl<T: Zeroize + Clone> Clone for Secret<[T]>
where
    [T]: Zeroize,
{
    fn clone(&self) -> Self {
        Self::from_box(self.expose().into())
    }
}

impl<T: Zeroize + Default> Default for Secret<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: Zeroize + AsRef<[u8]> + ?Sized> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        self.expose().as_ref().ct_eq(other.expose().as_ref()).into()
    }
}

impl<T: Zeroize + AsRef<[u8]> + ?Sized> Eq for Secret<T> {}

#[cfg(all(feature = "std", feature = "serde"))]
std::thread_local! {
    static REVEAL: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Runs `f` with every [`Secret`] serialized as its value, not as
/// `"<redacted>"`, on this thread (features `std` and `serde`): for a tool
/// asked to print a document whole, so that what it prints reads back
/// (a decoder's `--reveal`). Outside `f`, and on other threads, secrets
/// stay redacted.
///
/// ```
/// use iot_sansio::{Secret, revealing};
///
/// let token: Secret<String> = Secret::new("s3cret");
/// assert_eq!(serde_json::to_string(&token)?, r#""<redacted>""#);
/// assert_eq!(revealing(|| serde_json::to_string(&token))?, r#""s3cret""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[cfg(all(feature = "std", feature = "serde"))]
pub fn revealing<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            REVEAL.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(REVEAL.with(|r| r.replace(true)));
    f()
}

#[cfg(feature = "serde")]
fn revealed() -> bool {
    #[cfg(feature = "std")]
    {
        REVEAL.with(core::cell::Cell::get)
    }
    #[cfg(not(feature = "std"))]
    {
        false
    }
}

#[cfg(feature = "serde")]
impl<T: Zeroize + ?Sized + serde::Serialize> serde::Serialize for Secret<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if revealed() {
            self.expose().serialize(serializer)
        } else {
            serializer.serialize_str(REDACTED)
        }
    }
}

#[cfg(feature = "serde")]
impl<'de, T> serde::Deserialize<'de> for Secret<T>
where
    T: Zeroize + AsRef<[u8]> + serde::Deserialize<'de>,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = T::deserialize(deserializer)?;
        if value.as_ref() == REDACTED.as_bytes() {
            value.zeroize();
            return Err(serde::de::Error::custom(
                "the secret is redacted: supply the real value",
            ));
        }
        Ok(Self(SecretBox::new(Box::new(value))))
    }
}
