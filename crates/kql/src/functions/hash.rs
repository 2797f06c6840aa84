//! Text hashes: `hash_sha256`, `hash_sha1`, `hash_md5` over the UTF-8
//! text, as lowercase hex. The digests come from the RustCrypto crates
//! (`sha2`, `sha1`, `md-5`); the tests pin published vectors.

use super::arg;
use super::ops::{str_of, to_string};
use crate::value::Value;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

type R = Result<Value, String>;

fn st(s: String) -> R {
    Ok(Value::string(s))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_text(a: &[Value]) -> String {
    match arg(a, 0) {
        Value::Dynamic(_) => to_string(arg(a, 0)),
        other => str_of(other).into_owned(),
    }
}

pub fn hash_sha256(a: &[Value]) -> R {
    st(hex(&Sha256::digest(hash_text(a).as_bytes())))
}
pub fn hash_sha1(a: &[Value]) -> R {
    st(hex(&Sha1::digest(hash_text(a).as_bytes())))
}
pub fn hash_md5(a: &[Value]) -> R {
    st(hex(&Md5::digest(hash_text(a).as_bytes())))
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::{check, s};

    #[test]
    fn hash_vectors() {
        let fox = "The quick brown fox jumps over the lazy dog".repeat(3);
        check(&[
            (
                "hash_sha256",
                vec![s("abc")],
                s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ),
            (
                "hash_sha1",
                vec![s("abc")],
                s("a9993e364706816aba3e25717850c26c9cd0d89d"),
            ),
            (
                "hash_md5",
                vec![s("abc")],
                s("900150983cd24fb0d6963f7d28e17f72"),
            ),
            (
                "hash_sha256",
                vec![s("World")],
                s("78ae647dc5544d227130a0682a51e30bc7777fbb6d8a8f17007463a3ecd1d524"),
            ),
            (
                "hash_md5",
                vec![s("World")],
                s("f5a7924e621e84c9280a9a27e1bcb7f6"),
            ),
            (
                "hash_sha256",
                vec![s(&fox)],
                s("5cfa2bf023f22ac82b00cd883ea96852677ff2ecd777f656146bd22004eb75f2"),
            ),
            (
                "hash_md5",
                vec![s(&fox)],
                s("4e67db4a7a406b0cfdadd887cde7888e"),
            ),
            (
                "hash_sha1",
                vec![s(&fox)],
                s("d42f858ad812fd986fd8dc7216af5f88bcaa1463"),
            ),
            (
                "hash_md5",
                vec![s("")],
                s("d41d8cd98f00b204e9800998ecf8427e"),
            ),
        ]);
    }
}
