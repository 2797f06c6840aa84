//! The hunt (DESIGN.md "One hunt, three entry points").

pub mod exclude;
