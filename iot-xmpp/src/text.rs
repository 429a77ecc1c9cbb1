//! Reading XML text in place, for the readers built on quick-xml (the
//! stanza reader here, the `<rest>` reader of `oic-ra-proto`): strings are
//! lent from the document where it holds them as they are, and copied only
//! where a reference had to be resolved.

use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::BytesStart;
use quick_xml::events::attributes::Attributes;

/// The part of `xml` that `part` is, when `part` lies in `xml` (quick-xml's
/// reader over a `&str` hands out slices of it): a string of the
/// document's lifetime, without a second UTF-8 check. `None` for bytes
/// that lie elsewhere.
#[must_use]
pub fn lend<'a>(xml: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(xml.as_ptr() as usize)?;
    xml.get(start..start.checked_add(part.len())?)
}

/// Text the reader handed out, as a string: lent from `xml` when it lies
/// there, else checked and copied.
///
/// # Errors
///
/// When bytes from elsewhere are not UTF-8.
pub fn text_of<'a>(xml: &'a str, bytes: &[u8]) -> Result<Cow<'a, str>, core::str::Utf8Error> {
    match lend(xml, bytes) {
        Some(text) => Ok(Cow::Borrowed(text)),
        None => core::str::from_utf8(bytes).map(|t| Cow::Owned(t.to_owned())),
    }
}

/// Appends a piece of an element's text: the first piece is kept as it is
/// (lent from the document, most often); a second makes the text owned.
pub fn push_text<'a>(text: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if text.is_empty() {
        *text = piece;
    } else {
        text.to_mut().push_str(&piece);
    }
}

/// A start tag read in place: its name, and an iterator over its
/// attributes whose names and values are lent from `xml`. The iterator
/// does not check for names given twice (that check would allocate for
/// every tag): the caller refuses them.
///
/// # Errors
///
/// The reason, for a tag that does not lie in `xml`.
pub fn tag<'a>(xml: &'a str, e: &BytesStart<'_>) -> Result<(&'a str, Attributes<'a>), String> {
    let name_len = e.name().as_ref().len();
    let text = lend(xml, e).ok_or("a tag outside the text being read")?;
    let name = text.get(..name_len).unwrap_or_default();
    let mut attributes = Attributes::new(text, name_len);
    attributes.with_checks(false);
    Ok((name, attributes))
}

/// Appends the text of a character reference or one of the five
/// predefined entities to `text`.
///
/// # Errors
///
/// The reason, for a malformed reference or any other entity (a stanza
/// cannot declare entities).
pub fn push_reference(
    text: &mut String,
    g: &quick_xml::events::BytesRef<'_>,
) -> Result<(), String> {
    if let Some(c) = g.resolve_char_ref().map_err(|e| e.to_string())? {
        text.push(c);
        return Ok(());
    }
    let name = g.decode().map_err(|e| e.to_string())?;
    let resolved =
        resolve_predefined_entity(&name).ok_or_else(|| format!("unknown entity &{name};"))?;
    text.push_str(resolved);
    Ok(())
}
