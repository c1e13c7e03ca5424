//! The two shop builds, built, started on the shops' CPUs and found in
//! `/proc` so that their CPU time can be read.

use super::pinning::Pinning;
use super::procfs;
use crate::shop::{self, Running, Variant};

/// The environment variable that tags each started shop, so that its
/// process can be found in `/proc` whatever launcher (taskset) started it.
const TAG_VAR: &str = "RASP_BENCH_SHOP";

/// A started shop.
pub(super) struct Shop {
    pub(super) variant: Variant,
    pub(super) running: Running,
    /// Its process id, when found.
    pub(super) pid: Option<u32>,
}

/// Builds both variants in release mode and starts each, protected first.
pub(super) fn start(pinning: &Pinning) -> Result<Vec<Shop>, String> {
    let mut shops = Vec::new();
    for variant in [Variant::Protected, Variant::Unprotected] {
        let binary = shop::build(variant, true)?;
        let (program, args) = pinning.server_command(&binary);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let tag = format!("{}-{}", std::process::id(), variant.name());
        let running = Running::start(&program, &args, &[(TAG_VAR, &tag)])
            .map_err(|e| format!("the {} shop did not start: {e}", variant.name()))?;
        let pid = procfs::find_tagged_process(TAG_VAR, &tag);
        if pid.is_none() {
            eprintln!(
                "note: the {} shop's process was not found in /proc; no CPU time per request",
                variant.name()
            );
        }
        shops.push(Shop {
            variant,
            running,
            pid,
        });
    }
    Ok(shops)
}
