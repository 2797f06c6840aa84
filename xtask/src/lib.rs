//! Project tasks run with `cargo xtask <task>` (alias in `.cargo/config.toml`).
//!
//! - `package`: build the Azure Functions zip ([`package::package`]) and
//!   report the glibc the binary needs ([`glibc::required_glibc`]).
//!
//! Does not depend on the `rmmhunt` crate: it packages the built binary and
//! the repository's files as they are.

pub mod glibc;
pub mod package;
pub mod zig;

use std::path::PathBuf;

/// The repository root (the workspace this crate sits in).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
