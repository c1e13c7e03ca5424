//! What `/proc` tells about the shops and the machine: a process found by
//! a tag in its environment, its CPU time, and the load average.

use std::process::Command;

/// The process whose environment holds `var=tag`.
pub(super) fn find_tagged_process(var: &str, tag: &str) -> Option<u32> {
    let wanted = format!("{var}={tag}");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|&b| b == 0)
                .any(|var| var == wanted.as_bytes())
                .then_some(pid)
        })
}

/// User plus system CPU time of process `pid` and all its threads, in
/// clock ticks (`/proc/<pid>/stat`, fields 14 and 15).
pub(super) fn cpu_ticks(pid: u32) -> Option<u64> {
    parse_cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Fields 14 (utime) and 15 (stime) of a `/proc/<pid>/stat` line. The
/// second field, the command name, is in parentheses and may hold spaces,
/// so the count starts after its closing parenthesis.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come field 3 (state) onwards: utime is the 12th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), 100 on Linux
/// unless it says otherwise.
pub(super) fn clock_ticks_per_second() -> f64 {
    #[allow(
        clippy::disallowed_methods,
        reason = "runs getconf with fixed arguments"
    )]
    let output = Command::new("getconf").arg("CLK_TCK").output();
    output
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|&ticks| ticks > 0.0)
        .unwrap_or(100.0)
}

/// The 1-minute load average (`/proc/loadavg`), where the system has one.
pub(super) fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_past_a_command_name_with_spaces() {
        // A /proc/<pid>/stat line: utime 1234 and stime 56 are fields 14, 15.
        let stat = "4242 (rasp shop) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 3 0 100 1000000 500";
        assert_eq!(parse_cpu_ticks(stat), Some(1290));
        assert_eq!(parse_cpu_ticks("4242 (short) S 1"), None);
        assert_eq!(parse_cpu_ticks("no parenthesis"), None);
    }

    #[test]
    fn this_process_is_found_and_measured_in_proc() {
        // The test process itself: its stat parses, and a tag nobody set
        // is found nowhere.
        assert!(cpu_ticks(std::process::id()).is_some());
        assert_eq!(
            find_tagged_process("RASP_BENCH_SHOP", "no-such-tag-anywhere"),
            None
        );
    }
}
