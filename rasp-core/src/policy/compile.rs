//! From a policy file to a [`Policy`]: parse, validate, and pre-resolve the
//! rules into the small maps that the decision path reads.
//!
//! Parsing goes through `serde_path_to_error`, so a wrong type or an unknown
//! key is reported with its key path (`sinks.sql.action`). Size is checked
//! before the parser sees a byte, and structural nesting is bounded, so a
//! hostile file costs at most one bounded scan.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};

use super::entry::EntryRules;
use super::file::{self, Action, OnError, PolicyFile, RouteRule, SinkRule};
use crate::class::SinkClass;
use crate::context::{InputLimits, RequestContext};
use crate::decision::Decision;
use crate::event::{EventRules, EvidenceConfig, EvidenceLog};
use crate::telemetry::Masking;

/// Largest policy file accepted, in bytes. A real policy is a few KiB.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// Deepest nesting of arrays and inline tables accepted. The schema never
/// nests deeper than 3; the bound keeps a hostile file from exhausting the
/// stack of the parser.
pub const MAX_NESTING: usize = 32;

/// The only schema version this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a policy was refused. The currently installed policy stays in force.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file is larger than [`MAX_POLICY_BYTES`].
    TooLarge {
        /// Its size in bytes.
        len: u64,
    },
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        message: String,
    },
    /// The file is not UTF-8 text.
    NotUtf8,
    /// Arrays or inline tables nest deeper than [`MAX_NESTING`].
    TooDeep,
    /// The file is not valid TOML, or a key has the wrong type or is unknown.
    Parse {
        /// Dotted key path of the offending value (empty when the error is
        /// in the TOML syntax itself).
        key: String,
        /// What is wrong, with line and column for syntax errors.
        message: String,
    },
    /// A value is well-typed but not acceptable.
    Invalid {
        /// Dotted key path of the offending value.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Under `strict = true`: the policy names sinks that no linked code
    /// registers (a typo, or a sink renamed since the policy was written).
    UnknownSinks {
        /// The unknown sink ids, sorted.
        ids: Vec<String>,
    },
    /// The policy's revision is lower than the installed one's: an old file
    /// must not silently roll a fleet back.
    StaleRevision {
        /// Revision in force.
        installed: u64,
        /// Revision offered.
        offered: u64,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::TooLarge { len } => write!(
                f,
                "policy file is {len} bytes, more than the {MAX_POLICY_BYTES} accepted"
            ),
            PolicyError::Io { path, message } => {
                write!(f, "cannot read policy file {}: {message}", path.display())
            }
            PolicyError::NotUtf8 => f.write_str("policy file is not UTF-8 text"),
            PolicyError::TooDeep => write!(
                f,
                "policy file nests arrays or inline tables deeper than {MAX_NESTING} levels"
            ),
            PolicyError::Parse { key, message } if key.is_empty() || key == "." => {
                write!(f, "invalid policy: {message}")
            }
            PolicyError::Parse { key, message } | PolicyError::Invalid { key, message } => {
                write!(f, "invalid policy at `{key}`: {message}")
            }
            PolicyError::UnknownSinks { ids } => write!(
                f,
                "policy names sinks that are not registered (strict = true): {}",
                ids.join(", ")
            ),
            PolicyError::StaleRevision { installed, offered } => write!(
                f,
                "policy revision {offered} is lower than the installed revision {installed}"
            ),
        }
    }
}

impl std::error::Error for PolicyError {}

/// The action, canary and failure mode that apply to one sink before the
/// request is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SiteRule {
    pub(crate) action: Action,
    pub(crate) canary: u8,
    pub(crate) on_error: OnError,
    pub(crate) from: Level,
}

/// Which level of the policy produced an action; a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Mode,
    Class,
    Sink,
    Route,
}

/// Everything the policy says about one sink id: its rule and whether it
/// is allowlisted, so a decision looks the id up once.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SinkEntry {
    pub(crate) action: Option<Action>,
    pub(crate) canary: Option<u8>,
    pub(crate) on_error: Option<OnError>,
    pub(crate) has_rule: bool,
    pub(crate) allow: bool,
}

