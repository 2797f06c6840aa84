//! Decoders for input tables (JSON Lines, JSON arrays, CSV). (Owned by the
//! input work.) The caller opens files; this module only reads bytes.
