//! The evidence log: one JSON line per blocked attack (and, on request, per
//! monitored one) appended to a file, for forensics and for replaying
//! against a new policy (`cargo xtask policy-check --evidence`).
//!
//! The detection path never waits on the disk. It copies the record into a
//! fixed-size value (bounded request id, route, user and tenant; the
//! excerpt already masked) and offers it to a bounded queue whose slots are
//! allocated when the log opens; a background thread formats and appends.
//! A full queue drops the record, counts it (`rasp_evidence_dropped_total`,
//! [`crate::policy::status`]) and reports it on the `rasp::security` target,
//! so a loss is never silent.
//!
//! A flood from one attacker must not push out the evidence of others.
//! Records are keyed by sink, reason, action and requester (the client
//! address the service resolved, or its `/64` for IPv6: nothing a client
//! can vary per request); a key keeps its first `max_per_key` records per
//! window and counts the rest as suppressed. The count travels in the
//! key's next kept record (`rasp.evidence.suppressed`), or in a summary
//! line (`"event.name": "rasp.evidence.suppressed"`) when the key's entry
//! is evicted, its window ends, or the log is flushed.
//!
//! When the file outgrows its limit it becomes `<path>.1`, `<path>.1`
//! becomes `<path>.2`, and so on up to `max_rotated_files`; the oldest is
//! deleted. Every record deleted that way is counted
//! (`rasp_evidence_overwritten_total`, and in `evidence_dropped`) and
//! reported (`rasp.evidence.overwritten`), so after a flood the books
//! balance: records offered = records on disk + overwritten + suppressed +
//! otherwise dropped.
//!
//! Policies naming the same path share one writer, so a reload neither
//! reorders nor interleaves records; the writer stops, after writing what
//! it holds, when no installed policy names its path any more.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::Excerpt;
use super::dedup::{self, EventRules, Pending, Subject};
use crate::context::RequestContext;
use crate::decision::Decision;
use crate::detect::Detection;
use crate::sink::SinkSite;
use crate::taint::SourceMeta;
use crate::telemetry::{Masking, Verdict, metrics};

/// Where and how the evidence log is written: the policy's `[evidence]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceConfig {
    /// The JSON-lines file records are appended to.
    pub path: PathBuf,
    /// Whether monitored detections are recorded too (blocked ones always
    /// are): what a monitor-mode rollout replays before switching to block.
    pub include_monitored: bool,
    /// Records the queue holds while the writer catches up.
    pub queue: usize,
    /// Size at which the file is rotated to `<path>.1`.
    pub max_file_bytes: u64,
    /// Rotated files kept (`<path>.1` to `<path>.N`); rotating past them
    /// deletes the oldest, and its records are counted as overwritten.
    pub max_rotated_files: u32,
    /// Records one key (sink, reason, action, requester) keeps per
    /// `key_window`; the rest are counted as suppressed.
    pub max_per_key: u32,
    /// The window of `max_per_key`.
    pub key_window: Duration,
}

/// Sets of a log's deduplication table: 2048 keys.
const KEY_SETS: usize = 256;

/// Evidence counts since the process started, over every log.
static WRITTEN: AtomicU64 = AtomicU64::new(0);
/// Every record lost: `LOST` and `OVERWRITTEN` together.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Records lost before reaching the file (queue full, write failed).
static LOST: AtomicU64 = AtomicU64::new(0);
static OVERWRITTEN: AtomicU64 = AtomicU64::new(0);
static SUPPRESSED: AtomicU64 = AtomicU64::new(0);

/// Evidence records since the process started: what became of them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) written: u64,
    /// Every record lost, overwritten ones included.
    pub(crate) dropped: u64,
    pub(crate) overwritten: u64,
    pub(crate) suppressed: u64,
}

/// Evidence records since the process started.
pub(crate) fn counts() -> Counts {
    Counts {
        written: WRITTEN.load(Ordering::Relaxed),
        dropped: DROPPED.load(Ordering::Relaxed),
        overwritten: OVERWRITTEN.load(Ordering::Relaxed),
        suppressed: SUPPRESSED.load(Ordering::Relaxed),
    }
}

