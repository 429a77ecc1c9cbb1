//! The incremental stream reader (RFC 6120 section 4): bytes in pieces of
//! any size, the stream header and whole top-level elements out.

use super::error::{StreamReadError, not_well_formed};
use super::header::{StreamHeader, is_stream_end, read_header};
use crate::limits::StanzaLimits;
use crate::tree::{Scope, read_tree};
use crate::vocab::CLIENT_NS;
use crate::vocab::STREAMS_NS;

/// One thing read from the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamItem<'a> {
    /// The stream header (a new one after each restart).
    Header(&'a StreamHeader),
    /// The text of one whole top-level element: a stanza, or a nonza
    /// (`<stream:features>`, SASL and TLS negotiation, `<stream:error>`).
    Element(&'a str),
    /// `</stream:stream>`: the peer closed the stream.
    Closed,
}

/// Where the scanner is, between bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// Character data (or white space between top-level elements).
    Text,
    /// Just after `<`.
    Open,
    /// In a start tag; `quote` is the open quote, `slash` whether the last
    /// byte outside quotes was `/`.
    StartTag { quote: u8, slash: bool },
    /// In an end tag.
    EndTag,
    /// After `<!`: this many bytes of `[CDATA[` matched so far.
    Bang(u8),
    /// In a CDATA section: this many bytes of `]]>` matched so far.
    CData(u8),
    /// In the XML declaration, after `<?`; whether the last byte was `?`.
    Decl(bool),
}

/// Reads an XML stream incrementally: the header, then one whole
/// top-level element at a time, within [`StanzaLimits`].
///
/// The reader finds where each top-level element ends with a small
/// scanner (tags, quotes, CDATA) and never buffers more than one
/// element, nor more than `max_len` bytes of it: an element that would
/// exceed the limit is refused as soon as its `max_len + 1`-th byte
/// arrives. The element's text is then read by quick-xml
/// ([`Stanza::parse`](crate::Stanza::parse), or
/// [`StreamReader::read_element`] for a nonza). Comments, processing
/// instructions (the XML declaration before the header apart) and DTDs
/// are refused (RFC 6120 section 11.1), so no entity is ever defined or
/// expanded; white space between elements (keepalives) is skipped.
///
/// ```
/// use iot_xmpp::stream::{StreamItem, StreamReader};
///
/// let mut reader = StreamReader::default();
/// let mut got = Vec::new();
/// let input = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
///     xmlns:stream='http://etherx.jabber.org/streams' id='s1' version='1.0'> \
///     <presence/>\n<message><body>hi</body></message></stream:stream>";
/// // One byte at a time, as a slow network would deliver it.
/// for byte in input.as_bytes().chunks(1) {
///     reader.feed(byte, |item| {
///         got.push(match item {
///             StreamItem::Header(h) => format!("header {:?}", h.id),
///             StreamItem::Element(e) => e.to_owned(),
///             StreamItem::Closed => "closed".to_owned(),
///         });
///         Ok::<_, iot_xmpp::stream::StreamReadError>(true)
///     })?;
/// }
/// assert_eq!(got, ["header Some(\"s1\")", "<presence/>", "<message><body>hi</body></message>", "closed"]);
/// # Ok::<(), iot_xmpp::stream::StreamReadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StreamReader {
    limits: StanzaLimits,
    /// The bytes of the element (or header) begun in an earlier read.
    buf: Vec<u8>,
    lex: Lex,
    /// Element depth inside the current top-level element (0 between
    /// them).
    depth: usize,
    /// Elements opened in the current top-level element.
    elements: usize,
    /// The header of the current stream, once read.
    header: Option<StreamHeader>,
    /// Whether an XML declaration may still come.
    decl_allowed: bool,
    /// Whether the stream was closed (nothing more is read).
    closed: bool,
    /// Reading fragments: top-level elements without a stream header (an
    /// XML declaration allowed before the first).
    fragments: bool,
    /// Whether the text of an element split across reads is kept (off
    /// for a caller that keeps the bytes itself and only asks where the
    /// element ends).
    keep: bool,
    /// Bytes of the current top-level element seen in earlier reads.
    partial: usize,
}

