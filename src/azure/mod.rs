//! The only code that knows Azure URLs and JSON shapes. Nothing here knows
//! rules or findings.

pub mod arm;
