//! `#[rasp::sink]`: registers the sink and guards its parameters.
//!
//! ```text
//! #[rasp::sink(kind = "sql", guard(q))]       fn run(q: impl SqlSafe) -> Result<u64, E> {
//! fn run(q: impl SqlSafe)              ==>        static __RASP_SINK: ::rasp::__private_v1::SinkSite = ::rasp::__private_v1::SinkSite::new(
            #id,
            ::rasp::__private_v1::SinkClass::#kind,
            #fn_path,
            ::core::file!(),
            #line,
            &[#(#names),*],
            ::rasp::__private_v1::Guard::Typed,
        )
        .with_dialect(::rasp::__private_v1::Dialect::#dialect);
        ::rasp::__private_v1::inventory::submit! {
            ::rasp::__private_v1::SinkRegistration(&__RASP_SINK)
        }
        #check
        #block
    };
    Ok(func.emit(&func.sig, body))
}
