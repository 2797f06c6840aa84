//! Lexer: &str -> tokens. (Owned by the syntax work.)
