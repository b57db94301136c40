//! Duplicate keys, found while deserialising, in the same pass.
//!
//! JSON (RFC 8259) leaves duplicate object keys to the reader, and serde_json's
//! answer is "the last one wins" for a `Value` and "ignore it" for an unknown
//! field of a struct. For a status document that is dangerous: a document with
//! two `status` objects says two things, and whichever the parser happened to
//! keep is not a fact the floor can trust.
//!
//! [`Dedup`] wraps any [`Deserializer`] and passes every call through unchanged,
//! except that it watches map keys. Each map remembers the keys it has seen; a key
//! seen twice is recorded in a [`Track`] by JSON pointer (RFC 6901) and
//! deserialisation carries on, so the caller decides what a duplicate means and
//! every duplicate is listed, not only the first.
//!
//! This sits on the hot path (every poll of every service), so it is frugal:
//! - The keys of all the open maps live end to end in one `String`, like a stack:
//!   a map's keys are pushed as they are read and popped when the map ends, which
//!   works because an inner map always ends before its outer map reads its next
//!   key. No allocation per key.
//! - A pointer is built only when a duplicate is found, from a stack of frames
//!   (one per open map or sequence, holding its current key or index).
//! - A struct's field names (keys read with `deserialize_identifier`) are not
//!   compared when read: serde's derive already rejects a known field given twice,
//!   and the caller then re-parses on the slow path, which compares every key. A
//!   field name is compared only when its value turns out to be ignored (an
//!   unknown field), which valid documents rarely have.
//! - Objects past [`SCAN_LIMIT`] keys switch from a linear scan to a hash set.
//!
//! Ignored values (unknown fields of a struct) are usually skipped by the format
//! without visiting them; here they are visited (`deserialize_any` into serde's
//! own `IgnoredAny`), because a duplicate inside an unknown object is still a
//! duplicate.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::{self, Write as _};

use serde::Deserialize as _;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// Past this many keys a map checks new keys against a hash set instead of a
/// linear scan: a hostile object with 100,000 keys must not cost 10^10
/// comparisons. std's SipHash is keyed per process, so keys cannot be chosen to
/// collide.
const SCAN_LIMIT: usize = 32;

/// What a [`Dedup`] pass has seen: the keys and frames of the open maps and
/// sequences, and every duplicate found so far.
#[derive(Debug)]
pub(crate) struct Track {
    /// The keys of every open map, end to end (see the module doc).
    keys: String,
    /// Where each key lies in `keys`.
    spans: Vec<Span>,
    /// One per open map or sequence, outermost first.
    frames: Vec<Frame>,
    /// How the key just read was captured, if it was read as a string.
    captured: Option<Role>,
    /// Pointers of the duplicated keys, in document order.
    duplicates: Vec<String>,
}

/// One key in `Track::keys`: its byte range and, for keys compared when read, a
/// hash, so that telling keys apart is usually one integer comparison (0: none).
#[derive(Debug, Clone, Copy)]
struct Span {
    hash: u64,
    start: usize,
    end: usize,
}

/// What a [`Dedup`] is deserialising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A value.
    Value,
    /// A map key, compared as soon as it is read.
    Key,
    /// A struct's field name: compared only if its value is ignored.
    Identifier,
}

/// An open container.
#[derive(Debug)]
enum Frame {
    Map(MapFrame),
    /// A sequence at element `index`.
    Seq {
        index: usize,
    },
}

/// An open map.
#[derive(Debug)]
struct MapFrame {
    /// The index in `Track::spans` of the map's first key.
    first: usize,
    /// Its current key (none before the first).
    current: Option<usize>,
    /// The current key is a field name not yet compared.
    pending: bool,
    /// The map's keys, once it has more than [`SCAN_LIMIT`].
    big: Option<HashSet<Box<[u8]>>>,
}

