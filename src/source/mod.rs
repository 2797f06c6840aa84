//! Where hunt rows come from. `files`: the local source's input files
//! (JSON Lines, JSON, CSV) exposed to the KQL engine as a catalog.

pub mod files;