/// Hands a complete item, read as `span` from `text`, to `handle`;
/// returns whether to go on.
fn emit<E: From<StreamReadError>>(
    span: Span,
    text: &[u8],
    header: &mut Option<StreamHeader>,
    fragments: bool,
    closed: &mut bool,
    handle: &mut impl FnMut(StreamItem<'_>) -> Result<bool, E>,
) -> Result<bool, E> {
    match span {
        Span::Decl => Ok(true),
        Span::Header => {
            let read = header.insert(read_header(text)?);
            handle(StreamItem::Header(read))
        }
        Span::Close if fragments => Err(not_well_formed("an end tag without its start").into()),
        Span::Close => {
            let prefix = header.as_ref().map_or("", |h| h.prefix.as_str());
            if !is_stream_end(text, prefix) {
                return Err(not_well_formed("an end tag that does not close the stream").into());
            }
            *closed = true;
            handle(StreamItem::Closed)
        }
        Span::Element => {
            let text = core::str::from_utf8(text)
                .map_err(|_| not_well_formed("an element is not UTF-8"))?;
            handle(StreamItem::Element(text))
        }
    }
}

impl Default for StreamReader {
    fn default() -> Self {
        Self::new(StanzaLimits::default())
    }
}

/// What the scanner found at a byte.
enum Found {
    Nothing,
    /// A markup construct ended: the top-level element, the header or the
    /// declaration, or `</stream:stream>`.
    End(Span),
}

#[derive(Clone, Copy)]
enum Span {
    Element,
    Header,
    Decl,
    Close,
}

impl StreamReader {
    /// A reader within `limits`, expecting a stream header.
    #[must_use]
    pub fn new(limits: StanzaLimits) -> Self {
        Self {
            limits,
            buf: Vec::new(),
            lex: Lex::Text,
            depth: 0,
            elements: 0,
            header: None,
            decl_allowed: true,
            closed: false,
            fragments: false,
            keep: true,
            partial: 0,
        }
    }

    /// A reader of top-level elements without a stream header (an XML
    /// declaration allowed before the first, a DTD, comments and
    /// processing instructions refused as in a stream), within `limits`;
    /// with `keep` off it buffers nothing and hands out each element's
    /// text as empty, for a caller that keeps the bytes and only asks
    /// where each element ends ([`DocumentEnd`](super::DocumentEnd)).
    #[must_use]
    pub fn fragments(limits: StanzaLimits, keep: bool) -> Self {
        Self {
            header: Some(StreamHeader::default()),
            fragments: true,
            keep,
            ..Self::new(limits)
        }
    }

    /// The limits.
    #[must_use]
    pub fn limits(&self) -> &StanzaLimits {
        &self.limits
    }

    /// The header of the current stream, once read.
    #[must_use]
    pub fn header(&self) -> Option<&StreamHeader> {
        self.header.as_ref()
    }

    /// Expects a new stream header: after STARTTLS and after SASL success
    /// (RFC 6120 sections 5.4.3.3 and 6.4.6), on the bytes that follow.
    pub fn restart(&mut self) {
        *self = if self.fragments {
            Self::fragments(self.limits, self.keep)
        } else {
            Self::new(self.limits)
        };
    }

    /// Whether bytes of an incomplete element are buffered.
    #[must_use]
    pub fn has_partial(&self) -> bool {
        self.partial > 0 || self.depth > 0 || self.lex != Lex::Text
    }

    /// Feeds `data` and hands each item to `handle`, which says whether to
    /// go on (`Ok(true)`) or stop (`Ok(false)`: the rest of `data` is left
    /// unread, for a restart after STARTTLS or SASL, say). Returns how many
    /// bytes were read.
    ///
    /// # Errors
    ///
    /// The first [`StreamReadError`] (converted into `E`), or `handle`'s
    /// error. After an error the stream cannot go on: send the stream
    /// error and close.
    pub fn feed<E: From<StreamReadError>>(
        &mut self,
        data: &[u8],
        mut handle: impl FnMut(StreamItem<'_>) -> Result<bool, E>,
    ) -> Result<usize, E> {
        let mut start = 0;
        let mut i = 0;
        while i < data.len() {
            if self.closed {
                return Ok(i);
            }
            let at_rest = self.depth == 0 && self.lex == Lex::Text && self.partial == 0;
            if at_rest {
                // Between top-level items: skip white space; anything
                // else must open markup.
                let b = data[i];
                if b.is_ascii_whitespace() {
                    i += 1;
                    continue;
                }
                if b != b'<' {
                    return Err(not_well_formed("text between top-level elements").into());
                }
                start = i;
            } else {
                // Bytes that cannot change the scanner's state are
                // skipped a word at a time.
                i += self.skip(&data[i..]);
                self.check_len(self.partial + (i - start))?;
                if i == data.len() {
                    break;
                }
            }
            let found = self.scan(data[i])?;
            i += 1;
            self.check_len(self.partial + (i - start))?;
            let Found::End(span) = found else {
                continue;
            };
            let text: &[u8] = if !self.keep {
                &[]
            } else if self.buf.is_empty() {
                &data[start..i]
            } else {
                self.buf.extend_from_slice(&data[start..i]);
                &self.buf
            };
            let go = emit(
                span,
                text,
                &mut self.header,
                self.fragments,
                &mut self.closed,
                &mut handle,
            )?;
            self.buf.clear();
            self.partial = 0;
            self.elements = 0;
            start = i;
            if !go {
                return Ok(i);
            }
        }
        if self.has_partial() && start < data.len() {
            if self.keep {
                self.buf.extend_from_slice(&data[start..]);
            }
            self.partial += data.len() - start;
        }
        Ok(data.len())
    }

    /// An item of `len` bytes so far is within the limit.
    fn check_len(&self, len: usize) -> Result<(), StreamReadError> {
        if len > self.limits.max_len {
            return Err(StreamReadError::TooLong {
                max: self.limits.max_len,
            });
        }
        Ok(())
    }

    /// How many bytes at the start of `rest` leave the scanner where it
    /// is (text without `<`, a tag without `>`, quotes or `<`, and so on),
    /// found with `memchr`; a start tag's `/` before its `>` is noted.
    fn skip(&mut self, rest: &[u8]) -> usize {
        match self.lex {
            Lex::Text => memchr::memchr(b'<', rest).unwrap_or(rest.len()),
            Lex::StartTag { quote: 0, slash } => {
                let end = memchr::memchr3(b'>', b'"', b'\'', rest).unwrap_or(rest.len());
                let end = memchr::memchr(b'<', &rest[..end]).unwrap_or(end);
                let slash = match end.checked_sub(1) {
                    Some(last) => rest[last] == b'/',
                    None => slash,
                };
                self.lex = Lex::StartTag { quote: 0, slash };
                end
            }
            Lex::StartTag { quote, .. } => memchr::memchr2(quote, b'<', rest).unwrap_or(rest.len()),
            Lex::EndTag => memchr::memchr2(b'>', b'<', rest).unwrap_or(rest.len()),
            Lex::CData(0) => memchr::memchr(b']', rest).unwrap_or(rest.len()),
            _ => 0,
        }
    }

    /// After `<!` and `n` bytes of `[CDATA[`: the next one, `b`. Only a
    /// CDATA section is allowed, and only inside an element (RFC 6120
    /// 11.1).
    fn bang(&self, n: u8, b: u8) -> Result<Lex, StreamReadError> {
        const CDATA: &[u8] = b"[CDATA[";
        let comment = StreamReadError::Restricted("a comment");
        let doctype = StreamReadError::Restricted("a DOCTYPE");
        if self.depth == 0 {
            return Err(if b == b'-' { comment } else { doctype });
        }
        match CDATA.get(usize::from(n)) {
            Some(&c) if c == b => Ok(if usize::from(n) + 1 == CDATA.len() {
                Lex::CData(0)
            } else {
                Lex::Bang(n + 1)
            }),
            _ if n == 0 && b == b'-' => Err(comment),
            _ => Err(doctype),
        }
    }

    /// Advances the scanner over one byte.
    fn scan(&mut self, b: u8) -> Result<Found, StreamReadError> {
        self.lex = match (self.lex, b) {
            (Lex::Text, b'<') => Lex::Open,
            (Lex::Text, _) => Lex::Text,
            (Lex::Open, b'/') => Lex::EndTag,
            (Lex::Open, b'!') => {
                if self.header.is_none() {
                    return Err(StreamReadError::Restricted("a DOCTYPE"));
                }
                Lex::Bang(0)
            }
            (Lex::Open, b'?') => {
                if (self.header.is_some() && !self.fragments)
                    || self.depth > 0
                    || !self.decl_allowed
                {
                    return Err(StreamReadError::Restricted("a processing instruction"));
                }
                Lex::Decl(false)
            }
            (Lex::Open, _) => {
                self.open_element()?;
                Lex::StartTag {
                    quote: 0,
                    slash: false,
                }
            }
            (Lex::StartTag { quote: 0, slash }, b'>') => {
                self.lex = Lex::Text;
                return self.close_start_tag(slash);
            }
            (Lex::StartTag { quote: 0, .. }, q @ (b'"' | b'\'')) => Lex::StartTag {
                quote: q,
                slash: false,
            },
            (Lex::StartTag { quote: 0, .. }, b'<') => {
                return Err(not_well_formed("`<` in a tag"));
            }
            (Lex::StartTag { quote: 0, .. }, _) => Lex::StartTag {
                quote: 0,
                slash: b == b'/',
            },
            (Lex::StartTag { quote, .. }, _) if b == quote => Lex::StartTag {
                quote: 0,
                slash: false,
            },
            (Lex::StartTag { quote, .. }, b'<') if quote != 0 => {
                return Err(not_well_formed("`<` in an attribute value"));
            }
            (s @ Lex::StartTag { .. }, _) => s,
            (Lex::EndTag, b'>') => {
                self.lex = Lex::Text;
                return self.close_end_tag();
            }
            (Lex::EndTag, b'<') => return Err(not_well_formed("`<` in an end tag")),
            (Lex::EndTag, _) => Lex::EndTag,
            (Lex::Bang(n), _) => self.bang(n, b)?,
            (Lex::CData(2), b'>') => Lex::Text,
            (Lex::CData(n @ (0 | 1)), b']') => Lex::CData(n + 1),
            (Lex::CData(2), b']') => Lex::CData(2),
            (Lex::CData(_), _) => Lex::CData(0),
            (Lex::Decl(true), b'>') => {
                self.lex = Lex::Text;
                self.decl_allowed = false;
                return Ok(Found::End(Span::Decl));
            }
            (Lex::Decl(_), _) => Lex::Decl(b == b'?'),
        };
        Ok(Found::Nothing)
    }

    fn open_element(&mut self) -> Result<(), StreamReadError> {
        self.decl_allowed = false;
        if self.header.is_none() {
            // The header: scanned as a tag of its own.
            return Ok(());
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(StreamReadError::TooManyElements {
                max: self.limits.max_elements,
            });
        }
        if self.depth + 1 > self.limits.max_depth {
            return Err(StreamReadError::TooDeep {
                max: self.limits.max_depth,
            });
        }
        Ok(())
    }

    fn close_start_tag(&mut self, empty: bool) -> Result<Found, StreamReadError> {
        if self.header.is_none() {
            if empty {
                return Err(StreamReadError::BadHeader(
                    "the stream header closes itself".into(),
                ));
            }
            return Ok(Found::End(Span::Header));
        }
        if empty {
            return Ok(if self.depth == 0 {
                Found::End(Span::Element)
            } else {
                Found::Nothing
            });
        }
        self.depth += 1;
        Ok(Found::Nothing)
    }

    fn close_end_tag(&mut self) -> Result<Found, StreamReadError> {
        if self.header.is_none() {
            return Err(not_well_formed("an end tag before the stream header"));
        }
        match self.depth {
            0 => Ok(Found::End(Span::Close)),
            1 => {
                self.depth = 0;
                Ok(Found::End(Span::Element))
            }
            _ => {
                self.depth -= 1;
                Ok(Found::Nothing)
            }
        }
    }

    /// Reads a top-level element's text (a nonza, or a stanza as an
    /// element) into an [`Element`](crate::Element), within this reader's
    /// limits and in the scope of the stream header it read: elements
    /// without a prefix are in its default namespace, and its prefixes
    /// (`stream`, or whichever the peer bound to the stream namespace)
    /// resolve as it declared them. Before any header, the scope is
    /// `jabber:client` with `stream` bound to the stream namespace.
    ///
    /// # Errors
    ///
    /// A [`StanzaReadError`](crate::StanzaReadError) when the text is not one
    /// element this crate can read.
    pub fn read_element(
        &self,
        xml: &str,
    ) -> Result<crate::element::Element, crate::error::StanzaReadError> {
        static BEFORE_HEADER: std::sync::OnceLock<Vec<(String, String)>> =
            std::sync::OnceLock::new();
        let scope = match &self.header {
            Some(h) => h.scope(),
            None => Scope {
                default: CLIENT_NS,
                prefixes: BEFORE_HEADER
                    .get_or_init(|| vec![("stream".to_owned(), STREAMS_NS.to_owned())]),
            },
        };
        read_tree(xml, &self.limits, scope)
    }
}
