//! The `local` source: the embedded KQL engine over a [`kql::Catalog`]
//! (the CLI passes the file catalog of `--data`; tests pass a
//! [`kql::MemoryCatalog`]). No network; the only I/O is whatever the catalog
//! does when scanned.

use super::{Source, SourceError, TimeWindow};
use kql::{Catalog, EvalContext, Limits};

/// Runs queries with the embedded engine.
pub struct LocalSource {
    catalog: Box<dyn Catalog + Send>,
    limits: Limits,
}

impl LocalSource {
    pub fn new(catalog: impl Catalog + Send + 'static) -> LocalSource {
        LocalSource {
            catalog: Box::new(catalog),
            limits: Limits::default(),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> LocalSource {
        self.limits = limits;
        self
    }

    /// The catalog queries run over.
    pub fn catalog(&self) -> &dyn Catalog {
        self.catalog.as_ref()
    }
}

impl Source for LocalSource {
    fn name(&self) -> &str {
        "local"
    }

    fn query(&self, text: &str, window: TimeWindow) -> Result<kql::Table, SourceError> {
        let ctx = EvalContext {
            now: window.end,
            limits: self.limits.clone(),
        };
        kql::query(text, self.catalog.as_ref(), &ctx).map_err(|e| match e {
            kql::Error::Parse(d) | kql::Error::Plan(d) => SourceError::Query {
                origin: "local".into(),
                diagnostics: d,
            },
            kql::Error::Eval(ev) => SourceError::Eval {
                origin: "local".into(),
                message: ev.message.clone(),
                diagnostics: kql::Diagnostics(vec![ev.to_diagnostic()]),
            },
        })
    }
}
