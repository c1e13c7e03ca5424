//! SQL dialects the lexer understands.

/// SQL dialect of a sink's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// Unknown database: an input is flagged if it is an injection under any
    /// of the dialects below.
    #[default]
    Generic,
    /// SQLite.
    Sqlite,
    /// PostgreSQL (`standard_conforming_strings = on`, the default since 9.1).
    Postgres,
    /// MySQL and MariaDB (backslash escapes on, the default).
    MySql,
}

impl Dialect {
    /// Stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dialect::Generic => "generic",
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }

    /// Parses a name: `generic`, `sqlite`, `postgres`/`postgresql`, `mysql`/`mariadb`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "generic" => Dialect::Generic,
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::MySql,
            _ => return None,
        })
    }
}
