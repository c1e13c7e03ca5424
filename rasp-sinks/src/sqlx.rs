//! The sqlx guard: `rasp::sql(text)` checks string-built SQL before sqlx
//! runs it.
//!
//! sqlx 0.9 accepts query text only through [`SqlSafeStr`]: string literals,
//! or a dynamic string wrapped in `AssertSqlSafe`, which is the author's
//! word that nothing untrusted was spliced in. [`sql`] replaces that word
//! with a check. It looks for every input recorded in the current request
//! context inside the finished text and asks the SQL detector whether one of
//! them changes the statement's structure (closes a literal, opens a comment,
//! adds a clause or a statement). Only text that passes becomes a
//! [`CheckedSql`], the one dynamic type this crate lets through to sqlx:
//!
//! ```text
//! sqlx::query(rasp::sql(format!("… WHERE name = '{name}'"))?)   // checked
//! sqlx::query("… WHERE name = $1").bind(name)                  // bound: no check needed
//! ```
//!
//! Bound parameters never reach the SQL text, so they are neither checked
//! nor restricted; `sql(…)?` composes with `.bind(…)` as usual.
//!
//! Each entry point is a registered sink (`sqlx.query`, and
//! `sqlx.query.{sqlite,postgres,mysql}` for [`sql_for`]), so policies and
//! events name it and `rasp::registry::sinks()` lists it.

use std::borrow::Cow;
use std::fmt;

use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};
use rasp_core::{Blocked, Dialect, Tainted};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Encode, SqlSafeStr, SqlStr, Type};

macro_rules! sql_site {
    ($name:ident, $id:literal, $fn_path:literal, $dialect:expr) => {
        static $name: SinkSite = SinkSite::new(
            $id,
            SinkClass::Sql,
            $fn_path,
            file!(),
            line!(),
            &["text"],
            Guard::RuntimeChecked,
        )
        .with_dialect($dialect);
        inventory::submit! { SinkRegistration(&$name) }
    };
}

sql_site!(GENERIC, "sqlx.query", "rasp::sql", Dialect::Generic);
sql_site!(
    SQLITE,
    "sqlx.query.sqlite",
    "rasp::sql_for",
    Dialect::Sqlite
);
sql_site!(
    POSTGRES,
    "sqlx.query.postgres",
    "rasp::sql_for",
    Dialect::Postgres
);
sql_site!(MYSQL, "sqlx.query.mysql", "rasp::sql_for", Dialect::MySql);

/// SQL text that has passed rasp's runtime check; accepted by every sqlx
/// entry point that takes query text (`query`, `query_as`, `query_scalar`,
/// `raw_sql`, …).
///
/// The only way to get one is [`sql`] or [`sql_for`].
#[derive(Clone)]
pub struct CheckedSql {
    sql: SqlStr,
    sink_id: &'static str,
}

impl CheckedSql {
    /// The checked SQL text.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.sql.as_str()
    }

    /// Id of the sink that checked the text, e.g. `sqlx.query.postgres`.
    #[inline]
    pub fn sink_id(&self) -> &'static str {
        self.sink_id
    }
}

impl SqlSafeStr for CheckedSql {
    #[inline]
    fn into_sql_str(self) -> SqlStr {
        self.sql
    }
}

impl AsRef<str> for CheckedSql {
    #[inline]
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for CheckedSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedSql")
            .field("sink", &self.sink_id)
            .field("sql", &self.as_str())
            .finish()
    }
}

/// Text that [`sql`] and [`sql_for`] accept: owned strings (`String`,
/// `&String`, `Box<str>`, `Cow<'static, str>`), string literals, and SQL
/// text kept tainted (`Tainted<String>`, built with `Tainted::map`).
///
/// Like sqlx's own `SqlSafeStr`, a borrowed `&str` is accepted only when it
/// is `'static`: a literal is handed to sqlx without a copy. It is checked
/// like any other text all the same, since `String::leak` makes a
/// `'static` string out of anything. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be checked as SQL text by `rasp::sql`",
    label = "expected an owned string or a string literal",
    note = "pass the `String` you built (e.g. `rasp::sql(format!(\"…\"))`), or `&string` to check a copy"
)]
pub trait SqlText: sealed::Sealed {}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod sealed {
    use std::borrow::Cow;

    /// Turns accepted text into the form the check and sqlx need.
    pub trait Sealed {
        /// `Cow::Borrowed` for `'static` text, handed to sqlx without a
        /// copy (and checked all the same).
        fn into_text(self) -> Cow<'static, str>;
    }
}

macro_rules! sql_text {
    ($($t:ty => |$v:ident| $conv:expr;)*) => {$(
        impl sealed::Sealed for $t {
            #[inline]
            fn into_text(self) -> Cow<'static, str> {
                let $v = self;
                $conv
            }
        }
        impl SqlText for $t {}
    )*};
}