/// Everything the policy says about one route, likewise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RouteEntry {
    pub(crate) action: Option<Action>,
    pub(crate) canary: Option<u8>,
    pub(crate) allow: bool,
}

/// A validated policy, ready to install.
///
/// Every lookup the decision path makes is pre-resolved here: one rule per
/// sink class with the global defaults folded in; one hash map entry per
/// sink id and per route holding both its rule and its allowlisting (FxHash:
/// short keys, built from the policy, never grown at run time, so colliding
/// keys cannot be inserted by a request); the user and tenant allowlists as
/// sets and the IP allowlist as CIDR ranges.
#[derive(Debug)]
pub struct Policy {
    /// Unique per compiled policy: the key of every [`crate::DecisionSlot`].
    pub(crate) generation: u32,
    pub(crate) revision: u64,
    pub(crate) strict: bool,
    pub(crate) masking: Masking,
    pub(crate) events: EventRules,
    pub(crate) evidence: Option<EvidenceConfig>,
    /// Opened when the policy is installed, never by compiling it, so that
    /// validating a policy writes nothing.
    pub(crate) evidence_log: OnceLock<Arc<EvidenceLog>>,
    pub(crate) classes: [SiteRule; SinkClass::ALL.len()],
    pub(crate) sinks: FxHashMap<Box<str>, SinkEntry>,
    pub(crate) routes: FxHashMap<Box<str>, RouteEntry>,
    pub(crate) allow_ips: Vec<IpNet>,
    pub(crate) allow_users: FxHashSet<Box<str>>,
    pub(crate) allow_tenants: FxHashSet<Box<str>>,
    pub(crate) entry: Option<EntryRules>,
    /// `[limits]`, when the file has that table.
    pub(crate) limits: Option<InputLimits>,
}

/// What a policy says about one route; see [`Policy::route_rules`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePolicy {
    /// The route, as recorded in request contexts.
    pub route: String,
    /// The action on this route, if the policy sets one.
    pub action: Option<Action>,
    /// The canary percentage on this route, if the policy sets one.
    pub canary: Option<u8>,
    /// Whether detections on this route are always allowed.
    pub allowlisted: bool,
}

