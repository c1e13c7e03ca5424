//! The terminal table: one row per sink, then the escape hatches, then the
//! call sites the source scan found.

use std::fmt::Write as _;

use super::map::{ASSERTED, SinkMap};

/// Renders `map` as aligned columns for a terminal.
pub(crate) fn render(map: &SinkMap) -> String {
    let header = [
        "kind",
        "id",
        "fn path",
        "file:line",
        "guarded params",
        "guard",
        "action",
    ];
    let rows: Vec<[String; 7]> = map
        .sinks
        .iter()
        .map(|sink| {
            [
                sink.kind.clone(),
                sink.id.clone(),
                sink.fn_path.clone(),
                format!("{}:{}", sink.file, sink.line),
                sink.guarded.join(", "),
                sink.guard.as_str().to_owned(),
                sink.action.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "{} sinks", map.sinks.len());
    // The action column exists only under `--policy`.
    if map.sinks.iter().any(|s| s.action.is_some()) {
        write_columns(&mut out, &header, &rows);
    } else {
        let header: [&str; 6] = core::array::from_fn(|i| header[i]);
        let rows: Vec<[String; 6]> = rows
            .into_iter()
            .map(|row| core::array::from_fn(|i| row[i].clone()))
            .collect();
        write_columns(&mut out, &header, &rows);
    }

    let header = ["file:line", "module", "guard", "class", "reason"];
    let rows: Vec<[String; 5]> = map
        .escape_hatches
        .iter()
        .map(|hatch| {
            [
                format!("{}:{}:{}", hatch.file, hatch.line, hatch.column),
                hatch.module.clone(),
                ASSERTED.to_owned(),
                hatch.class.clone(),
                hatch.reason.clone(),
            ]
        })
        .collect();
    let _ = writeln!(
        out,
        "\n{} escape hatches (trust_unchecked!)",
        map.escape_hatches.len()
    );
    if !rows.is_empty() {
        write_columns(&mut out, &header, &rows);
    }

    let header = [
        "file:line:col",
        "fn path",
        "call",
        "matched by",
        "class",
        "guard",
        "reason",
    ];
    let rows: Vec<[String; 7]> = map
        .call_sites
        .iter()
        .map(|site| {
            [
                format!("{}:{}:{}", site.file, site.line, site.column),
                site.fn_path.clone(),
                site.described(),
                site.matched.as_str().to_owned(),
                site.class.clone(),
                site.site.as_str().to_owned(),
                site.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let _ = writeln!(
        out,
        "\n{} runtime-checked call sites and unregistered escape hatches (source scan)",
        map.call_sites.len()
    );
    if !rows.is_empty() {
        write_columns(&mut out, &header, &rows);
    }

    let shares = map.span_shares();
    if !shares.is_empty() {
        let _ = writeln!(
            out,
            "\nspan-exact share by class (macros against verbatim guard calls)"
        );
        let rows: Vec<[String; 4]> = shares
            .iter()
            .map(|share| {
                [
                    share.class.clone(),
                    share.span_exact.to_string(),
                    share.verbatim.to_string(),
                    format!("{} %", share.percent()),
                ]
            })
            .collect();
        write_columns(
            &mut out,
            &["class", "span-exact", "verbatim", "share"],
            &rows,
        );
    }
    out
}

fn write_columns<const N: usize>(out: &mut String, header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (index, (cell, width)) in cells.zip(widths).enumerate() {
            // The last column is not padded: no trailing spaces.
            if index + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}
