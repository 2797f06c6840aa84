//! rmmhunt: hunt for abuse of remote monitoring and management tools.

pub mod azure;
pub mod cli;
pub mod config;
pub mod pipeline;
pub mod report;
pub mod rule;
pub mod sample;
pub mod serve;
pub mod sink;
pub mod source;
