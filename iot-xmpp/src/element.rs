//! An XML element below the stanza, as a small tree: owned (`Element`), or
//! read in place from the stanza's text (`ElementRef`).

use std::borrow::Cow;

/// An XML element below the stanza: its name, namespace (declared or
/// inherited), other attributes, text and children.
///
/// `S` is how its strings are held: [`String`] (the default, what machines
/// take and build), or `Cow<'a, str>` ([`ElementRef`]) for an element read
/// in place by [`crate::Stanza::parse_ref`], whose names, attribute values
/// and text borrow from the input unless they needed unescaping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element<S = String> {
    /// The local name.
    pub name: S,
    /// The namespace, declared on it or inherited.
    pub ns: S,
    /// Attributes other than `xmlns`, in order, unescaped.
    pub attrs: Vec<(S, S)>,
    /// Its character data, unescaped and concatenated (text between child
    /// elements included).
    pub text: S,
    /// Child elements, in order.
    pub children: Vec<Element<S>>,
}

/// An element read in place: its strings borrow from the stanza's text
/// unless they needed unescaping.
pub type ElementRef<'a> = Element<Cow<'a, str>>;

impl Element {
    /// An element with no attributes, text or children.
    #[must_use]
    pub fn new(name: &str, ns: &str) -> Self {
        Self {
            name: name.to_owned(),
            ns: ns.to_owned(),
            ..Self::default()
        }
    }

    /// Adds an attribute.
    #[must_use]
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attrs.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the text.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Adds a child.
    #[must_use]
    pub fn child(mut self, child: Self) -> Self {
        self.children.push(child);
        self
    }
}

impl<S: AsRef<str>> Element<S> {
    /// The value of an attribute.
    #[must_use]
    pub fn get_attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Whether it has this name and namespace.
    #[must_use]
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name.as_ref() == name && self.ns.as_ref() == ns
    }

    /// The first child with this name and namespace.
    #[must_use]
    pub fn get_child(&self, name: &str, ns: &str) -> Option<&Self> {
        self.children.iter().find(|c| c.is(name, ns))
    }

    /// The element with its own strings, whatever holds them now.
    #[must_use]
    pub fn to_owned_element(&self) -> Element {
        Element {
            name: self.name.as_ref().to_owned(),
            ns: self.ns.as_ref().to_owned(),
            attrs: self
                .attrs
                .iter()
                .map(|(n, v)| (n.as_ref().to_owned(), v.as_ref().to_owned()))
                .collect(),
            text: self.text.as_ref().to_owned(),
            children: self.children.iter().map(Self::to_owned_element).collect(),
        }
    }
}
