//! The attributes keep the fn's own attributes, doc comments, visibility
//! and qualifiers, and compose with each other and with other attribute
//! macros in either order.

use rasp::{Blocked, RequestContext, SqlSafe};

#[derive(Debug)]
struct Error;

impl From<Blocked> for Error {
    fn from(_: Blocked) -> Self {
        Error
    }
}

mod handlers {
    use super::*;

    /// Documented, public, inlined.
    #[rasp::protect(route = "/a")]
    #[inline]
    #[tracing::instrument(skip_all)]
    pub fn a() -> Result<usize, Error> {
        #![allow(unused_variables)]
        let unused = ();
        let n = RequestContext::current().map_or(0, |c| c.input_count());
        n.checked_add(1).ok_or(Error)
    }

    #[tracing::instrument(skip_all)]
    #[rasp::protect]
    pub(crate) fn b() -> Result<bool, Error> {
        Ok(RequestContext::current().is_some())
    }

    /// A protected sink: the context is open when the check runs.
    #[rasp::protect]
    #[rasp::sink(kind = "sql", guard(sql))]
    pub unsafe fn c(sql: impl SqlSafe) -> Result<(), Error> {
        let _ = sql;
        Ok(())
    }

    #[rasp::source(kind = "env")]
    #[must_use]
    pub(crate) fn d() -> u32 {
        7
    }
}

fn main() {
    assert_eq!(handlers::a().unwrap(), 1);
    assert!(handlers::b().unwrap());
    // SAFETY: `c` has no safety requirement; `unsafe` is re-emitted as written.
    unsafe { handlers::c("SELECT 1") }.unwrap();
    assert_eq!(handlers::d().inspect(|n| *n), 7);
}
