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
//! so a loss is never silent. When the file outgrows its limit it is
//! renamed to `<path>.1` (replacing the previous one) and a new file starts.
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
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::Excerpt;
use crate::context::RequestContext;
use crate::decision::Decision;
use crate::detect::Detection;
use crate::policy::{Masking, Verdict, metrics};
use crate::sink::SinkSite;
use crate::taint::SourceMeta;

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
}

/// Records written and dropped since the process started, over every log.
static WRITTEN: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// `(written, dropped)` evidence records since the process started.
pub(crate) fn counts() -> (u64, u64) {
    (
        WRITTEN.load(Ordering::Relaxed),
        DROPPED.load(Ordering::Relaxed),
    )
}

/// An open evidence log: the sending side of its writer's queue.
#[derive(Debug)]
pub struct EvidenceLog {
    path: PathBuf,
    queue: SyncSender<Message>,
}

// Records travel by value: the queue's slots are allocated once, when the
// log opens, so offering a record allocates nothing. A flush request is
// rare and small; the size difference is the point.
#[allow(clippy::large_enum_variant)]
enum Message {
    Record(Record),
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
        let writer = Writer {
            path: config.path.clone(),
            written: file.metadata()?.len(),
            file: BufWriter::new(file),
            max_file_bytes: config.max_file_bytes,
        };
        std::thread::Builder::new()
            .name("rasp-evidence".into())
            .spawn(move || writer.run(records))?;
        let log = Arc::new(EvidenceLog {
            path: config.path.clone(),
            queue,
        });
        open.push(Arc::downgrade(&log));
        Ok(log)
    }

    /// The file this log appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Offers one record to the writer; never blocks.
    pub(crate) fn record(&self, record: Record) {
        match self.queue.try_send(Message::Record(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => dropped(&self.path),
        }
    }

    /// Waits until every record offered so far is written and flushed, or
    /// `timeout` passes; whether it was.
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = mpsc::sync_channel(1);
        self.queue.send(Message::Flush(done)).is_ok() && wait.recv_timeout(timeout).is_ok()
    }
}

fn dropped(path: &Path) {
    let total = DROPPED.fetch_add(1, Ordering::Relaxed) + 1;
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
}

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
                line.push(b'\n');
                if self.written + line.len() as u64 > self.max_file_bytes && self.written > 0 {
                    self.rotate();
                }
                match self.file.write_all(line) {
                    Ok(()) => {
                        self.written += line.len() as u64;
                        WRITTEN.fetch_add(1, Ordering::Relaxed);
                        metrics::evidence_written(1);
                    }
                    Err(_) => dropped(&self.path),
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

    fn rotate(&mut self) {
        let _ = self.file.flush();
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        // Rename fails only if the file vanished; the new file starts
        // either way.
        let _ = std::fs::rename(&self.path, &old);
        if let Ok(file) = append(&self.path) {
            self.file = BufWriter::new(file);
            self.written = 0;
        }
    }
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
            event_name: super::event_name(self.site.kind, self.verdict.decision),
            action: self.verdict.decision.as_str(),
            sink_kind: self.site.kind.as_str(),
            sink_id: self.site.id,
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
