//! Tokens and the single keyword table. (Owned by the syntax work.)