impl Policy {
    /// Parses and validates a policy from TOML text.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge {
                len: text.len() as u64,
            });
        }
        check_nesting(text.as_bytes())?;
        let parsed: PolicyFile = parse(text)?;
        compile(parsed)
    }

    /// Parses and validates a policy from TOML bytes (rejected unless UTF-8).
    pub fn from_bytes(bytes: &[u8]) -> Result<Policy, PolicyError> {
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge {
                len: bytes.len() as u64,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| PolicyError::NotUtf8)?;
        Policy::from_toml(text)
    }

    /// Reads, parses and validates a policy file. The size is checked from
    /// the file's metadata before it is read, and the read itself is bounded.
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        Policy::from_bytes(&read_bounded(path)?)
    }

    /// The policy's revision.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// How detection events are deduplicated and sampled (`[events]`).
    pub fn event_rules(&self) -> EventRules {
        self.events
    }

    /// Where blocked (and optionally monitored) detections are recorded
    /// (`[evidence]`), if anywhere.
    pub fn evidence(&self) -> Option<&EvidenceConfig> {
        self.evidence.as_ref()
    }

    /// Opens the evidence log this policy names, once; what [`super::install`]
    /// does before the policy takes effect.
    pub(crate) fn open_evidence(&self) -> Result<(), PolicyError> {
        let Some(config) = &self.evidence else {
            return Ok(());
        };
        if self.evidence_log.get().is_none() {
            let log = EvidenceLog::open(config).map_err(|e| {
                invalid(
                    "evidence.path",
                    format!("cannot append to {}: {e}", config.path.display()),
                )
            })?;
            let _ = self.evidence_log.set(log);
        }
        Ok(())
    }

    /// The open evidence log, once installed.
    pub(crate) fn evidence_log(&self) -> Option<(&EvidenceLog, bool)> {
        let include_monitored = self.evidence.as_ref()?.include_monitored;
        Some((self.evidence_log.get()?, include_monitored))
    }

    /// The recording caps of `[limits]`, if the policy has that table; they
    /// take precedence over the caps set in code.
    pub fn input_limits(&self) -> Option<InputLimits> {
        self.limits
    }

    /// Whether sink ids that match no registered sink are an error.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// How detection events report the offending input.
    pub fn masking(&self) -> Masking {
        self.masking
    }

    /// Sink ids named by the policy (per-sink rules and the sink allowlist)
    /// that no linked code registers, sorted.
    pub fn unknown_sink_ids(&self) -> Vec<String> {
        let mut unknown: Vec<String> = self
            .sinks
            .keys()
            .filter(|id| crate::registry::sink(id).is_none())
            .map(|id| id.to_string())
            .collect();
        unknown.sort();
        unknown.dedup();
        unknown
    }

    /// The action, canary percentage and failure mode of a sink with this
    /// id and class, before any request-specific rule (route, allowlist).
    pub fn site_rule(&self, id: &str, kind: SinkClass) -> (Action, u8, OnError) {
        let rule = self.resolve_site(self.sink_entry(id), kind);
        (rule.action, rule.canary, rule.on_error)
    }

    /// Decides whether the request `ctx` may enter; see [`super::entry`].
    pub fn evaluate_entry(&self, ctx: &RequestContext) -> Decision {
        let Some(entry) = &self.entry else {
            return Decision::Allow;
        };
        if self.route_entry(ctx.route()).is_some_and(|e| e.allow)
            || self.allowlisted_requester(ctx.client_ip(), ctx.user(), ctx.tenant())
        {
            return Decision::Allow;
        }
        entry.evaluate(ctx, self.revision)
    }

    /// Counts a detection for the circuit breaker of the entry rules.
    #[inline]
    pub(crate) fn record_detection(&self, ctx: &RequestContext) {
        if let Some(entry) = &self.entry {
            entry.record_detection(ctx);
        }
    }

    /// Whether detections at sink `id` are always allowed (`[allow] sinks`).
    pub fn sink_allowlisted(&self, id: &str) -> bool {
        self.sink_entry(id).is_some_and(|e| e.allow)
    }

    /// The per-route rules, sorted by route: what overrides the sink rules
    /// for requests on those routes.
    pub fn route_rules(&self) -> Vec<RoutePolicy> {
        let mut routes: Vec<RoutePolicy> = self
            .routes
            .iter()
            .map(|(route, e)| RoutePolicy {
                route: route.to_string(),
                action: e.action,
                canary: e.canary,
                allowlisted: e.allow,
            })
            .collect();
        routes.sort_by(|a, b| a.route.cmp(&b.route));
        routes
    }

    /// The policy's entry for sink `id`, if it names it.
    #[inline]
    pub(crate) fn sink_entry(&self, id: &str) -> Option<&SinkEntry> {
        if self.sinks.is_empty() {
            return None;
        }
        self.sinks.get(id)
    }

    /// The policy's entry for `route`, if it names it.
    #[inline]
    pub(crate) fn route_entry(&self, route: Option<&str>) -> Option<&RouteEntry> {
        if self.routes.is_empty() {
            return None;
        }
        self.routes.get(route?)
    }

    /// The rule of a sink of class `kind` whose entry is `own`.
    #[inline]
    pub(crate) fn resolve_site(&self, own: Option<&SinkEntry>, kind: SinkClass) -> SiteRule {
        let class = self.classes[kind.index()];
        match own {
            Some(own) if own.has_rule => SiteRule {
                action: own.action.unwrap_or(class.action),
                canary: own.canary.unwrap_or(class.canary),
                on_error: own.on_error.unwrap_or(class.on_error),
                from: if own.action.is_some() {
                    Level::Sink
                } else {
                    class.from
                },
            },
            _ => class,
        }
    }

    /// Whether the request's user, tenant or client address is allowlisted.
    #[inline]
    pub(crate) fn allowlisted_requester(
        &self,
        ip: Option<IpAddr>,
        user: Option<&str>,
        tenant: Option<&str>,
    ) -> bool {
        fn has(set: &FxHashSet<Box<str>>, key: Option<&str>) -> bool {
            !set.is_empty() && key.is_some_and(|k| set.contains(k))
        }
        has(&self.allow_users, user)
            || has(&self.allow_tenants, tenant)
            || ip.is_some_and(|ip| self.allow_ips.iter().any(|net| net.contains(&ip)))
    }
}

