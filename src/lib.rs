//! rmmhunt: hunt for abuse of remote monitoring and management tools.

pub mod pipeline;
pub mod rule;
pub mod sample;
pub mod source;
