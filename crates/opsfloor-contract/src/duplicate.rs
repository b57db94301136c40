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
//! This sits on the hot path (every poll of every service), so it allocates
//! nothing per key and compares hashes first. The keys of all the maps being read live end to end in one
//! `String`, like a stack: a map's keys are pushed as they are read and popped
//! when the map ends, which works because an inner map always ends before its
//! outer map reads its next key. Nothing is done per value: the pointer is built
//! only when a duplicate is found, from a stack of frames (one per open map or
//! sequence, holding its current key or index).
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

/// What a [`Dedup`] pass has seen: the keys and frames of the open maps and
/// sequences, and every duplicate found so far.
#[derive(Debug)]
pub(crate) struct Track {
    /// The keys of every open map, end to end (see the module doc).
    keys: String,
    /// Where each key lies in `keys`, with its hash.
    spans: Vec<Span>,
    /// One per open map or sequence, outermost first.
    frames: Vec<Frame>,
    /// Set when the key just read was captured as a string.
    captured: bool,
    /// Pointers of the duplicated keys, in document order.
    duplicates: Vec<String>,
}

/// One key in `Track::keys`: its byte range and a hash, so that telling keys
/// apart (the common case) is one integer comparison.
#[derive(Debug, Clone, Copy)]
struct Span {
    hash: u64,
    start: usize,
    end: usize,
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

/// An open container, for building a pointer.
#[derive(Debug, Clone, Copy)]
enum Frame {
    /// A map; its current key is `spans[current]` (none before the first key).
    Map { current: Option<usize> },
    /// A sequence at element `index`.
    Seq { index: usize },
}

impl Track {
    /// An empty track, with room for a typical document's keys.
    pub(crate) fn new() -> Self {
        Track {
            keys: String::with_capacity(256),
            spans: Vec::with_capacity(32),
            frames: Vec::with_capacity(8),
            captured: false,
            duplicates: Vec::new(),
        }
    }

    /// True while no duplicate has been found.
    pub(crate) fn is_clean(&self) -> bool {
        self.duplicates.is_empty()
    }

    /// The pointer of `name` in the innermost frame, through the current key or
    /// index of every frame outside it.
    fn pointer_to(&self, name: &str) -> String {
        let mut pointer = String::new();
        let outer = self.frames.len().saturating_sub(1);
        for frame in &self.frames[..outer] {
            match *frame {
                Frame::Map { current: Some(i) } => {
                    let span = self.spans[i];
                    push_token(&mut pointer, &self.keys[span.start..span.end]);
                }
                Frame::Map { current: None } => push_token(&mut pointer, ""),
                // Writing to a String cannot fail.
                Frame::Seq { index } => {
                    let _ = write!(pointer, "/{index}");
                }
            }
        }
        push_token(&mut pointer, name);
        pointer
    }

    /// The JSON pointers of the duplicated keys, in document order.
    pub(crate) fn into_duplicates(self) -> Vec<String> {
        self.duplicates
    }
}

/// A deserializer that records duplicate map keys in `track` (see the module doc).
pub(crate) struct Dedup<'t, D> {
    inner: D,
    track: &'t RefCell<Track>,
    /// Set while deserialising a map key: its string is captured into the track.
    is_key: bool,
}

