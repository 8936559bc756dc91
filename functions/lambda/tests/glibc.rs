//! The bootstrap must run on Amazon Linux 2023 (provided.al2023): it may need no glibc symbol
//! version newer than 2.34. A new dependency can raise it; this test says so before a deploy does.

use mgrid_artifact::{GLIBC_FLOOR, elf};

#[test]
fn the_bootstrap_needs_no_glibc_newer_than_amazon_linux_2023s() {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_bootstrap")).expect("the bootstrap is built");
    let needs = elf::version_needs(&bytes).expect("the bootstrap is an ELF executable");
    let newest = elf::newest_glibc(&needs).expect("the bootstrap links glibc");
    let too_new: Vec<&(String, String)> = needs
        .iter()
        .filter(|(_, v)| {
            elf::newest_glibc(&[(String::new(), v.clone())]).is_some_and(|g| g > GLIBC_FLOOR)
        })
        .collect();
    assert!(
        newest <= GLIBC_FLOOR,
        "the bootstrap needs GLIBC_{}.{} (from {too_new:?}); Amazon Linux 2023 has GLIBC_2.34",
        newest.0,
        newest.1
    );
}