/// FNV-1a: short keys, no setup, good enough to make unequal keys compare unequal
/// at the first integer; equal hashes are confirmed byte for byte.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl Track {
    /// An empty track, with room for a typical document's keys.
    pub(crate) fn new() -> Self {
        Track {
            keys: String::with_capacity(256),
            spans: Vec::with_capacity(32),
            frames: Vec::with_capacity(8),
            captured: None,
            duplicates: Vec::new(),
        }
    }

    /// True while no duplicate has been found.
    pub(crate) fn is_clean(&self) -> bool {
        self.duplicates.is_empty()
    }

    /// The JSON pointers of the duplicated keys, in document order.
    pub(crate) fn into_duplicates(self) -> Vec<String> {
        self.duplicates
    }

    fn open(&mut self, frame: Frame) -> usize {
        self.frames.push(frame);
        self.frames.len() - 1
    }

    /// Pops a frame, and a map's keys, however its visitor left it.
    fn close(&mut self, frame: usize) {
        if let Some(Frame::Map(map)) = self.frames.get(frame) {
            let first = map.first;
            if let Some(span) = self.spans.get(first) {
                let start = span.start;
                self.keys.truncate(start);
            }
            self.spans.truncate(first);
        }
        self.frames.truncate(frame);
    }

    fn capture(&mut self, key: &str, role: Role) {
        let start = self.keys.len();
        self.keys.push_str(key);
        let end = self.keys.len();
        let hash = if role == Role::Key {
            fnv1a(key.as_bytes())
        } else {
            0
        };
        self.spans.push(Span { hash, start, end });
        self.captured = Some(role);
    }

    /// A key of the map at `frame` has been read: make it current, and compare it
    /// now unless it is a field name.
    fn key_read(&mut self, frame: usize) {
        let role = self.captured.take();
        if role.is_none() {
            // A key not read as a string (never the case in JSON) is not checked;
            // an empty entry keeps "the last span is the current key" true.
            let end = self.keys.len();
            self.spans.push(Span {
                hash: 0,
                start: end,
                end,
            });
        }
        let last = self.spans.len() - 1;
        if let Some(Frame::Map(map)) = self.frames.get_mut(frame) {
            map.current = Some(last);
            map.pending = role == Some(Role::Identifier);
        }
        if role == Some(Role::Key) {
            self.check(frame);
        }
    }

    /// A value is about to be ignored: if it belongs to a field name not yet
    /// compared (an unknown field), compare that name now.
    fn value_ignored(&mut self) {
        let innermost = self.frames.len().wrapping_sub(1);
        if let Some(Frame::Map(map)) = self.frames.get_mut(innermost)
            && map.pending
        {
            map.pending = false;
            self.check(innermost);
        }
    }

    /// Compares the current key of the map at `frame` with its earlier keys and
    /// records a duplicate.
    fn check(&mut self, frame: usize) {
        let Some(Frame::Map(map)) = self.frames.get_mut(frame) else {
            return;
        };
        let Some(current) = map.current else {
            return;
        };
        let bytes = self.keys.as_bytes();
        let key = self.spans[current];
        let name = &bytes[key.start..key.end];
        let earlier = &self.spans[map.first..current];
        let repeated = if let Some(set) = &mut map.big {
            !set.insert(name.into())
        } else if earlier.len() >= SCAN_LIMIT {
            let mut set: HashSet<Box<[u8]>> = earlier
                .iter()
                .map(|s| bytes[s.start..s.end].into())
                .collect();
            let repeated = !set.insert(name.into());
            map.big = Some(set);
            repeated
        } else {
            // A hash of 0 means "not hashed": compare the bytes.
            earlier.iter().any(|s| {
                (s.hash == key.hash || s.hash == 0 || key.hash == 0)
                    && &bytes[s.start..s.end] == name
            })
        };
        if repeated {
            let pointer = self.pointer_to(frame, key);
            self.duplicates.push(pointer);
        }
    }

    /// The pointer of `key` in the map at `frame`, through the current key or
    /// index of every frame outside it.
    fn pointer_to(&self, frame: usize, key: Span) -> String {
        let mut pointer = String::new();
        for outer in &self.frames[..frame] {
            match outer {
                Frame::Map(MapFrame {
                    current: Some(i), ..
                }) => {
                    let span = self.spans[*i];
                    push_token(&mut pointer, &self.keys[span.start..span.end]);
                }
                Frame::Map(_) => push_token(&mut pointer, ""),
                // Writing to a String cannot fail.
                Frame::Seq { index } => {
                    let _ = write!(pointer, "/{index}");
                }
            }
        }
        push_token(&mut pointer, &self.keys[key.start..key.end]);
        pointer
    }
}

/// Deserialises a whole document, accepting only a JSON object at the top and
/// recording duplicate keys in `track`.
pub(crate) fn deserialize_object(
    text: &str,
    track: &RefCell<Track>,
) -> Result<crate::document::Document, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let document = crate::document::map_only::required(Dedup::new(&mut de, track))?;
    de.end()?;
    Ok(document)
}

/// Parses any JSON value, recording duplicate keys in `track` (the value keeps the last).
pub(crate) fn deserialize_value(
    text: &str,
    track: &RefCell<Track>,
) -> Result<serde_json::Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_json::Value::deserialize(Dedup::new(&mut de, track))?;
    de.end()?;
    Ok(value)
}

/// Appends one RFC 6901 reference token: `~` is written `~0` and `/` is `~1`.
fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    if !token.contains(['~', '/']) {
        pointer.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// A deserializer that records duplicate map keys in `track` (see the module doc).
pub(crate) struct Dedup<'t, D> {
    inner: D,
    track: &'t RefCell<Track>,
    role: Role,
}

