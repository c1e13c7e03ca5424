//! Decisions: what rasp does about a detection.
//!
//! The global [`Mode`] is chosen in code for now ([`Mode::set`]): `Block`
//! refuses the sink call with [`Blocked`], `Monitor` lets it run and only
//! reports. Decisions are `Copy` and deciding never allocates.

use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::class::SinkClass;
use crate::detect::Reason;

/// What to do when a detector finds an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Report and let the call run: for rolling rasp out.
    Monitor,
    /// Report and refuse the call.
    Block,
}

static MODE: AtomicU8 = AtomicU8::new(Mode::Block as u8);

impl Mode {
    /// The process-wide mode; `Block` until set otherwise.
    #[inline]
    pub fn current() -> Mode {
        if MODE.load(Ordering::Relaxed) == Mode::Monitor as u8 {
            Mode::Monitor
        } else {
            Mode::Block
        }
    }

    /// Sets the process-wide mode.
    pub fn set(mode: Mode) {
        MODE.store(mode as u8, Ordering::Relaxed);
    }

    /// Stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Monitor => "monitor",
            Mode::Block => "block",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Decision {
    /// Nothing found; the call runs.
    Allow,
    /// An injection was found and reported; the call runs.
    Monitor,
    /// An injection was found and reported; the call is refused.
    Block,
    /// The caller exceeded a rate limit; the call is refused.
    Throttle,
}

impl Decision {
    /// Stable lowercase name, as used in events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Monitor => "monitor",
            Decision::Block => "block",
            Decision::Throttle => "throttle",
        }
    }
}

/// A sink call refused by rasp.
///
/// Sinks return it through their error type (`E: From<Blocked>`); it says
/// which sink refused and why, never the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Blocked {
    /// Id of the sink that refused the call.
    pub sink_id: &'static str,
    /// Class of that sink.
    pub class: SinkClass,
    /// What the detector found.
    pub reason: Reason,
}

impl Blocked {
    /// The refusal of a call to the sink `sink_id` of `class`, for `reason`.
    pub const fn new(sink_id: &'static str, class: SinkClass, reason: Reason) -> Blocked {
        Blocked {
            sink_id,
            class,
            reason,
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if matches!(self.reason, Reason::RefusedAtEntry | Reason::Throttled) {
            return write!(
                f,
                "rasp refused the call to `{}` at entry: {}",
                self.sink_id,
                self.reason.describe()
            );
        }
        write!(
            f,
            "rasp blocked a {} injection at sink `{}`: {}",
            self.class,
            self.sink_id,
            self.reason.describe()
        )
    }
}

impl std::error::Error for Blocked {}

/// Return types that can carry [`Blocked`]: what `#[rasp::sink]` and
/// `#[rasp::protect]` return when rasp refuses a call.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot carry `rasp::Blocked`",
    label = "a guarded fn must be able to return `rasp::Blocked` here",
    note = "return `Result<_, E>` where `E: From<rasp::Blocked>` (e.g. add `#[from] rasp::Blocked` to a thiserror enum)"
)]
pub trait OnBlocked {
    /// The value returned in place of the refused call.
    fn on_blocked(blocked: Blocked) -> Self;
}

impl<T, E: From<Blocked>> OnBlocked for Result<T, E> {
    #[inline]
    fn on_blocked(blocked: Blocked) -> Self {
        Err(E::from(blocked))
    }
}
