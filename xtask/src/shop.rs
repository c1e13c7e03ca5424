//! Building and running the example shop (`examples/shop`) for tasks that
//! need it over real HTTP: the demo and the load benchmark.
//!
//! The shop is protected or not at build time (its `protected` feature), and
//! both builds write the same `target/<profile>/rasp-example-shop`. [`build`]
//! therefore copies each variant's binary to a path of its own,
//! `target/rasp-demo/<variant>/rasp-example-shop`, so both can run at once.
//! rasp is linked with the same features in both builds, so switching
//! variants recompiles only the shop crate.
//!
//! ```ignore
//! let binary = shop::build(Variant::Protected, true)?;
//! let shop = Running::start(&binary, &["--avatar-host", "127.0.0.1:8081"], &[])?;
//! let url = format!("http://{}/health", shop.addr());
//! // ... the shop is killed when `shop` is dropped.
//! ```

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cargo_metadata::{Message, MetadataCommand};

/// The shop's package name, as cargo knows it.
const PACKAGE: &str = "rasp-example-shop";

/// How long a started shop may take to print its address: it seeds its
/// database first, which is quick, but a loaded CI machine is slow.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of a shop's standard error is kept: enough for an error
/// message, and for the security events of a demo's few dozen requests.
const STDERR_KEPT: usize = 1024 * 1024;

/// Which build of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Variant {
    /// The default build: rasp's policy, `RaspLayer` and guarded sinks.
    Protected,
    /// Built with `--no-default-features`: the same handlers on plain
    /// sinks, really vulnerable.
    Unprotected,
}

impl Variant {
    /// Both variants, unprotected first: the order a comparison reads in.
    pub(crate) const ALL: [Variant; 2] = [Variant::Unprotected, Variant::Protected];

    /// `protected` or `unprotected`: the variant's folder and label.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Variant::Protected => "protected",
            Variant::Unprotected => "unprotected",
        }
    }
}

/// Builds `variant` of the shop (`--release` when `release`), with cargo's
/// progress on this process's standard error, and returns the path of its
/// own copy of the binary, `target/rasp-demo/<variant>/rasp-example-shop`.
#[allow(
    clippy::disallowed_methods,
    reason = "runs cargo with fixed arguments, no untrusted input"
)]
pub(crate) fn build(variant: Variant, release: bool) -> Result<PathBuf, String> {
    let metadata = MetadataCommand::new()
        .no_deps()
        .exec()
        .map_err(|e| format!("cannot read the workspace metadata: {e}"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--package",
        PACKAGE,
        "--bin",
        PACKAGE,
        "--message-format",
        "json-render-diagnostics",
    ]);
    if variant == Variant::Unprotected {
        command.arg("--no-default-features");
    }
    if release {
        command.arg("--release");
    }
    // Messages on stdout (read below); progress and diagnostics on stderr,
    // passed through so a first, slow build shows what it is doing.
    let mut child = command
        .current_dir(metadata.workspace_root.as_std_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("cargo's stdout is not piped")?;
    let mut built = None;
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.map_err(|e| format!("cannot read cargo's output: {e}"))?;
        if let Message::CompilerArtifact(artifact) = message
            && artifact.target.name.as_str() == PACKAGE
            && let Some(executable) = artifact.executable
        {
            built = Some(executable.into_std_path_buf());
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the {} shop failed ({status})",
            variant.name()
        ));
    }
    let built = built.ok_or("cargo built no rasp-example-shop binary")?;
    let dir = metadata
        .target_directory
        .as_std_path()
        .join("rasp-demo")
        .join(variant.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let copy = dir.join(
        built
            .file_name()
            .ok_or("the built binary has no file name")?,
    );
    // Removed first: overwriting a binary that is still running fails on
    // some systems, while unlinking it never does.
    let _ = std::fs::remove_file(&copy);
    std::fs::copy(&built, &copy)
        .map_err(|e| format!("cannot copy {} to {}: {e}", built.display(), copy.display()))?;
    Ok(copy)
}

