//! Attribute macros of rasp.
use proc_macro::TokenStream;

/// Marks a fn as a source of untrusted data.
#[proc_macro_attribute]
pub fn source(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
/// Marks a fn as a guarded sink.
#[proc_macro_attribute]
pub fn sink(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
/// Opens a request context around a fn.
#[proc_macro_attribute]
pub fn protect(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