/// Reads a policy file, refusing one larger than [`MAX_POLICY_BYTES`]
/// before reading it.
pub(crate) fn read_bounded(path: &Path) -> Result<Vec<u8>, PolicyError> {
    use std::io::Read;
    let io = |e: std::io::Error| PolicyError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let file = open_regular(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_POLICY_BYTES as u64 {
        return Err(PolicyError::TooLarge { len });
    }
    // The file may grow between `metadata` and `read`: read one byte more
    // than the limit so that growth is detected, never buffered.
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_POLICY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

/// Opens a policy file for reading, refusing anything but a regular file.
///
/// Opening a FIFO for reading blocks until a writer opens it, and reading a
/// FIFO or a character device may never end: either would hang the reload
/// thread (and with it every later reload) for good. On unix the file is
/// opened non-blocking, which makes `open` return at once whatever the
/// path names, and its type is checked on the open file, so a path swapped
/// between check and open cannot slip through.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", file_kind(kind)),
        ));
    }
    Ok(file)
}

/// A file type, as named in an error.
fn file_kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        } else if kind.is_socket() {
            return "a socket";
        } else if kind.is_char_device() {
            return "a character device";
        } else if kind.is_block_device() {
            return "a block device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| PolicyError::Parse {
        key: String::new(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| PolicyError::Parse {
        key: e.path().to_string(),
        message: e.inner().message().trim_end().to_owned(),
    })
}

/// Rejects nesting deeper than [`MAX_NESTING`] before the parser runs. The
/// scan skips strings and comments, so brackets inside them do not count.
fn check_nesting(text: &[u8]) -> Result<(), PolicyError> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'#' => {
                i = memchr::memchr(b'\n', &text[i..]).map_or(text.len(), |n| i + n);
            }
            quote @ (b'"' | b'\'') => {
                let triple = text[i..].starts_with(&[quote; 3]);
                let open = if triple { 3 } else { 1 };
                i += open;
                loop {
                    match text.get(i) {
                        None => return Ok(()),
                        // Basic strings escape; literal strings do not.
                        Some(b'\\') if quote == b'"' => i += 2,
                        Some(&b)
                            if b == quote && (!triple || text[i..].starts_with(&[quote; 3])) =>
                        {
                            i += open;
                            break;
                        }
                        Some(b'\n') if !triple => break,
                        Some(_) => i += 1,
                    }
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(PolicyError::TooDeep);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn compile(file: PolicyFile) -> Result<Policy, PolicyError> {
    if file.schema_version != SCHEMA_VERSION {
        return Err(invalid(
            "schema_version",
            format!(
                "schema version {} is not supported; this build reads version {SCHEMA_VERSION}",
                file.schema_version
            ),
        ));
    }
    let mode = match file.mode {
        file::Mode::Monitor => Action::Monitor,
        file::Mode::Block => Action::Block,
    };
    let global = SiteRule {
        action: mode,
        canary: canary("canary", file.canary)?.unwrap_or(100),
        on_error: file.on_error.unwrap_or_default(),
        from: Level::Mode,
    };

    let c = &file.sinks;
    let by_class = [
        c.sql, c.html, c.shell, c.path, c.url, c.header, c.log, c.redirect,
    ];
    let mut classes = [global; SinkClass::ALL.len()];
    for ((class, rule), kind) in classes
        .iter_mut()
        .zip(by_class)
        .zip(SinkClass::ALL.iter().copied())
    {
        let Some(rule) = rule else { continue };
        let key = |field: &str| format!("sinks.{}.{field}", kind.as_str());
        *class = SiteRule {
            action: rule.action.unwrap_or(global.action),
            canary: canary(&key("canary"), rule.canary)?.unwrap_or(global.canary),
            on_error: rule.on_error.unwrap_or(global.on_error),
            from: if rule.action.is_some() {
                Level::Class
            } else {
                Level::Mode
            },
        };
    }

    let mut sinks: FxHashMap<Box<str>, SinkEntry> = FxHashMap::default();
    for (id, rule) in file.sink_ids {
        non_empty("sink_ids", &id)?;
        let SinkRule {
            action,
            canary: c,
            on_error,
        } = rule;
        let entry = SinkEntry {
            action,
            canary: canary(&format!("sink_ids.{id}.canary"), c)?,
            on_error,
            has_rule: true,
            allow: false,
        };
        sinks.insert(id.into_boxed_str(), entry);
    }

    let mut routes: FxHashMap<Box<str>, RouteEntry> = FxHashMap::default();
    for (route, rule) in file.routes {
        non_empty("routes", &route)?;
        let RouteRule { action, canary: c } = rule;
        let entry = RouteEntry {
            action,
            canary: canary(&format!("routes.{route}.canary"), c)?,
            allow: false,
        };
        routes.insert(route.into_boxed_str(), entry);
    }

    let allow = file.allow;
    for (i, id) in allow.sinks.into_iter().enumerate() {
        non_empty(&format!("allow.sinks[{i}]"), &id)?;
        sinks.entry(id.into_boxed_str()).or_default().allow = true;
    }
    for (i, route) in allow.routes.into_iter().enumerate() {
        non_empty(&format!("allow.routes[{i}]"), &route)?;
        routes.entry(route.into_boxed_str()).or_default().allow = true;
    }
    let set = |key: &str, items: Vec<String>| -> Result<FxHashSet<Box<str>>, PolicyError> {
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                non_empty(&format!("allow.{key}[{i}]"), &item)?;
                Ok(item.into_boxed_str())
            })
            .collect()
    };

    Ok(Policy {
        generation: super::cache::next_generation(),
        revision: file.revision,
        strict: file.strict,
        masking: file.events.excerpt,
        events: event_rules(&file.events)?,
        evidence: file.evidence.map(evidence_config).transpose()?,
        evidence_log: OnceLock::new(),
        classes,
        sinks,
        routes,
        allow_ips: allow.ips,
        allow_users: set("users", allow.users)?,
        allow_tenants: set("tenants", allow.tenants)?,
        entry: EntryRules::from_file(file.entry, file.fleet)?,
        limits: file.limits.map(input_limits).transpose()?,
    })
}