sql_text! {
    &'static str => |s| Cow::Borrowed(s);
    String => |s| Cow::Owned(s);
    &String => |s| Cow::Owned(s.clone());
    Box<str> => |s| Cow::Owned(s.into_string());
    Cow<'static, str> => |s| s;
    // SQL text built from an input and kept tainted: unwrapped here, at a
    // registered site, for the check that follows.
    rasp_core::Tainted<String> => |s| Cow::Owned(rasp_core::__private_v1::take_at(s, &GENERIC));
    // SQL composed with `rasp::compose!` from values sanitized for SQL.
    rasp_core::Composed<rasp_core::Sql> => |s| Cow::Owned(rasp_core::__private_v1::take_composed_at(s, &GENERIC));
}

/// Checks SQL text built at run time (generic dialect) and, if no recorded
/// input changes its structure, returns it ready for sqlx.
///
/// The text is checked against the inputs recorded in the current request
/// context (by `#[rasp::source]` fns or [`RequestContext::record_input`]);
/// outside a context it passes after one thread-local read. String literals
/// are checked too (a literal holds no recorded input and passes after one
/// scan): `'static` text is not always written in the program.
/// A detection is reported on the `rasp::security` tracing target and, in
/// `Block` mode, refused with [`Blocked`]; in `Monitor` mode the text passes.
/// The generic dialect flags an input that is an injection under any of the
/// dialects rasp knows; [`sql_for`] narrows that to one database.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::sqlx::sql;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// sqlx::raw_sql("CREATE TABLE users (name TEXT, secret TEXT);
///                INSERT INTO users VALUES ('ann', 's1'), ('bob', 's2')")
///     .execute(&pool)
///     .await?;
///
/// static QUERY: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let search = |name: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&QUERY, name.as_bytes());
///     let pool = pool.clone();
///     ctx.instrument(async move {
///         let q = sql(format!("SELECT name FROM users WHERE name = '{name}'"))?;
///         let rows: Vec<(String,)> = sqlx::query_as(q).fetch_all(&pool).await?;
///         Ok::<_, Box<dyn std::error::Error>>(rows.len())
///     })
/// };
///
/// assert_eq!(search("ann").await?, 1);
/// let refused = search("x' OR '1'='1").await.unwrap_err();
/// assert!(refused.to_string().contains("sqlx.query"), "{refused}");
///
/// // Values bound as parameters are not part of the text: nothing to check.
/// let q = sql(String::from("SELECT count(*) FROM users WHERE name = ?"))?;
/// let n: i64 = sqlx::query_scalar(q).bind("x' OR '1'='1").fetch_one(&pool).await?;
/// assert_eq!(n, 0);
/// # Ok(())
/// # }
/// ```
///
/// [`RequestContext::record_input`]: rasp_core::RequestContext::record_input
#[inline]
pub fn sql(text: impl SqlText) -> Result<CheckedSql, Blocked> {
    checked(&GENERIC, text.into_text())
}

/// Like [`sql`], for the SQL dialect of one database: the check follows that
/// database's lexical rules (MySQL's backslash escapes and `#` comments,
/// PostgreSQL's dollar quoting), and the sink id names it
/// (`sqlx.query.sqlite`, `sqlx.query.postgres`, `sqlx.query.mysql`).
///
/// ```
/// use rasp_core::Dialect;
/// use rasp_sinks::sqlx::sql_for;
///
/// let q = sql_for(Dialect::Postgres, format!("SELECT {} + 1", 41))?;
/// assert_eq!(q.sink_id(), "sqlx.query.postgres");
/// assert_eq!(q.as_str(), "SELECT 41 + 1");
/// # Ok::<(), rasp_core::Blocked>(())
/// ```
#[inline]
pub fn sql_for(dialect: Dialect, text: impl SqlText) -> Result<CheckedSql, Blocked> {
    let site = match dialect {
        Dialect::Generic => &GENERIC,
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
        Dialect::MySql => &MYSQL,
    };
    checked(site, text.into_text())
}

fn checked(site: &'static SinkSite, text: Cow<'static, str>) -> Result<CheckedSql, Blocked> {
    check(site, text.as_bytes())?;
    Ok(CheckedSql {
        sql: hand_to_sqlx(text),
        sink_id: site.id(),
    })
}

/// SQL built by `rasp::sql!`: its argument spans are judged at `site`
/// (the macro's own, registered where it is written), and the text goes
/// to sqlx. Not for applications: the macro calls it.
#[doc(hidden)]
#[inline]
pub fn __spliced(
    spliced: rasp_core::__private_v1::Spliced<rasp_core::Sql>,
    site: &'static SinkSite,
) -> Result<CheckedSql, Blocked> {
    let text = rasp_core::__private_v1::checked_spliced(spliced, site)?;
    Ok(CheckedSql {
        sql: hand_to_sqlx(Cow::Owned(text)),
        sink_id: site.id(),
    })
}

/// The one place in rasp that vouches for dynamic SQL text to sqlx: reached
/// only with text that [`check`] has just passed.
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "rasp's own guard: the text was checked by `rasp_core::check` just before"
)]
fn hand_to_sqlx(text: Cow<'static, str>) -> SqlStr {
    sqlx::AssertSqlSafe(text).into_sql_str()
}

