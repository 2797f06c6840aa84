//! rmmhunt: hunt for abuse of remote monitoring and management tools.

pub mod rule;