/// Upper bounds of `[limits]`: far above any real request, low enough that
/// a typo cannot make one request's recording unbounded in practice.
pub(crate) const LIMITS_MAX_INPUTS: u64 = 1 << 20;
pub(crate) const LIMITS_MAX_BYTES: u64 = 1 << 30;

fn input_limits(limits: file::Limits) -> Result<InputLimits, PolicyError> {
    let defaults = InputLimits::default();
    let bounded = |key: &str, value: Option<u64>, max: u64, default: usize| match value {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(invalid(
            &format!("limits.{key}"),
            format!("from 1 to {max}, not {n}"),
        )),
    };
    Ok(InputLimits {
        max_inputs: bounded(
            "max_inputs",
            limits.max_inputs,
            LIMITS_MAX_INPUTS,
            defaults.max_inputs,
        )?,
        max_total_bytes: bounded(
            "max_total_bytes",
            limits.max_total_bytes,
            LIMITS_MAX_BYTES,
            defaults.max_total_bytes,
        )?,
        max_body_bytes: bounded(
            "max_body_bytes",
            limits.max_body_bytes,
            LIMITS_MAX_BYTES,
            defaults.max_body_bytes,
        )?,
        on_exceeded: limits.on_exceeded.unwrap_or(defaults.on_exceeded),
    })
}

/// Defaults of `[events]`: a key (sink, reason, action, client) emits 10
/// events a minute, then one in 100 repeats.
pub(crate) const DEDUP_WINDOW_SECS: u64 = 60;
pub(crate) const MAX_PER_WINDOW: u32 = 10;
pub(crate) const SAMPLE_EVERY: u32 = 100;

