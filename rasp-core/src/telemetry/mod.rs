//! What rasp counts and how it labels what it reports: the metric names and
//! their recorders ([`metrics`]), and the closed vocabularies events and
//! metrics share — which policy rule decided ([`Rule`], [`EntryRule`]), the
//! [`Verdict`] a detection event reports, and how much of an input it may
//! show ([`Masking`]).
//!
//! Telemetry sits under the policy engine and beside the event streams:
//! the policy produces these values, events and metrics report them, and
//! neither has to reach up into the other.

mod labels;
pub mod metrics;

#[cfg(feature = "redis")]
pub(crate) use labels::FleetOp;
pub use labels::{EntryRule, Masking, Rule, TrackedTable, Verdict};