impl<'t, D> Dedup<'t, D> {
    /// Wraps a deserializer of a value; the duplicates it finds go into `track`.
    pub(crate) fn new(inner: D, track: &'t RefCell<Track>) -> Self {
        Dedup {
            inner,
            track,
            role: Role::Value,
        }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            let visitor = Watch { inner: visitor, track: self.track, role: self.role };
            self.inner.$method($($arg,)* visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Dedup<'_, D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(),
        deserialize_i32(), deserialize_i64(), deserialize_i128(), deserialize_u8(),
        deserialize_u16(), deserialize_u32(), deserialize_u64(), deserialize_u128(),
        deserialize_f32(), deserialize_f64(), deserialize_char(), deserialize_str(),
        deserialize_string(), deserialize_bytes(), deserialize_byte_buf(),
        deserialize_option(), deserialize_unit(), deserialize_seq(), deserialize_map(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
    }

    /// A map key read as an identifier is a struct's field name (see the module doc).
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let role = match self.role {
            Role::Key => Role::Identifier,
            other => other,
        };
        let visitor = Watch {
            inner: visitor,
            track: self.track,
            role,
        };
        self.inner.deserialize_identifier(visitor)
    }

    /// Visited, not skipped: a duplicate inside an unknown field still counts, and
    /// so does the unknown field's own name.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        if self.role == Role::Value {
            self.track.borrow_mut().value_ignored();
        }
        self.deserialize_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// The visitor side of [`Dedup`]: captures keys, wraps maps, sequences and
/// nested deserializers.
struct Watch<'t, V> {
    inner: V,
    track: &'t RefCell<Track>,
    role: Role,
}

impl<V> Watch<'_, V> {
    fn capture(&self, key: &str) {
        if self.role != Role::Value {
            self.track.borrow_mut().capture(key, self.role);
        }
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Watch<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_i128(i128), visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_u128(u128), visit_f32(f32), visit_f64(f64), visit_char(char),
        visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.capture(v);
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.capture(v);
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.capture(&v);
        self.inner.visit_string(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Dedup::new(d, self.track))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Dedup::new(d, self.track))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let frame = self.track.borrow_mut().open(Frame::Seq { index: 0 });
        let value = self.inner.visit_seq(WatchSeq {
            inner: seq,
            track: self.track,
            frame,
            index: 0,
        });
        self.track.borrow_mut().close(frame);
        value
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let frame = {
            let mut track = self.track.borrow_mut();
            let first = track.spans.len();
            track.open(Frame::Map(MapFrame {
                first,
                current: None,
                pending: false,
                big: None,
            }))
        };
        let value = self.inner.visit_map(WatchMap {
            inner: map,
            track: self.track,
            frame,
        });
        self.track.borrow_mut().close(frame);
        value
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(WatchEnum {
            inner: data,
            track: self.track,
        })
    }
}

/// A seed whose deserializer is wrapped in [`Dedup`].
struct Seed<'t, S> {
    inner: S,
    track: &'t RefCell<Track>,
    role: Role,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Dedup {
            inner: d,
            track: self.track,
            role: self.role,
        })
    }
}

/// A map whose keys are captured and checked (by [`Track::key_read`]).
struct WatchMap<'t, A> {
    inner: A,
    track: &'t RefCell<Track>,
    /// The index of this map's frame in `Track::frames`.
    frame: usize,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WatchMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.track.borrow_mut().captured = None;
        let key = self.inner.next_key_seed(Seed {
            inner: seed,
            track: self.track,
            role: Role::Key,
        })?;
        // At the end of the map (`None`), `close` pops its keys and frame.
        if key.is_some() {
            self.track.borrow_mut().key_read(self.frame);
        }
        Ok(key)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(Seed {
            inner: seed,
            track: self.track,
            role: Role::Value,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A sequence whose elements are read at `/<index>`.
struct WatchSeq<'t, A> {
    inner: A,
    track: &'t RefCell<Track>,
    /// The index of this sequence's frame in `Track::frames`.
    frame: usize,
    index: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for WatchSeq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        if let Some(frame) = self.track.borrow_mut().frames.get_mut(self.frame) {
            *frame = Frame::Seq { index: self.index };
        }
        self.index += 1;
        self.inner.next_element_seed(Seed {
            inner: seed,
            track: self.track,
            role: Role::Value,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Enums pass through; their contents are watched like any value.
struct WatchEnum<'t, A> {
    inner: A,
    track: &'t RefCell<Track>,
}

impl<'de, 't, A: EnumAccess<'de>> EnumAccess<'de> for WatchEnum<'t, A> {
    type Error = A::Error;
    type Variant = WatchEnum<'t, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.inner.variant_seed(seed)?;
        Ok((
            value,
            WatchEnum {
                inner: variant,
                track: self.track,
            },
        ))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for WatchEnum<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed {
            inner: seed,
            track: self.track,
            role: Role::Value,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let visitor = Watch {
            inner: visitor,
            track: self.track,
            role: Role::Value,
        };
        self.inner.tuple_variant(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let visitor = Watch {
            inner: visitor,
            track: self.track,
            role: Role::Value,
        };
        self.inner.struct_variant(fields, visitor)
    }
}

#[cfg(test)]
mod tests;