/// A shop process, killed when dropped.
#[derive(Debug)]
pub(crate) struct Running {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Starts `binary` with `args` and extra environment `envs`, waits until
    /// it prints `listening on http://ADDR` (up to 30 s), and returns the
    /// running shop. The shop's standard output and error are drained in
    /// the background so it never blocks on a full pipe; the first MiB
    /// of standard error is kept for [`Running::stderr`].
    #[allow(
        clippy::disallowed_methods,
        reason = "runs the shop built from this workspace with the caller's fixed arguments"
    )]
    pub(crate) fn start(
        binary: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<Running, String> {
        let mut child = Command::new(binary)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            let kept = Arc::clone(&stderr);
            std::thread::spawn(move || keep_start(pipe, &kept));
        }
        let stdout = child
            .stdout
            .take()
            .ok_or("the shop's stdout is not piped")?;
        let (found, address) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut found = Some(found);
            // Read to the end even after the address: a closed pipe would
            // fail the shop's next print.
            while let Some(Ok(line)) = lines.next() {
                if let Some(addr) = line.strip_prefix("listening on http://")
                    && let Some(found) = found.take()
                {
                    let _ = found.send(addr.trim().to_owned());
                }
            }
        });
        let mut running = Running {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            stderr,
        };
        let addr = match address.recv_timeout(START_TIMEOUT) {
            Ok(addr) => addr,
            Err(_) => {
                // Standard output closed or time ran out: give an exiting
                // shop a moment to be reaped, so the error says how it ended.
                let mut exited = None;
                for _ in 0..20 {
                    exited = running.child.try_wait().ok().flatten();
                    if exited.is_some() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                let why = match exited {
                    Some(status) => format!("exited ({status}) before listening"),
                    None => format!("printed no address in {}s", START_TIMEOUT.as_secs()),
                };
                return Err(format!(
                    "{} {why}; its stderr:\n{}",
                    binary.display(),
                    running.stderr()
                ));
            }
        };
        running.addr = addr
            .parse()
            .map_err(|_| format!("the shop printed an unreadable address `{addr}`"))?;
        Ok(running)
    }

    /// The address the shop listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shop's base URL, `http://ADDR`, without a trailing slash.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The start of what the shop wrote to its standard error so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Running {
    /// Stops the shop as Ctrl-C would (`SIGINT`: it shuts down gracefully
    /// and exits), waiting up to `timeout`; a tool it runs under (such as
    /// valgrind) then writes its results. Killed if it does not exit.
    #[allow(
        clippy::disallowed_methods,
        reason = "runs `kill` with a fixed signal and the shop's own process id"
    )]
    pub(crate) fn interrupt(mut self, timeout: Duration) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !sent.success() {
            return Err(format!("kill -INT {pid} failed ({sent})"));
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!(
                        "the shop exited {status} on Ctrl-C; its stderr:\n{}",
                        self.stderr()
                    ));
                }
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(None) => {
                    return Err(format!(
                        "the shop did not exit within {}s of Ctrl-C",
                        timeout.as_secs()
                    ));
                }
                Err(e) => return Err(format!("cannot wait for the shop: {e}")),
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Already exited is fine; anything else leaves nothing to do.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `pipe` to its end, keeping the first [`STDERR_KEPT`] bytes.
fn keep_start(mut pipe: impl Read, kept: &Mutex<String>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buf) {
        if n == 0 {
            break;
        }
        if let Ok(mut kept) = kept.lock()
            && kept.len() < STDERR_KEPT
        {
            let room = STDERR_KEPT - kept.len();
            kept.push_str(&String::from_utf8_lossy(&buf[..n.min(room)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_have_distinct_folders() {
        assert_eq!(Variant::Protected.name(), "protected");
        assert_eq!(Variant::Unprotected.name(), "unprotected");
        assert_ne!(Variant::ALL[0].name(), Variant::ALL[1].name());
    }

    #[test]
    fn keep_start_caps_what_it_keeps() {
        let kept = Mutex::new(String::new());
        keep_start(&vec![b'x'; STDERR_KEPT + 5000][..], &kept);
        assert_eq!(kept.lock().unwrap().len(), STDERR_KEPT);
    }

    #[test]
    fn a_binary_that_never_listens_is_an_error_not_a_hang() {
        let err = Running::start(Path::new("/bin/true"), &[], &[]).unwrap_err();
        assert!(err.contains("before listening"), "{err}");
    }
}
