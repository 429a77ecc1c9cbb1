//! An XML element below the stanza, as a small owned tree.

/// An XML element below the stanza: its name, namespace (declared or
/// inherited), other attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The local name.
    pub name: String,
    /// The namespace, declared on it or inherited.
    pub ns: String,
    /// Attributes other than `xmlns`, in order, unescaped.
    pub attrs: Vec<(String, String)>,
    /// Its character data, unescaped and concatenated (text between child
    /// elements included).
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

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

    /// The value of an attribute.
    #[must_use]
    pub fn get_attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether it has this name and namespace.
    #[must_use]
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name == name && self.ns == ns
    }

    /// The first child with this name and namespace.
    #[must_use]
    pub fn get_child(&self, name: &str, ns: &str) -> Option<&Self> {
        self.children.iter().find(|c| c.is(name, ns))
    }
}
