//! The family's secret type: redacted in `Debug` and JSON, the placeholder
//! refused when read, constant-time equality over the whole value.

#![allow(clippy::unwrap_used)]

use iot_sansio::{REDACTED, Secret};

#[test]
fn debug_and_json_never_show_the_value() {
    let s: Secret<String> = Secret::new("hunter2");
    assert!(!format!("{s:?}").contains("hunter2"));
    assert!(format!("{s:?}").contains("REDACTED"));
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        format!("\"{REDACTED}\"")
    );
    let key: Secret<[u8; 4]> = Secret::new(*b"k3y!");
    assert!(!format!("{key:?}").contains("107"), "no byte of the key");
    assert_eq!(
        serde_json::to_string(&key).unwrap(),
        format!("\"{REDACTED}\"")
    );
}

#[test]
fn deserialize_refuses_the_placeholder() {
    assert!(serde_json::from_str::<Secret<String>>("\"<redacted>\"").is_err());
    let s: Secret<String> = serde_json::from_str("\"abc\"").unwrap();
    assert_eq!(s.expose(), "abc");
}

#[test]
fn equality_compares_the_whole_value() {
    let s = |v: &str| Secret::<String>::new(v);
    assert_ne!(s("abc"), s("abd"));
    assert_ne!(s("abc"), s("abcd"));
    assert_ne!(s("abcd"), s("abc"));
    assert_eq!(s(""), Secret::default());
    let original = s("abc");
    let copy = original.clone();
    assert_eq!(copy, original);
    let bytes: Secret<[u8]> = Secret::from_box(b"xyz".as_slice().into());
    assert_eq!(bytes.clone(), bytes);
    assert_ne!(bytes, Secret::from_box(b"xyZ".as_slice().into()));
}

/// `revealing` shows secrets as they are for its closure only, on its
/// thread, and restores the redaction even when the closure panics.
#[test]
fn revealing_shows_secrets_for_its_closure_only() {
    let s: Secret<String> = Secret::new("hunter2");
    let key: Secret<[u8; 2]> = Secret::new([1, 2]);
    let inside = iot_sansio::revealing(|| {
        (
            serde_json::to_string(&s).unwrap(),
            serde_json::to_string(&key).unwrap(),
            // Another thread is not revealing.
            std::thread::scope(|t| t.spawn(|| serde_json::to_string(&s).unwrap()).join()).unwrap(),
        )
    });
    assert_eq!(
        inside,
        (
            "\"hunter2\"".to_owned(),
            "[1,2]".to_owned(),
            format!("\"{REDACTED}\"")
        )
    );
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        format!("\"{REDACTED}\"")
    );
    let panicked = std::panic::catch_unwind(|| iot_sansio::revealing(|| panic!("inside")));
    assert!(panicked.is_err());
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        format!("\"{REDACTED}\"")
    );
}

/// A secret filled in place holds what its filler wrote.
#[test]
fn a_secret_filled_in_place_holds_its_value() {
    let key: Secret<[u8; 4]> = Secret::init_with(|k: &mut [u8; 4]| k.copy_from_slice(b"k3y!"));
    assert_eq!(key.expose(), b"k3y!");
}