/// A tainted value on its way to a bound query parameter.
///
/// Binding is the one use of a tainted value that needs no check: sqlx sends
/// a bound parameter apart from the SQL text, so the database never parses
/// it as SQL. `Bound` implements only sqlx's `Encode` and `Type`, nothing
/// that reads the value back, so it cannot be spliced into text on the way.
///
/// ```
/// # async fn demo(pool: &sqlx::SqlitePool, name: rasp_core::Tainted<String>) -> Result<(), sqlx::Error> {
/// sqlx::query("SELECT id FROM users WHERE name = ?")
///     .bind(rasp_sinks::sqlx::bind(name))
///     .fetch_all(pool)
///     .await?;
/// # Ok(()) }
/// ```
pub struct Bound<T>(T);

/// Unwraps `value` into a [`Bound`] query parameter.
#[inline]
pub fn bind<T>(value: Tainted<T>) -> Bound<T> {
    // Any registered site of this module serves: nothing is checked here.
    Bound(rasp_core::__private_v1::take_at(value, &GENERIC))
}

impl<T> fmt::Debug for Bound<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same redaction as `Tainted`: the value is still untrusted text.
        f.write_str("Bound(<tainted>)")
    }
}

impl<'q, DB: Database, T: Encode<'q, DB>> Encode<'q, DB> for Bound<T> {
    #[inline]
    fn encode(self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        self.0.encode(buf)
    }

    #[inline]
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        self.0.encode_by_ref(buf)
    }

    #[inline]
    fn produces(&self) -> Option<DB::TypeInfo> {
        self.0.produces()
    }

    #[inline]
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
}

impl<DB: Database, T: Type<DB>> Type<DB> for Bound<T> {
    fn type_info() -> DB::TypeInfo {
        T::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        T::compatible(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_core::{RequestContext, SourceMeta};

    static SRC: SourceMeta = SourceMeta::MANUAL;

    #[test]
    fn every_entry_point_is_registered() {
        for id in [
            "sqlx.query",
            "sqlx.query.sqlite",
            "sqlx.query.postgres",
            "sqlx.query.mysql",
        ] {
            let site = rasp_core::registry::sink(id).expect(id);
            assert_eq!(site.class(), SinkClass::Sql);
            assert_eq!(site.guard(), Guard::RuntimeChecked);
            assert_eq!(site.guarded(), ["text"]);
        }
        assert_eq!(
            rasp_core::registry::sink("sqlx.query.mysql")
                .unwrap()
                .dialect(),
            Dialect::MySql
        );
    }

    #[test]
    fn text_passes_through_unchanged() {
        let q = sql(format!("SELECT {}", 1)).unwrap();
        assert_eq!(q.as_str(), "SELECT 1");
        assert_eq!(q.sink_id(), "sqlx.query");
        assert_eq!(q.clone().into_sql_str().as_str(), "SELECT 1");
        let shown = format!("{q:?}");
        assert!(
            shown.contains("SELECT 1") && shown.contains("sqlx.query"),
            "{shown}"
        );
    }

    #[test]
    fn literals_are_not_copied() {
        let literal: &'static str = "SELECT 1";
        let q = sql(literal).unwrap();
        assert!(core::ptr::eq(q.as_str(), literal));
    }

    #[test]
    fn dialect_selects_the_site() {
        for (dialect, id) in [
            (Dialect::Generic, "sqlx.query"),
            (Dialect::Sqlite, "sqlx.query.sqlite"),
            (Dialect::Postgres, "sqlx.query.postgres"),
            (Dialect::MySql, "sqlx.query.mysql"),
        ] {
            assert_eq!(
                sql_for(dialect, String::from("SELECT 1"))
                    .unwrap()
                    .sink_id(),
                id
            );
        }
    }

    #[test]
    fn benign_input_in_a_literal_passes() {
        let ctx = RequestContext::new();
        ctx.record_input(&SRC, b"O'Brien");
        ctx.record_input(&SRC, b"Ann -- the admin");
        ctx.scope(|| {
            let q = sql(String::from("SELECT * FROM t WHERE name = 'O''Brien'"));
            assert!(q.is_ok(), "{q:?}");
            let q = sql(String::from(
                "SELECT * FROM t WHERE note = 'Ann -- the admin'",
            ));
            assert!(q.is_ok(), "{q:?}");
        });
    }

    // Needs the SQL detector (rasp_core::detect::sql).
    #[test]
    fn breaking_out_of_a_literal_is_blocked() {
        let input = "x' OR '1'='1";
        let ctx = RequestContext::new();
        ctx.record_input(&SRC, input.as_bytes());
        let err = ctx
            .scope(|| sql(format!("SELECT * FROM t WHERE name = '{input}'")))
            .unwrap_err();
        assert_eq!(err.sink_id, "sqlx.query");
        assert_eq!(err.class, SinkClass::Sql);
    }
}
