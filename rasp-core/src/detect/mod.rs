//! Detectors: pure functions from (sink text, recorded input) to a finding.
//!
//! A detector never allocates and never panics on hostile text; it answers
//! one question — does this input change the *structure* of this sink text?
//! One module per sink class.

pub mod sql;

/// Why a detector flagged an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The input spans more than one token of the sink's grammar.
    SpansTokens,
    /// The input opens or closes a string literal or quoted identifier.
    BreaksLiteral,
    /// The input starts a comment.
    OpensComment,
    /// The input ends a statement and may start another.
    EndsStatement,
    /// The input leaves the sink text unterminated (an open literal or comment).
    Unterminated,
}

impl Reason {
    /// Stable snake-case name, as used in events and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::SpansTokens => "spans_tokens",
            Reason::BreaksLiteral => "breaks_literal",
            Reason::OpensComment => "opens_comment",
            Reason::EndsStatement => "ends_statement",
            Reason::Unterminated => "unterminated",
        }
    }

    /// A short human description.
    pub const fn describe(self) -> &'static str {
        match self {
            Reason::SpansTokens => "an input spans several tokens",
            Reason::BreaksLiteral => "an input breaks out of a quoted literal",
            Reason::OpensComment => "an input opens a comment",
            Reason::EndsStatement => "an input ends the statement",
            Reason::Unterminated => "an input leaves the text unterminated",
        }
    }
}

/// A detection: which recorded input, where in the sink text, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// Index of the input among the request's recorded inputs.
    pub input: usize,
    /// Byte offset of the offending occurrence in the sink text.
    pub offset: usize,
    /// What the occurrence does to the sink text.
    pub reason: Reason,
}