/// An open evidence log: the sending side of its writer's queue.
pub struct EvidenceLog {
    path: PathBuf,
    queue: SyncSender<Message>,
    keys: dedup::Table,
    key_rules: EventRules,
}

impl std::fmt::Debug for EvidenceLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceLog")
            .field("path", &self.path)
            .field("key_rules", &self.key_rules)
            .finish_non_exhaustive()
    }
}

// Records travel by value: the queue's slots are allocated once, when the
// log opens, so offering a record allocates nothing. A flush request is
// rare and small; the size difference is the point.
#[allow(clippy::large_enum_variant)]
enum Message {
    Record(Record),
    Summary(Pending, SystemTime),
    Flush(SyncSender<()>),
}

/// Logs open right now, by path, so that policies share them.
static OPEN: Mutex<Vec<Weak<EvidenceLog>>> = Mutex::new(Vec::new());

impl EvidenceLog {
    /// Opens (or joins) the log at `config.path`. Fails when the file
    /// cannot be opened for appending.
    pub(crate) fn open(config: &EvidenceConfig) -> std::io::Result<Arc<EvidenceLog>> {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|log| log.strong_count() > 0);
        if let Some(log) = open
            .iter()
            .filter_map(Weak::upgrade)
            .find(|log| log.path == config.path)
        {
            return Ok(log);
        }
        let file = append(&config.path)?;
        let (queue, records) = mpsc::sync_channel(config.queue);
        let written = file.metadata()?.len();
        let mut records_in = vec![None; config.max_rotated_files as usize + 1];
        // A file found empty holds no record; one found with lines holds an
        // unknown number, counted if it is ever deleted.
        records_in[0] = (written == 0).then_some(0);
        let writer = Writer {
            path: config.path.clone(),
            written,
            file: BufWriter::new(file),
            max_file_bytes: config.max_file_bytes,
            records_in,
        };
        std::thread::Builder::new()
            .name("rasp-evidence".into())
            .spawn(move || writer.run(records))?;
        let log = Arc::new(EvidenceLog {
            path: config.path.clone(),
            queue,
            keys: dedup::Table::new(KEY_SETS),
            key_rules: EventRules {
                window: config.key_window,
                max_per_window: config.max_per_key,
                sample_every: 0,
            },
        });
        open.push(Arc::downgrade(&log));
        Ok(log)
    }

    /// The file this log appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Offers one record to the writer, unless its key has used up its
    /// quota for the window (then it is counted as suppressed); never
    /// blocks.
    pub(crate) fn record(&self, mut record: Record) {
        let subject = Subject::Detection {
            site: record.site,
            reason: record.detection.reason,
            decision: record.verdict.decision,
        };
        let admission = self
            .keys
            .admit(&self.key_rules, subject, record.client, Instant::now());
        admission
            .reports()
            .for_each(|pending| self.summary(pending));
        if !admission.emit {
            SUPPRESSED.fetch_add(1, Ordering::Relaxed);
            metrics::evidence_suppressed();
            return;
        }
        record.suppressed = admission.suppressed;
        match self.queue.try_send(Message::Record(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => dropped(&self.path),
        }
    }

    /// Writes the summary line of a key's suppressed records. The records
    /// are counted already; if the line cannot be queued its count goes to
    /// the event log instead, so it is still reported.
    fn summary(&self, pending: Pending) {
        let message = Message::Summary(pending, SystemTime::now());
        if self.queue.try_send(message).is_err() {
            tracing::event!(
                target: super::TARGET,
                tracing::Level::WARN,
                event.name = "rasp.evidence.suppressed",
                rasp.evidence.path = %self.path.display(),
                rasp.evidence.suppressed = pending.count,
                client.address = pending.requester.map(tracing::field::display),
                "suppressed evidence records; their summary line could not be queued",
            );
        }
    }

    /// Waits until every record offered so far is written and flushed, or
    /// `timeout` passes; whether it was. Counts of suppressed records not
    /// yet reported are written first, as summary lines.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.keys.drain(|pending| self.summary(pending));
        let (done, wait) = mpsc::sync_channel(1);
        self.queue.send(Message::Flush(done)).is_ok() && wait.recv_timeout(timeout).is_ok()
    }
}

