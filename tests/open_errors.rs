//! Every way an open can fail, each provoked in a real segment: bad names, bad
//! bytes, bad sizes, bad modes, another uid, an exhausted fd table.

mod common;

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::time::{Duration, Instant};

use common::{name, role, spawn, Cleanup};
use shmipc::{Array, Corruption, Error, Kind, Lock, Options, RawValue, Value};
use shmipc_core::header::{Header, HeaderError, STATE_READY};

fn path(label: &str) -> String {
    format!("/dev/shm/{}{}", shmipc::OS_PREFIX, name(label))
}

fn persist() -> Options {
    Options::new().persist(true)
}

fn quick() -> Options {
    Options::new().ready_timeout(Duration::from_millis(30))
}

fn overwrite(label: &str, offset: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path(label)).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn read_header(label: &str) -> Header {
    let bytes = std::fs::read(path(label)).unwrap();
    Header::decode(&bytes, bytes.len() as u64).unwrap()
}

/// Rewrites a header with a valid checksum and Ready state, so only the change
/// itself can be what the opener objects to.
fn rewrite_header(label: &str, edit: impl FnOnce(&mut Header)) {
    let mut h = read_header(label);
    edit(&mut h);
    let mut bytes = h.encode();
    bytes[8..12].copy_from_slice(&STATE_READY.to_ne_bytes());
    overwrite(label, 0, &bytes);
}

#[test]
fn names_are_checked_before_the_os_sees_them() {
    for bad in ["", "a/b", "../etc", "..", ".", "sp ace", "nul\0", "é"] {
        assert!(
            matches!(Lock::create(bad), Err(Error::InvalidName { .. })),
            "{bad:?} accepted"
        );
        assert!(matches!(Lock::open(bad), Err(Error::InvalidName { .. })));
        assert!(matches!(
            shmipc::unlink(bad),
            Err(Error::InvalidName { .. })
        ));
    }
    // A character outside the set is shown as itself.
    let e = Lock::create("caf\u{e9}").unwrap_err();
    assert!(e.to_string().contains("'\u{e9}'"), "{e}");
    let long = "x".repeat(201);
    let e = Lock::create(&long).unwrap_err();
    assert!(e.to_string().contains("at most 200"), "{e}");
    let _cleanup = Cleanup::new(&["y"]);
    let ok = format!("{}{}", name("y"), "y".repeat(200 - name("y").len()));
    assert_eq!(ok.len(), 200);
    let l = Lock::create(&ok).unwrap();
    drop(l);
}

#[test]
fn not_found_and_already_exists() {
    let _cleanup = Cleanup::new(&["exists"]);
    let e = Lock::open(&name("missing")).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }));
    // The usual cause is said.
    assert!(e.to_string().contains("Options::persist"), "{e}");
    assert!(matches!(
        shmipc::unlink(&name("missing")),
        Err(Error::NotFound { .. })
    ));
    let _l = Lock::create(&name("exists")).unwrap();
    let e = Lock::create(&name("exists")).unwrap_err();
    assert!(matches!(e, Error::AlreadyExists { .. }), "{e}");
    assert!(matches!(
        Value::create(&name("exists"), 1u8),
        Err(Error::AlreadyExists { .. })
    ));
}

#[test]
fn a_foreign_file_is_not_shmipc() {
    let _cleanup = Cleanup::new(&["foreign"]);
    std::fs::write(path("foreign"), [0xabu8; 128]).unwrap();
    match Lock::open(&name("foreign")) {
        Err(Error::NotShmipc { found, .. }) => assert_eq!(found, [0xab; 6]),
        other => panic!("expected NotShmipc, got {other:?}"),
    }
}

#[test]
fn another_layout_version_is_refused() {
    let _cleanup = Cleanup::new(&["version"]);
    drop(Lock::create_with(&name("version"), &persist()).unwrap());
    overwrite("version", 6, &99u16.to_ne_bytes());
    match Lock::open(&name("version")) {
        Err(Error::VersionMismatch {
            expected, found, ..
        }) => assert_eq!((expected, found), (shmipc_core::header::LAYOUT_VERSION, 99)),
        other => panic!("expected VersionMismatch, got {other:?}"),
    }
}

