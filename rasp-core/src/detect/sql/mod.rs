//! SQL injection detector (dialect-aware byte lexer).

mod dialect;

pub use dialect::Dialect;

use memchr::memmem::Finder;

use crate::detect::Reason;

/// A finding of the SQL detector: the occurrence offset and why it is an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlFinding {
    /// Byte offset of the offending occurrence of the input in the SQL text.
    pub offset: usize,
    /// What the occurrence does to the statement.
    pub reason: Reason,
}

/// Whether `input` (searched with `finder`) is an injection into `sql`.
pub fn detect(dialect: Dialect, sql: &[u8], finder: &Finder<'_>) -> Option<SqlFinding> {
    let _ = (dialect, sql, finder);
    None
}