/// Defaults and bounds of `[evidence]`.
pub(crate) const EVIDENCE_QUEUE: u32 = 1024;
pub(crate) const EVIDENCE_MAX_QUEUE: u32 = 65_536;
pub(crate) const EVIDENCE_MAX_FILE_MB: u32 = 64;
pub(crate) const EVIDENCE_MAX_ROTATED_FILES: u32 = 4;
pub(crate) const EVIDENCE_ROTATED_FILES_BOUND: u32 = 1000;
pub(crate) const EVIDENCE_MAX_PER_KEY: u32 = 100;
pub(crate) const EVIDENCE_KEY_WINDOW_SECS: u64 = 60;

fn event_rules(events: &file::Events) -> Result<EventRules, PolicyError> {
    let window = events.dedup_window_secs.unwrap_or(DEDUP_WINDOW_SECS);
    if window > 86_400 {
        return Err(invalid(
            "events.dedup_window_secs",
            format!("a window is at most a day (86400 s), not {window}"),
        ));
    }
    let max_per_window = events.max_per_window.unwrap_or(MAX_PER_WINDOW);
    if max_per_window == 0 {
        return Err(invalid(
            "events.max_per_window",
            "at least 1: the first event of an attack is always reported".to_owned(),
        ));
    }
    Ok(EventRules {
        window: Duration::from_secs(window),
        max_per_window,
        sample_every: events.sample_every.unwrap_or(SAMPLE_EVERY),
    })
}

fn evidence_config(evidence: file::Evidence) -> Result<EvidenceConfig, PolicyError> {
    if evidence.path.as_os_str().is_empty() {
        return Err(invalid("evidence.path", "an empty path".to_owned()));
    }
    let queue = evidence.queue.unwrap_or(EVIDENCE_QUEUE);
    if !(1..=EVIDENCE_MAX_QUEUE).contains(&queue) {
        return Err(invalid(
            "evidence.queue",
            format!("from 1 to {EVIDENCE_MAX_QUEUE} records, not {queue}"),
        ));
    }
    let max_file_mb = evidence.max_file_mb.unwrap_or(EVIDENCE_MAX_FILE_MB);
    if max_file_mb == 0 {
        return Err(invalid("evidence.max_file_mb", "at least 1".to_owned()));
    }
    let max_rotated_files = evidence
        .max_rotated_files
        .unwrap_or(EVIDENCE_MAX_ROTATED_FILES);
    if !(1..=EVIDENCE_ROTATED_FILES_BOUND).contains(&max_rotated_files) {
        return Err(invalid(
            "evidence.max_rotated_files",
            format!("from 1 to {EVIDENCE_ROTATED_FILES_BOUND} files, not {max_rotated_files}"),
        ));
    }
    let max_per_key = evidence.max_per_key.unwrap_or(EVIDENCE_MAX_PER_KEY);
    if max_per_key == 0 {
        return Err(invalid(
            "evidence.max_per_key",
            "at least 1: the first record of an attack is always kept".to_owned(),
        ));
    }
    let key_window = evidence.key_window_secs.unwrap_or(EVIDENCE_KEY_WINDOW_SECS);
    if key_window > 86_400 {
        return Err(invalid(
            "evidence.key_window_secs",
            format!("a window is at most a day (86400 s), not {key_window}"),
        ));
    }
    Ok(EvidenceConfig {
        path: evidence.path,
        include_monitored: evidence.include_monitored,
        queue: queue as usize,
        max_file_bytes: u64::from(max_file_mb) * 1024 * 1024,
        max_rotated_files,
        max_per_key,
        key_window: Duration::from_secs(key_window),
    })
}

fn canary(key: &str, value: Option<u32>) -> Result<Option<u8>, PolicyError> {
    match value {
        None => Ok(None),
        Some(pct @ 0..=100) => Ok(Some(pct as u8)),
        Some(pct) => Err(invalid(
            key,
            format!("canary is a percentage from 0 to 100, not {pct}"),
        )),
    }
}

pub(crate) fn non_empty(key: &str, name: &str) -> Result<(), PolicyError> {
    if name.trim().is_empty() {
        return Err(invalid(key, "an empty name matches nothing".to_owned()));
    }
    Ok(())
}

pub(crate) fn invalid(key: &str, message: String) -> PolicyError {
    PolicyError::Invalid {
        key: key.to_owned(),
        message,
    }
}