#[test]
fn a_flipped_header_byte_is_corrupt() {
    let _cleanup = Cleanup::new(&["flip"]);
    drop(Value::<u32>::create_with(&name("flip"), 5u32, Default::default(), &persist()).unwrap());
    overwrite("flip", 41, &[0x7f]);
    let e = Value::<u32>::open(&name("flip")).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("checksum"), "{e}");
}

#[test]
fn an_inconsistent_but_checksummed_layout_is_corrupt() {
    let _cleanup = Cleanup::new(&["layout-len", "layout-flags", "layout-value"]);
    drop(
        Array::<u64>::create_with(&name("layout-len"), 10, Default::default(), &persist()).unwrap(),
    );
    rewrite_header("layout-len", |h| h.param = 11);
    let e = Array::<u64>::open(&name("layout-len")).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Corrupt {
                detail: Corruption::Size { .. },
                ..
            }
        ),
        "{e}"
    );

    drop(
        Array::<u64>::create_with(&name("layout-flags"), 10, Default::default(), &persist())
            .unwrap(),
    );
    rewrite_header("layout-flags", |h| h.flags = 9);
    let e = Array::<u64>::open(&name("layout-flags")).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Corrupt {
                detail: Corruption::Flags { .. },
                ..
            }
        ),
        "{e}"
    );

    drop(
        Value::<u8>::create_with(&name("layout-value"), 1u8, Default::default(), &persist())
            .unwrap(),
    );
    rewrite_header("layout-value", |h| h.param = 2);
    let e = Value::<u8>::open(&name("layout-value")).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Corrupt {
                detail: Corruption::Parameter { found: 2, .. },
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn wrong_kind_and_unknown_kind() {
    let _cleanup = Cleanup::new(&["kind", "kind-unknown"]);
    let _l = Lock::create(&name("kind")).unwrap();
    match Value::<u64>::open(&name("kind")) {
        Err(Error::KindMismatch {
            expected, found, ..
        }) => {
            assert_eq!(expected, Kind::Value);
            assert_eq!(Kind::from_code(found), Some(Kind::Lock));
        }
        other => panic!("expected KindMismatch, got {other:?}"),
    }
    drop(Lock::create_with(&name("kind-unknown"), &persist()).unwrap());
    rewrite_header("kind-unknown", |h| h.kind = 77);
    let e = Lock::open(&name("kind-unknown")).unwrap_err();
    assert!(matches!(e, Error::KindMismatch { found: 77, .. }), "{e}");
    assert!(e.to_string().contains("unknown kind code 77"), "{e}");
}

#[test]
fn wrong_payload_type() {
    let _cleanup = Cleanup::new(&["typed"]);
    let _v = Value::create(&name("typed"), 1u64).unwrap();
    match Value::<i64>::open(&name("typed")) {
        Err(e @ Error::TypeMismatch { .. }) => {
            let Error::TypeMismatch {
                expected_type,
                expected,
                found_type,
                found,
                ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*expected_type, "i64");
            // The creator's type is named, not only hashed.
            assert_eq!(found_type, "u64");
            assert_eq!((expected.size, found.size), (8, 8));
            assert_ne!(expected.name_hash, found.name_hash);
            assert!(e.to_string().contains("expected i64"), "{e}");
            assert!(e.to_string().contains("found u64"), "{e}");
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    assert!(matches!(
        Value::<u32>::open(&name("typed")),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        RawValue::<u64>::open(&name("typed")),
        Err(Error::KindMismatch { .. })
    ));
}

#[test]
fn short_files_are_truncated() {
    let _cleanup = Cleanup::new(&["tiny", "shrunk"]);
    std::fs::write(path("tiny"), [0u8; 10]).unwrap();
    match Lock::open(&name("tiny")) {
        Err(Error::Truncated {
            expected, found, ..
        }) => assert_eq!((expected, found), (64, 10)),
        other => panic!("expected Truncated, got {other:?}"),
    }
    drop(Array::<u64>::create_with(&name("shrunk"), 100, Default::default(), &persist()).unwrap());
    let full = std::fs::metadata(path("shrunk")).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(path("shrunk"))
        .unwrap()
        .set_len(full - 8)
        .unwrap();
    match Array::<u64>::open(&name("shrunk")) {
        Err(Error::Truncated {
            expected, found, ..
        }) => assert_eq!((expected, found), (full, full - 8)),
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[test]
fn a_segment_whose_creator_never_finished_is_not_ready_in_time() {
    let _cleanup = Cleanup::new(&["half-mode", "half-state"]);
    // A creator that died between shm_open and chmod leaves mode 0200.
    std::fs::write(path("half-mode"), [0u8; 128]).unwrap();
    std::fs::set_permissions(path("half-mode"), std::fs::Permissions::from_mode(0o200)).unwrap();
    let started = Instant::now();
    match Lock::open_with(&name("half-mode"), &quick()) {
        Err(Error::NotReady { waited, .. }) => assert!(waited >= Duration::from_millis(30)),
        other => panic!("expected NotReady, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[test]
fn a_finished_segment_whose_state_is_not_ready_is_corrupt_at_once() {
    let _cleanup = Cleanup::new(&["half-state"]);
    // The file has its final mode, so no creator is at work on it: waiting
    // for Ready would only delay the error.
    drop(Lock::create_with(&name("half-state"), &persist()).unwrap());
    overwrite("half-state", 8, &0u32.to_ne_bytes());
    let opts = Options::new().ready_timeout(Duration::from_secs(30));
    let started = Instant::now();
    match Lock::open_with(&name("half-state"), &opts) {
        Err(Error::Corrupt {
            detail: Corruption::Header(HeaderError::BadField { field, found }),
            ..
        }) => assert_eq!((field, found), ("state", 0)),
        other => panic!("expected a corrupt state, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn garbage_never_panics_or_hangs() {
    let _cleanup = Cleanup::new(&["garbage"]);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let good = {
        let v = Value::<u64>::create_with(&name("garbage"), 7u64, Default::default(), &persist())
            .unwrap();
        drop(v);
        std::fs::read(path("garbage")).unwrap()
    };
    let (mut opened, mut refused) = (0, 0);
    for round in 0..300 {
        let mut bytes = good.clone();
        let len = match round % 3 {
            0 => (next() % 300) as usize,
            _ => bytes.len(),
        };
        bytes.resize(len, 0);
        for _ in 0..(1 + next() % 4) {
            if !bytes.is_empty() {
                let at = (next() as usize)
                    % bytes
                        .len()
                        .min(if round % 2 == 0 { 64 } else { usize::MAX });
                bytes[at] = next() as u8;
            }
        }
        std::fs::write(path("garbage"), &bytes).unwrap();
        let started = Instant::now();
        // Whatever the bytes, each open either succeeds (the garbage missed
        // every checked byte) and the object works, or is refused with an
        // error that says what is wrong with the segment: never a panic, a
        // hang, or an OS error.
        match Value::<u64>::open_with(&name("garbage"), &quick()) {
            Ok(v) => {
                opened += 1;
                drop(v.try_lock());
            }
            Err(e) => {
                assert!(refusal(&e), "round {round}: {e}");
                refused += 1;
            }
        }
        for e in [
            Lock::open_with(&name("garbage"), &quick()).err(),
            Array::<u8>::open_with(&name("garbage"), &quick()).err(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(refusal(&e), "round {round}: {e}");
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    // Both outcomes happened: the rounds reached past the checks and into them.
    assert!(refused >= 100, "only {refused} of 300 rounds were refused");
    assert!(opened >= 1, "no round left the segment openable");
}

/// Whether `e` is a refusal of the segment's contents (not a failure of the
/// machinery).
fn refusal(e: &Error) -> bool {
    matches!(
        e,
        Error::NotShmipc { .. }
            | Error::VersionMismatch { .. }
            | Error::KindMismatch { .. }
            | Error::TypeMismatch { .. }
            | Error::Truncated { .. }
            | Error::Corrupt { .. }
            | Error::NotReady { .. }
    )
}

#[test]
fn another_uid_is_refused_a_0600_segment_but_not_a_0666_one() {
    if role().as_deref() == Some("nobody") {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(unsafe { libc::geteuid() }, 65534);
        match Lock::open(&name("private")) {
            Err(Error::PermissionDenied { name: n }) => assert_eq!(n, name("private")),
            other => panic!("expected PermissionDenied, got {other:?}"),
        }
        let shared = Lock::open(&name("public")).unwrap();
        drop(shared.acquire().unwrap());
        return;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: switching to uid 65534 needs root");
        return;
    }
    let _cleanup = Cleanup::new(&["private", "public"]);
    let _private = Lock::create(&name("private")).unwrap();
    let _public = Lock::create_with(&name("public"), &Options::new().mode(0o666)).unwrap();
    let meta = std::fs::metadata(path("private")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // The test binary may sit where uid 65534 cannot reach; run a copy from a
    // world-readable directory.
    let dir = std::env::temp_dir().join(format!("shmipc-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.join("test-bin");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = common::command_for(
        &exe,
        "another_uid_is_refused_a_0600_segment_but_not_a_0666_one",
        "nobody",
        &[],
    );
    std::os::unix::process::CommandExt::uid(&mut cmd, 65534);
    std::os::unix::process::CommandExt::gid(&mut cmd, 65534);
    let status = common::Proc::start(cmd).wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "child as uid 65534 failed: {status}");
}

#[test]
fn an_os_failure_carries_its_errno() {
    if role().as_deref() == Some("no-fds") {
        let limit = libc::rlimit {
            rlim_cur: 3,
            rlim_max: 3,
        };
        // SAFETY: lowers this child's own descriptor limit; fds 0-2 stay open.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
        let e = Lock::open(&name("fds")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
        assert!(matches!(e, Error::Os { op: "shm_open", .. }), "{e}");
        return;
    }
    let _cleanup = Cleanup::new(&["fds"]);
    let _l = Lock::create(&name("fds")).unwrap();
    let mut cmd = common::command("an_os_failure_carries_its_errno", "no-fds", &[]);
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    assert!(cmd.status().unwrap().success());
}

#[test]
fn creator_drop_unlinks_unless_persisted() {
    let _cleanup = Cleanup::new(&["transient", "kept"]);
    let l = Lock::create(&name("transient")).unwrap();
    let opened = Lock::open(&name("transient")).unwrap();
    drop(l);
    assert!(matches!(
        Lock::open(&name("transient")),
        Err(Error::NotFound { .. })
    ));
    // An open handle keeps working after the name is gone, as POSIX promises.
    drop(opened.acquire().unwrap());
    drop(Lock::create_with(&name("kept"), &persist()).unwrap());
    assert!(Lock::open(&name("kept")).is_ok());
    shmipc::unlink(&name("kept")).unwrap();
    assert!(matches!(
        Lock::open(&name("kept")),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn bad_modes_are_refused_before_creation() {
    for mode in [0o400, 0o200, 0o1600, 0o7777] {
        let e = Lock::create_with(&name("mode"), &Options::new().mode(mode)).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{mode:o}: {e}");
    }
    assert!(matches!(
        Lock::open(&name("mode")),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_leftover_of_a_dead_creator_is_listed_and_can_be_replaced_but_not_while_mapped() {
    if role().as_deref() == Some("exits") {
        let lock = Lock::create(&name("leftover")).unwrap();
        // Exits without dropping the creating handle: the name stays.
        std::mem::forget(lock);
        std::process::exit(0);
    }
    let _cleanup = Cleanup::new(&["leftover"]);
    let kid = spawn(
        "a_leftover_of_a_dead_creator_is_listed_and_can_be_replaced_but_not_while_mapped",
        "exits",
        &[],
    );
    let kid_pid = kid.pid();
    assert!(kid.wait().success());
    let listed = |n: &str| {
        shmipc::leftovers()
            .unwrap()
            .into_iter()
            .find(|l| l.name == n)
    };
    let left = listed(&name("leftover")).expect("the leftover is listed");
    assert_eq!(left.creator_pid, kid_pid);
    assert!(matches!(
        Lock::create(&name("leftover")),
        Err(Error::AlreadyExists { .. })
    ));
    let replace = Options::new().replace_stale(true);
    // While a live process maps it, it is in use: never replaced.
    let user = Lock::open(&name("leftover")).unwrap();
    assert!(listed(&name("leftover")).is_none());
    assert!(matches!(
        Lock::create_with(&name("leftover"), &replace),
        Err(Error::AlreadyExists { .. })
    ));
    drop(user);
    let fresh = Lock::create_with(&name("leftover"), &replace).unwrap();
    assert!(listed(&name("leftover")).is_none());
    drop(fresh.acquire().unwrap());
}