impl<'t, D> Dedup<'t, D> {
    /// Wraps a deserializer; the duplicates it finds are recorded in `track`.
    pub(crate) fn new(inner: D, track: &'t RefCell<Track>) -> Self {
        Dedup {
            inner,
            track,
            is_key: false,
        }
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

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            let visitor = Watch { inner: visitor, track: self.track, is_key: self.is_key };
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
        deserialize_identifier(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
    }

    /// Visited, not skipped: a duplicate inside an unknown field still counts.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.deserialize_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// The visitor side of [`Dedup`]: wraps maps, sequences and nested deserializers.
struct Watch<'t, V> {
    inner: V,
    track: &'t RefCell<Track>,
    is_key: bool,
}

impl<V> Watch<'_, V> {
    fn capture(&self, key: &str) {
        if self.is_key {
            let mut track = self.track.borrow_mut();
            let start = track.keys.len();
            track.keys.push_str(key);
            let end = track.keys.len();
            let hash = fnv1a(key.as_bytes());
            track.spans.push(Span { hash, start, end });
            track.captured = true;
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
        let (first, frame) = open(self.track, Frame::Seq { index: 0 });
        let value = self.inner.visit_seq(WatchSeq {
            inner: seq,
            track: self.track,
            frame,
            index: 0,
        });
        close(self.track, first, frame);
        value
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let (first, frame) = open(self.track, Frame::Map { current: None });
        let value = self.inner.visit_map(WatchMap {
            inner: map,
            track: self.track,
            first,
            frame,
            big: None,
        });
        close(self.track, first, frame);
        value
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(WatchEnum {
            inner: data,
            track: self.track,
        })
    }
}

/// Pushes a frame; returns the number of key spans and the frame's index.
fn open(track: &RefCell<Track>, frame: Frame) -> (usize, usize) {
    let mut track = track.borrow_mut();
    track.frames.push(frame);
    (track.spans.len(), track.frames.len() - 1)
}

/// Pops a frame and the keys read inside it, however the visitor left it.
fn close(track: &RefCell<Track>, first: usize, frame: usize) {
    let mut track = track.borrow_mut();
    if let Some(span) = track.spans.get(first) {
        let start = span.start;
        track.keys.truncate(start);
    }
    track.spans.truncate(first);
    track.frames.truncate(frame);
}

/// A seed whose deserializer is wrapped in [`Dedup`].
struct Seed<'t, S> {
    inner: S,
    track: &'t RefCell<Track>,
    is_key: bool,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Dedup {
            inner: d,
            track: self.track,
            is_key: self.is_key,
        })
    }
}

/// Past this many keys a map checks new keys against a hash set instead of a
/// linear scan: a hostile object with 100,000 keys must not cost 10^10
/// comparisons. std's SipHash is keyed per process, so keys cannot be chosen to
/// collide.
const SCAN_LIMIT: usize = 32;

/// A map that remembers its keys and records the second sighting of any.
struct WatchMap<'t, A> {
    inner: A,
    track: &'t RefCell<Track>,
    /// The index in `Track::spans` of this map's first key.
    first: usize,
    /// The index of this map's frame in `Track::frames`.
    frame: usize,
    /// This map's keys once it has more than [`SCAN_LIMIT`].
    big: Option<HashSet<Box<[u8]>>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WatchMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.track.borrow_mut().captured = false;
        let key = self.inner.next_key_seed(Seed {
            inner: seed,
            track: self.track,
            is_key: true,
        })?;
        let mut track = self.track.borrow_mut();
        if key.is_none() {
            // The map has ended; `close` pops its keys and frame.
            return Ok(key);
        }
        if !track.captured {
            // A key not read as a string (never the case in JSON) is not checked;
            // an empty entry keeps "the last span is the current key" true.
            let end = track.keys.len();
            track.spans.push(Span {
                hash: 0,
                start: end,
                end,
            });
        }
        let last = track.spans.len() - 1;
        track.frames[self.frame] = Frame::Map {
            current: Some(last),
        };
        let key_span = track.spans[last];
        let bytes = track.keys.as_bytes();
        let name = &bytes[key_span.start..key_span.end];
        let earlier = &track.spans[self.first..last];
        let repeated = if !track.captured {
            false
        } else if let Some(set) = &mut self.big {
            !set.insert(name.into())
        } else if earlier.len() >= SCAN_LIMIT {
            let mut set: HashSet<Box<[u8]>> = earlier
                .iter()
                .map(|s| bytes[s.start..s.end].into())
                .collect();
            let repeated = !set.insert(name.into());
            self.big = Some(set);
            repeated
        } else {
            // Contract objects have a handful of keys: a linear scan of hashes
            // beats a hash set, and equal hashes are confirmed byte for byte.
            earlier
                .iter()
                .any(|s| s.hash == key_span.hash && &bytes[s.start..s.end] == name)
        };
        if repeated {
            let pointer = track.pointer_to(&track.keys[key_span.start..key_span.end]);
            track.duplicates.push(pointer);
        }
        Ok(key)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(Seed {
            inner: seed,
            track: self.track,
            is_key: false,
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
        self.track.borrow_mut().frames[self.frame] = Frame::Seq { index: self.index };
        self.index += 1;
        self.inner.next_element_seed(Seed {
            inner: seed,
            track: self.track,
            is_key: false,
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
            is_key: false,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let visitor = Watch {
            inner: visitor,
            track: self.track,
            is_key: false,
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
            is_key: false,
        };
        self.inner.struct_variant(fields, visitor)
    }
}

#[cfg(test)]
mod tests;