impl Drop for EvidenceLog {
    fn drop(&mut self) {
        // The last policy naming this log is gone: counts not yet carried
        // by a record become summary lines, which the writer writes before
        // it stops.
        self.keys.drain(|pending| self.summary(pending));
    }
}

fn dropped(path: &Path) {
    // Counted apart from overwritten records, so that the first loss of
    // this kind is reported whatever rotation deleted before it.
    let total = LOST.fetch_add(1, Ordering::Relaxed) + 1;
    DROPPED.fetch_add(1, Ordering::Relaxed);
    metrics::evidence_dropped();
    // One report per 1024 losses: a flood of losses must not become a
    // flood of events.
    if total % 1024 == 1 {
        tracing::event!(
            target: super::TARGET,
            tracing::Level::ERROR,
            event.name = "rasp.evidence.dropped",
            rasp.evidence.path = %path.display(),
            rasp.evidence.dropped = total,
            rasp.evidence.dropped_total = DROPPED.load(Ordering::Relaxed),
            "evidence record dropped: the writer is behind or the file cannot be written",
        );
    }
}

fn append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

struct Writer {
    path: PathBuf,
    file: BufWriter<File>,
    written: u64,
    max_file_bytes: u64,
    /// Records in the current file (index 0) and in each rotated one
    /// (`<path>.N` at index N); `None` when unknown (found at open).
    records_in: Vec<Option<u64>>,
}

/// What marks a summary line, as opposed to a record.
const SUMMARY_MARK: &[u8] = br#""event.name":"rasp.evidence.suppressed""#;

impl Writer {
    fn run(mut self, messages: Receiver<Message>) {
        let mut line = Vec::with_capacity(512);
        while let Ok(message) = messages.recv() {
            self.handle(message, &mut line);
            // Write what is queued, then flush once: a burst costs one
            // flush, and a quiet log is always on disk.
            while let Ok(message) = messages.try_recv() {
                self.handle(message, &mut line);
            }
            if self.file.flush().is_err() {
                dropped(&self.path);
            }
        }
    }

    fn handle(&mut self, message: Message, line: &mut Vec<u8>) {
        match message {
            Message::Record(record) => {
                line.clear();
                if serde_json::to_writer(&mut *line, &record.json()).is_err() {
                    dropped(&self.path);
                    return;
                }
                if self.append(line) {
                    WRITTEN.fetch_add(1, Ordering::Relaxed);
                    metrics::evidence_written(1);
                    if let Some(n) = &mut self.records_in[0] {
                        *n += 1;
                    }
                } else {
                    dropped(&self.path);
                }
            }
            Message::Summary(pending, time) => {
                line.clear();
                if serde_json::to_writer(&mut *line, &summary_json(&pending, time)).is_err()
                    || !self.append(line)
                {
                    // The records are counted as suppressed; only the line
                    // is lost, so its count goes to the event log.
                    tracing::event!(
                        target: super::TARGET,
                        tracing::Level::WARN,
                        event.name = "rasp.evidence.suppressed",
                        rasp.evidence.path = %self.path.display(),
                        rasp.evidence.suppressed = pending.count,
                        "suppressed evidence records; their summary line could not be written",
                    );
                }
            }
            Message::Flush(done) => {
                if self.file.flush().is_err() {
                    dropped(&self.path);
                }
                let _ = done.send(());
            }
        }
    }

    /// Appends one line (a newline is added), rotating first if it would
    /// not fit; whether it was written.
    fn append(&mut self, line: &mut Vec<u8>) -> bool {
        line.push(b'\n');
        if self.written + line.len() as u64 > self.max_file_bytes && self.written > 0 {
            self.rotate();
        }
        let ok = self.file.write_all(line).is_ok();
        if ok {
            self.written += line.len() as u64;
        }
        ok
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) {
        let _ = self.file.flush();
        let oldest = self.records_in.len() - 1;
        let gone = self.rotated(oldest);
        let lost = match self.records_in[oldest] {
            Some(n) => n,
            None => count_records(&gone),
        };
        // Renames fail only if a file vanished; the new file starts either
        // way.
        let _ = std::fs::remove_file(&gone);
        for n in (1..oldest).rev() {
            let _ = std::fs::rename(self.rotated(n), self.rotated(n + 1));
        }
        let _ = std::fs::rename(&self.path, self.rotated(1));
        self.records_in.rotate_right(1);
        self.records_in[0] = Some(0);
        if let Ok(file) = append(&self.path) {
            self.file = BufWriter::new(file);
            self.written = 0;
        }
        if lost > 0 {
            overwritten(&self.path, lost);
        }
    }
}

