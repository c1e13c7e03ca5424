//! What a source records: the text of its return value.
//!
//! `#[rasp::source]` calls [`Recordable::record`] on the value it returns so
//! the runtime can later look for that text in sink strings. Strings and
//! byte buffers record themselves; containers record each element; numbers
//! and `bool` record nothing (a lone `u8` is not `Recordable`, so that
//! `Vec<u8>` records as bytes), since they cannot carry an injection.

/// A value whose text a source records in the request context.
#[diagnostic::on_unimplemented(
    message = "rasp cannot record the text of `{Self}` returned by a `#[rasp::source]` fn",
    label = "this type does not implement `rasp::Recordable`",
    note = "return a string, bytes, a number or a container of them, or implement `rasp::Recordable` for this type and record each string field"
)]
pub trait Recordable {
    /// Calls `record` once for each piece of text in `self`.
    fn record(&self, record: &mut dyn FnMut(&[u8]));
}

impl Recordable for str {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        record(self.as_bytes());
    }
}

impl Recordable for String {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        record(self.as_bytes());
    }
}

impl Recordable for std::borrow::Cow<'_, str> {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        record(self.as_bytes());
    }
}

impl Recordable for [u8] {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        record(self);
    }
}

impl Recordable for Vec<u8> {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        record(self);
    }
}

impl<T: Recordable + ?Sized> Recordable for &T {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        (**self).record(record);
    }
}

impl<T: Recordable + ?Sized> Recordable for Box<T> {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        (**self).record(record);
    }
}

impl<T: Recordable> Recordable for Option<T> {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        if let Some(v) = self {
            v.record(record);
        }
    }
}

impl<T: Recordable> Recordable for Vec<T> {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        self.iter().for_each(|v| v.record(record));
    }
}

impl<T: Recordable> Recordable for [T] {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        self.iter().for_each(|v| v.record(record));
    }
}

impl<K: Recordable, V: Recordable, S> Recordable for std::collections::HashMap<K, V, S> {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        for (k, v) in self {
            k.record(record);
            v.record(record);
        }
    }
}

impl<K: Recordable, V: Recordable> Recordable for std::collections::BTreeMap<K, V> {
    fn record(&self, record: &mut dyn FnMut(&[u8])) {
        for (k, v) in self {
            k.record(record);
            v.record(record);
        }
    }
}

macro_rules! records_nothing {
    ($($t:ty)*) => {$(
        impl Recordable for $t {
            fn record(&self, _: &mut dyn FnMut(&[u8])) {}
        }
    )*};
}
records_nothing!(u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64 bool char);

impl Recordable for () {
    fn record(&self, _: &mut dyn FnMut(&[u8])) {}
}

macro_rules! records_tuple {
    ($($n:tt $t:ident),*) => {
        impl<$($t: Recordable),*> Recordable for ($($t,)*) {
            fn record(&self, record: &mut dyn FnMut(&[u8])) {
                $(self.$n.record(record);)*
            }
        }
    };
}
records_tuple!(0 A, 1 B);
records_tuple!(0 A, 1 B, 2 C);
records_tuple!(0 A, 1 B, 2 C, 3 D);
