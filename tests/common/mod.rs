//! Test harness: real child processes (re-executions of the test binary) and
//! segment names scoped to the parent test process, removed even on failure.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const ROLE: &str = "SHMIPC_TEST_ROLE";
const PARENT: &str = "SHMIPC_TEST_PARENT";

/// The role this process plays, if it is a child started by [`spawn`].
pub fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// The pid that scopes this test's names: the parent's, in parent and children alike.
pub fn scope_pid() -> u32 {
    std::env::var(PARENT)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(std::process::id)
}

/// A segment name unique to this test run and `label`.
pub fn name(label: &str) -> String {
    format!("t{}-{label}", scope_pid())
}

/// Removes the named segments when dropped, whether the test passed or panicked.
pub struct Cleanup(Vec<String>);

impl Cleanup {
    pub fn new(labels: &[&str]) -> Cleanup {
        Cleanup(labels.iter().map(|l| name(l)).collect())
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = shmipc::unlink(n);
        }
    }
}

/// A child process running `test` (this binary's test of that name) in `role`.
/// Killed and reaped on drop if the test ends before it does.
pub struct Proc {
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
    stdin: Option<ChildStdin>,
}

pub fn command(test: &str, role: &str, args: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    command_for(&exe, test, role, args)
}

pub fn command_for(exe: &std::path::Path, test: &str, role: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args([
        test,
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ])
    .env(ROLE, role)
    .env(PARENT, scope_pid().to_string())
    .env("SHMIPC_TEST_ARGS", args.join(" "))
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    cmd
}

/// The arguments given to this child.
pub fn args() -> Vec<String> {
    std::env::var("SHMIPC_TEST_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

pub fn spawn(test: &str, role: &str, args: &[&str]) -> Proc {
    Proc::start(command(test, role, args))
}

impl Proc {
    pub fn start(mut cmd: Command) -> Proc {
        let mut child = cmd.spawn().expect("spawn child");
        let stdout = child.stdout.take().map(BufReader::new);
        let stdin = child.stdin.take();
        Proc {
            child: Some(child),
            stdout,
            stdin,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Reads lines from the child until one starts with `prefix`; returns the rest.
    /// libtest prints its own lines too, which are skipped.
    pub fn expect_line(&mut self, prefix: &str) -> String {
        let out = self.stdout.as_mut().expect("stdout");
        let mut line = String::new();
        loop {
            line.clear();
            let n = out.read_line(&mut line).expect("read child stdout");
            assert!(n > 0, "child exited before printing {prefix:?}");
            if let Some(rest) = line.trim_end().strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write child stdin");
        stdin.flush().expect("flush child stdin");
    }

    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin")
    }

    /// Waits for the child to exit and returns its status.
    pub fn wait(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let mut child = self.child.take().expect("child");
        // Drain stdout so a chatty child never blocks on a full pipe.
        if let Some(mut out) = self.stdout.take() {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        }
        child.wait().expect("wait child")
    }

    /// Waits for the child and asserts it succeeded.
    pub fn assert_success(self) {
        let status = self.wait();
        assert!(status.success(), "child failed: {status}");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for one line on stdin (the parent's go-ahead).
pub fn wait_for_parent() -> String {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("read stdin");
    line.trim().to_owned()
}

/// Prints a line the parent looks for with [`Proc::expect_line`].
pub fn tell_parent(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("write stdout");
    out.flush().expect("flush stdout");
}
