//! The runtime-checked guards the scan looks for, in the facade's names.
//!
//! Free functions are matched by their resolved path. Methods cannot be:
//! the receiver's type is unknown without type checking, so a method is
//! matched by name and argument count, and only in a file that refers to
//! the module of the guard's type, or on a receiver the crate declares
//! with that type (see `typed_names`); `location` is matched anywhere: a
//! `RedirectPolicy` is usually a static declared elsewhere, and no common
//! type has a one-argument `location` method.

/// Guards called as free functions (or associated functions), with the
/// sink class they check.
const FUNCTIONS: &[(&str, &str)] = &[
    ("rasp::sql", "sql"),
    ("rasp::sql_for", "sql"),
    ("rasp::process::shell", "shell"),
    ("rasp::process::Command::new", "shell"),
    ("rasp::header::value", "header"),
    ("rasp::header::set_cookie", "header"),
    ("rasp::redirect::location", "redirect"),
    ("rasp::html::raw", "html"),
    ("rasp::log::line", "log"),
    ("rasp::log::field", "log"),
    // Not checks, but ways a tainted value leaves its wrapper: a log field
    // written escaped, and a bound SQL parameter.
    ("rasp::log::tainted", "log"),
    ("rasp::bind", "sql"),
    ("rasp::http::url", "url"),
];

/// Guards called as methods of one type.
struct Methods {
    /// The type, as the facade names it.
    receiver: &'static str,
    class: &'static str,
    /// A file must refer to a path under this module for its method calls
    /// to count; `None`: every file.
    gate: Option<&'static str>,
    /// Method names with their argument count.
    methods: &'static [(&'static str, usize)],
    /// Methods so common on other types (`Path::join`, `[T]::join`) that
    /// the gate alone would list them everywhere: matched only on a
    /// receiver declared with the guard's type.
    typed_only: &'static [&'static str],
}

const METHODS: &[Methods] = &[
    // `Root`'s methods, also on `Root::tokio()` and `Root::cap()`.
    Methods {
        receiver: "rasp::fs::Root",
        class: "path",
        gate: Some("rasp::fs"),
        methods: &[
            ("join", 1),
            ("resolve", 1),
            ("open", 1),
            ("open_with", 2),
            ("create", 1),
            ("read", 1),
            ("read_to_string", 1),
            ("write", 2),
            ("remove_file", 1),
            ("create_dir_all", 1),
            ("read_dir", 1),
        ],
        typed_only: &["join"],
    },
    Methods {
        receiver: "rasp::http::GuardedClient",
        class: "url",
        gate: Some("rasp::http"),
        methods: &[
            ("get", 1),
            ("post", 1),
            ("put", 1),
            ("delete", 1),
            ("head", 1),
            ("request", 2),
        ],
        typed_only: &[],
    },
    // The argument vector of a `rasp::process::Command`.
    Methods {
        receiver: "rasp::process::Command",
        class: "shell",
        gate: Some("rasp::process"),
        methods: &[("arg", 1), ("args", 1), ("arg_tainted", 1)],
        typed_only: &[],
    },
    Methods {
        receiver: "rasp::redirect::RedirectPolicy",
        class: "redirect",
        gate: None,
        methods: &[("location", 1)],
        typed_only: &[],
    },
];

/// A guard a call matched: its facade name and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Guard {
    pub(crate) call: String,
    pub(crate) class: &'static str,
}

/// The guard the function at `path` (facade names) is, if any.
pub(crate) fn function(path: &[String]) -> Option<Guard> {
    let joined = path.join("::");
    FUNCTIONS
        .iter()
        .find(|(name, _)| *name == joined)
        .map(|(name, class)| Guard {
            call: (*name).to_owned(),
            class,
        })
}

/// The guard a call of method `name` with `args` arguments may be, where
/// `gated(gate)` says whether the call's file refers to the guard's `gate`
/// module and `typed(receiver)` whether the call's receiver was declared
/// with type `receiver`. A guard without a gate is accepted everywhere; a
/// `typed_only` method needs the typed receiver.
pub(crate) fn method(
    name: &str,
    args: usize,
    gated: impl Fn(&str) -> bool,
    typed: impl Fn(&str) -> bool,
) -> Option<Guard> {
    METHODS
        .iter()
        .filter(|m| m.methods.contains(&(name, args)))
        .find(|m| typed(m.receiver) || (!m.typed_only.contains(&name) && m.gate.is_none_or(&gated)))
        .map(|m| Guard {
            call: format!("{}::{name}", m.receiver),
            class: m.class,
        })
}

/// The modules whose mention enables method matching in a file.
pub(crate) fn gates() -> impl Iterator<Item = &'static str> {
    METHODS.iter().filter_map(|m| m.gate)
}

/// The types whose methods are guards.
pub(crate) fn receivers() -> impl Iterator<Item = &'static str> {
    METHODS.iter().map(|m| m.receiver)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split("::").map(str::to_owned).collect()
    }

    #[test]
    fn functions_match_by_their_whole_path() {
        assert_eq!(function(&path("rasp::sql")).unwrap().class, "sql");
        assert_eq!(
            function(&path("rasp::process::Command::new"))
                .unwrap()
                .class,
            "shell"
        );
        assert_eq!(function(&path("sql")), None);
        assert_eq!(function(&path("other::sql")), None);
    }

    #[test]
    fn methods_match_by_name_and_arity_behind_their_gate() {
        let everywhere = |_: &str| true;
        let nowhere = |_: &str| false;
        assert_eq!(
            method("open", 1, everywhere, nowhere).unwrap().call,
            "rasp::fs::Root::open"
        );
        assert_eq!(method("open", 1, nowhere, nowhere), None);
        assert_eq!(method("open", 2, everywhere, nowhere), None);
        let typed_root = |receiver: &str| receiver == "rasp::fs::Root";
        assert_eq!(
            method("read", 1, nowhere, typed_root).unwrap().class,
            "path"
        );
        assert_eq!(method("get", 1, nowhere, typed_root), None);
        assert_eq!(
            method("request", 2, |gate| gate == "rasp::http", nowhere)
                .unwrap()
                .class,
            "url"
        );
        assert_eq!(
            method("location", 1, nowhere, nowhere).unwrap().call,
            "rasp::redirect::RedirectPolicy::location"
        );
        // `join` is everybody's: only a receiver typed `Root` counts.
        assert_eq!(method("join", 1, everywhere, nowhere), None);
        assert_eq!(
            method("join", 1, nowhere, typed_root).unwrap().call,
            "rasp::fs::Root::join"
        );
    }
}
