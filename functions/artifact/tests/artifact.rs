//! The zip is deterministic and well-formed, and the version reader sees what the bootstrap
//! really needs from glibc.

use std::process::Command;

use mgrid_artifact::{GLIBC_FLOOR, elf, zip};

#[test]
fn the_same_binary_always_zips_to_the_same_bytes() {
    let contents: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let first = zip::zip_executable("bootstrap", &contents).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(zip::zip_executable("bootstrap", &contents).unwrap(), first);
    assert!(first.len() < contents.len());
}

#[test]
fn the_zip_unpacks_to_an_executable_bootstrap_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let contents = b"#!/bin/sh\necho ready\n".repeat(100);
    let path = dir.path().join("a.zip");
    std::fs::write(&path, zip::zip_executable("bootstrap", &contents).unwrap()).unwrap();
    let check = "import sys, zipfile\n\
                 z = zipfile.ZipFile(sys.argv[1])\n\
                 assert z.testzip() is None\n\
                 [info] = z.infolist()\n\
                 sys.stdout.write('%s %o %d\\n' % (info.filename, info.external_attr >> 16, info.date_time[0]))\n\
                 sys.stdout.buffer.write(z.read('bootstrap'))";
    let output = Command::new("python3")
        .args(["-c", check])
        .arg(&path)
        .output()
        .expect("python3 reads zips");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (header, body) = output
        .stdout
        .split_at(output.stdout.iter().position(|&b| b == b'\n').unwrap() + 1);
    assert_eq!(
        std::str::from_utf8(header).unwrap(),
        "bootstrap 100755 1980\n"
    );
    assert_eq!(body, contents);
}

#[test]
fn the_version_reader_finds_glibc_needs_in_a_real_executable() {
    let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let needs = elf::version_needs(&bytes).unwrap();
    assert!(
        needs
            .iter()
            .any(|(file, version)| file.starts_with("libc.so") && version.starts_with("GLIBC_2.")),
        "{needs:?}"
    );
    assert!(elf::newest_glibc(&needs).unwrap() >= (2, 2));
    assert!(elf::version_needs(b"#!/bin/sh\n").is_err());
    assert_eq!(
        elf::newest_glibc(&[("libc.so.6".into(), "GLIBC_2.35".into())]),
        Some((2, 35))
    );
    assert!(elf::newest_glibc(&[("libc.so.6".into(), "GLIBC_2.35".into())]).unwrap() > GLIBC_FLOOR);
}

#[test]
fn a_bootstrap_is_read_back_from_our_zips_and_from_zips_made_by_other_tools() {
    let contents = b"\x7fELF and the rest of an executable".repeat(50);
    let ours = zip::zip_executable("bootstrap", &contents).unwrap();
    assert_eq!(zip::read_entry(&ours, "bootstrap").unwrap(), contents);
    assert_eq!(
        zip::read_entry(&ours, "handler"),
        Err(zip::Unreadable::Missing("handler".into()))
    );
    assert_eq!(
        zip::read_entry(b"#!/bin/sh\n", "bootstrap"),
        Err(zip::Unreadable::NotZip)
    );
    // Python's zipfile: a README first, the bootstrap stored (uncompressed) after it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.zip");
    let make = "import sys, zipfile\n\
                z = zipfile.ZipFile(sys.argv[1], 'w')\n\
                z.writestr('README', 'not this one', compress_type=zipfile.ZIP_DEFLATED)\n\
                z.writestr('bootstrap', sys.argv[2], compress_type=zipfile.ZIP_STORED)\n\
                z.close()";
    let status = Command::new("python3")
        .args(["-c", make])
        .arg(&path)
        .arg("stored bootstrap")
        .status()
        .expect("python3 writes zips");
    assert!(status.success());
    let other = std::fs::read(&path).unwrap();
    assert_eq!(
        zip::read_entry(&other, "bootstrap").unwrap(),
        b"stored bootstrap"
    );
    assert_eq!(zip::read_entry(&other, "README").unwrap(), b"not this one");
}

#[test]
fn the_machine_of_an_executable_names_its_lambda_architecture() {
    let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let machine = elf::machine(&bytes).unwrap();
    let expected = if cfg!(target_arch = "x86_64") {
        mgrid_artifact::Arch::X86_64
    } else {
        mgrid_artifact::Arch::Arm64
    };
    assert_eq!(
        mgrid_artifact::Arch::from_elf_machine(machine),
        Some(expected)
    );
    assert!(elf::machine(b"#!/bin/sh\n").is_err());
}
