//! A hand-made ELF64 stand-in for the rmmhunt binary: a header and four
//! sections (null, `.dynstr`, `.gnu.version_r`, `.shstrtab`), enough for the
//! glibc reader, small enough to package in a debug-built test.

#![allow(dead_code)]

pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

const SHT_STRTAB: u32 = 3;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

fn pad8(v: &mut Vec<u8>) {
    while v.len() % 8 != 0 {
        v.push(0);
    }
}

/// `needs`: (library file, its version names), e.g. ("libc.so.6", &["GLIBC_2.34"]).
pub fn elf(machine: u16, needs: &[(&str, &[&str])]) -> Vec<u8> {
    // .dynstr
    let mut dynstr = vec![0u8];
    let mut add_str = |s: &str| {
        let at = dynstr.len() as u32;
        dynstr.extend_from_slice(s.as_bytes());
        dynstr.push(0);
        at
    };
    // .gnu.version_r: Verneed (16 bytes) followed by its Vernaux entries (16 each).
    let mut verneed = Vec::new();
    for (i, (file, versions)) in needs.iter().enumerate() {
        let file_at = add_str(file);
        let last = i + 1 == needs.len();
        let size = 16 + 16 * versions.len() as u32;
        verneed.extend_from_slice(&1u16.to_le_bytes()); // vn_version
        verneed.extend_from_slice(&(versions.len() as u16).to_le_bytes()); // vn_cnt
        verneed.extend_from_slice(&file_at.to_le_bytes()); // vn_file
        verneed.extend_from_slice(&16u32.to_le_bytes()); // vn_aux
        verneed.extend_from_slice(&(if last { 0 } else { size }).to_le_bytes()); // vn_next
        for (j, v) in versions.iter().enumerate() {
            let name_at = add_str(v);
            let last_aux = j + 1 == versions.len();
            verneed.extend_from_slice(&0x0d69_6914u32.to_le_bytes()); // vna_hash (unchecked)
            verneed.extend_from_slice(&0u16.to_le_bytes()); // vna_flags
            verneed.extend_from_slice(&(2 + j as u16).to_le_bytes()); // vna_other
            verneed.extend_from_slice(&name_at.to_le_bytes()); // vna_name
            verneed.extend_from_slice(&(if last_aux { 0u32 } else { 16 }).to_le_bytes());
        }
    }
    let shstrtab = b"\0.dynstr\0.gnu.version_r\0.shstrtab\0".to_vec();

    let mut out = vec![0u8; 64];
    let dynstr_off = out.len() as u64;
    out.extend_from_slice(&dynstr);
    pad8(&mut out);
    let verneed_off = out.len() as u64;
    out.extend_from_slice(&verneed);
    pad8(&mut out);
    let shstr_off = out.len() as u64;
    out.extend_from_slice(&shstrtab);
    pad8(&mut out);
    let shoff = out.len() as u64;

    let section =
        |out: &mut Vec<u8>, name: u32, ty: u32, off: u64, size: u64, link: u32, info: u32| {
            out.extend_from_slice(&name.to_le_bytes());
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes()); // flags
            out.extend_from_slice(&0u64.to_le_bytes()); // addr
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&link.to_le_bytes());
            out.extend_from_slice(&info.to_le_bytes());
            out.extend_from_slice(&8u64.to_le_bytes()); // addralign
            out.extend_from_slice(&0u64.to_le_bytes()); // entsize
        };
    section(&mut out, 0, 0, 0, 0, 0, 0);
    section(
        &mut out,
        1,
        SHT_STRTAB,
        dynstr_off,
        dynstr.len() as u64,
        0,
        0,
    );
    section(
        &mut out,
        9,
        SHT_GNU_VERNEED,
        verneed_off,
        verneed.len() as u64,
        1,
        needs.len() as u32,
    );
    section(
        &mut out,
        24,
        SHT_STRTAB,
        shstr_off,
        shstrtab.len() as u64,
        0,
        0,
    );

    let header = &mut out[..64];
    header[..4].copy_from_slice(b"\x7fELF");
    header[4] = 2; // ELFCLASS64
    header[5] = 1; // little endian
    header[6] = 1; // EV_CURRENT
    header[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    header[18..20].copy_from_slice(&machine.to_le_bytes());
    header[20..24].copy_from_slice(&1u32.to_le_bytes());
    header[40..48].copy_from_slice(&shoff.to_le_bytes());
    header[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    header[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    header[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    header[60..62].copy_from_slice(&4u16.to_le_bytes()); // e_shnum
    header[62..64].copy_from_slice(&3u16.to_le_bytes()); // e_shstrndx
    out
}

/// A stand-in linked like a Rust binary built on Debian 12 (needs glibc 2.34).
pub fn standin_binary() -> Vec<u8> {
    elf(
        EM_X86_64,
        &[
            ("libgcc_s.so.1", &["GCC_3.0", "GCC_4.2.0"]),
            (
                "libc.so.6",
                &["GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_2.18", "GLIBC_PRIVATE"],
            ),
        ],
    )
}