/// Records (not summary lines) in a file; 0 if it cannot be read.
fn count_records(path: &Path) -> u64 {
    use std::io::BufRead;
    let Ok(file) = File::open(path) else {
        return 0;
    };
    std::io::BufReader::new(file)
        .split(b'\n')
        .map_while(Result::ok)
        .filter(|line| !line.is_empty() && memchr::memmem::find(line, SUMMARY_MARK).is_none())
        .count() as u64
}

fn overwritten(path: &Path, records: u64) {
    let total = OVERWRITTEN.fetch_add(records, Ordering::Relaxed) + records;
    DROPPED.fetch_add(records, Ordering::Relaxed);
    metrics::evidence_overwritten(records);
    // One event per rotation: rotations are bounded by the file size, so
    // this cannot flood.
    tracing::event!(
        target: super::TARGET,
        tracing::Level::ERROR,
        event.name = "rasp.evidence.overwritten",
        rasp.evidence.path = %path.display(),
        rasp.evidence.overwritten = records,
        rasp.evidence.overwritten_total = total,
        "evidence records deleted with the oldest rotated file; raise max_rotated_files or max_file_mb to keep more",
    );
}

/// A summary line: how many records of one key were suppressed.
fn summary_json(pending: &Pending, time: SystemTime) -> SummaryLine {
    let (sink_kind, sink_id, reason, action) = match pending.subject {
        Subject::Detection {
            site,
            reason,
            decision,
        } => (
            site.class().as_str(),
            site.id(),
            reason.as_str(),
            decision.as_str(),
        ),
        // Evidence keys are detections only.
        _ => ("", "", "", ""),
    };
    SummaryLine {
        timestamp: rfc3339(time),
        event_name: "rasp.evidence.suppressed",
        action,
        sink_kind,
        sink_id,
        reason,
        client: pending.requester,
        suppressed: pending.count,
    }
}

/// One summary line of the evidence log.
#[derive(Serialize)]
struct SummaryLine {
    timestamp: String,
    #[serde(rename = "event.name")]
    event_name: &'static str,
    #[serde(rename = "rasp.action")]
    action: &'static str,
    #[serde(rename = "rasp.sink.kind")]
    sink_kind: &'static str,
    #[serde(rename = "rasp.sink.id")]
    sink_id: &'static str,
    #[serde(rename = "rasp.reason")]
    reason: &'static str,
    /// The requester: the client address, or its `/64` for IPv6.
    #[serde(rename = "client.address", skip_serializing_if = "Option::is_none")]
    client: Option<IpAddr>,
    #[serde(rename = "rasp.evidence.suppressed")]
    suppressed: u64,
}

/// Text copied into a fixed buffer, cut at a character boundary.
#[derive(Clone, Copy)]
pub(crate) struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Text<N> {
    fn new(text: Option<&str>) -> Option<Self> {
        let text = text?;
        let mut len = text.len().min(N);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        let mut buf = [0; N];
        buf[..len].copy_from_slice(&text.as_bytes()[..len]);
        Some(Text { buf, len })
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// One detection, as recorded: everything a replay needs and nothing
/// unmasked.
pub(crate) struct Record {
    time: SystemTime,
    site: &'static SinkSite,
    source: &'static SourceMeta,
    verdict: Verdict,
    detection: Detection,
    excerpt: Excerpt,
    input_len: usize,
    request_id: Text<128>,
    route: Option<Text<256>>,
    client: Option<IpAddr>,
    user: Option<Text<128>>,
    tenant: Option<Text<128>>,
    /// Records of this record's key suppressed since its previous one.
    suppressed: u64,
}

impl Record {
    pub(crate) fn new(
        site: &'static SinkSite,
        ctx: &RequestContext,
        source: &'static SourceMeta,
        verdict: Verdict,
        detection: Detection,
        input: (&Excerpt, usize),
    ) -> Record {
        Record {
            time: SystemTime::now(),
            site,
            source,
            verdict,
            detection,
            excerpt: *input.0,
            input_len: input.1,
            request_id: Text::new(Some(ctx.request_id())).unwrap_or(Text {
                buf: [0; 128],
                len: 0,
            }),
            route: Text::new(ctx.route()),
            client: ctx.client_ip(),
            user: Text::new(ctx.user()),
            tenant: Text::new(ctx.tenant()),
            suppressed: 0,
        }
    }

    fn json(&self) -> EvidenceLine<'_> {
        let (excerpt, truncated, length) = match self.verdict.masking {
            Masking::Masked => (
                Some(self.excerpt.as_str()),
                Some(self.excerpt.truncated()),
                None,
            ),
            Masking::LengthOnly => (None, None, Some(self.input_len)),
            Masking::Off => (None, None, None),
        };
        EvidenceLine {
            timestamp: rfc3339(self.time),
            event_name: super::event_name(self.site.class(), self.verdict.decision),
            action: self.verdict.decision.as_str(),
            sink_kind: self.site.class().as_str(),
            sink_id: self.site.id(),
            reason: self.detection.reason.as_str(),
            source_kind: self.source.kind,
            revision: self.verdict.revision,
            rule: self.verdict.rule.as_str(),
            request_id: self.request_id.as_str(),
            route: self.route.as_ref().map(Text::as_str),
            client: self.client,
            user: self.user.as_ref().map(Text::as_str),
            tenant: self.tenant.as_ref().map(Text::as_str),
            excerpt,
            truncated,
            length,
            offset: self.detection.offset,
            suppressed: (self.suppressed > 0).then_some(self.suppressed),
        }
    }
}

/// Whether `decision` goes to the evidence log.
pub(crate) fn recorded(decision: Decision, include_monitored: bool) -> bool {
    match decision {
        Decision::Block | Decision::Throttle => true,
        Decision::Monitor => include_monitored,
        Decision::Allow => false,
    }
}

/// One line of the evidence log. Field names are those of the detection
/// event, so one query language reads both.
#[derive(Serialize)]
struct EvidenceLine<'a> {
    timestamp: String,
    #[serde(rename = "event.name")]
    event_name: &'static str,
    #[serde(rename = "rasp.action")]
    action: &'static str,
    #[serde(rename = "rasp.sink.kind")]
    sink_kind: &'static str,
    #[serde(rename = "rasp.sink.id")]
    sink_id: &'static str,
    #[serde(rename = "rasp.reason")]
    reason: &'static str,
    #[serde(rename = "rasp.source.kind")]
    source_kind: &'static str,
    #[serde(rename = "rasp.policy.revision")]
    revision: Option<u64>,
    #[serde(rename = "rasp.policy.rule")]
    rule: &'static str,
    #[serde(rename = "rasp.request.id")]
    request_id: &'a str,
    #[serde(rename = "http.route", skip_serializing_if = "Option::is_none")]
    route: Option<&'a str>,
    #[serde(rename = "client.address", skip_serializing_if = "Option::is_none")]
    client: Option<IpAddr>,
    #[serde(rename = "user.id", skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(rename = "rasp.tenant.id", skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    #[serde(rename = "rasp.input.excerpt", skip_serializing_if = "Option::is_none")]
    excerpt: Option<&'a str>,
    #[serde(
        rename = "rasp.input.truncated",
        skip_serializing_if = "Option::is_none"
    )]
    truncated: Option<bool>,
    #[serde(rename = "rasp.input.length", skip_serializing_if = "Option::is_none")]
    length: Option<usize>,
    #[serde(rename = "rasp.input.offset")]
    offset: usize,
    #[serde(
        rename = "rasp.evidence.suppressed",
        skip_serializing_if = "Option::is_none"
    )]
    suppressed: Option<u64>,
}

/// RFC 3339 UTC with milliseconds.
fn rfc3339(time: SystemTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from(time)
        .format(&format)
        .unwrap_or_default()
}
