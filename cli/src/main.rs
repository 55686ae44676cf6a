//! `shmipc`: see and clean up the shared-memory segments of the `shmipc`
//! crate, in the manner of `ls` and `rm`.
//!
//! ```text
//! shmipc ls                 every segment: kind, type, size, creator, mappers
//! shmipc inspect NAME...    the header and the live state of each
//! shmipc rm NAME...         remove segments that no live process maps
//! shmipc gc [--dry-run] [--prefix P]
//!                           remove the segments of dead creators that no
//!                           live process maps (whose name starts with P)
//! shmipc bench [--quick]    this crate against its floors and peers, in
//!                           one table measured in one run (--json, --plot)
//! ```
//!
//! Exit status: 0 when every operation succeeded, 1 when one failed (each
//! failure is reported on stderr as `shmipc: cannot ...`), 2 for a usage
//! error.

use std::path::PathBuf;
use std::process::ExitCode;

mod bench;

use clap::{Parser, Subcommand};
use shmipc::segments::{self, Alive, SegmentInfo};

/// See and clean up shmipc's shared-memory segments in /dev/shm.
#[derive(Parser)]
#[command(name = "shmipc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every segment: kind, element type, size, creator (and whether it
    /// is alive) and the live processes that map it.
    #[command(alias = "list")]
    Ls,
    /// Show a segment's header and live state: holders, values, depths.
    Inspect {
        /// Segment names, as `create` and `open` take them.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove segments; one that a live process maps is kept.
    Rm {
        /// Segment names, as `create` and `open` take them.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove the segments whose creator is dead and that no live process
    /// maps.
    Gc {
        /// List what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only the segments whose name starts with this.
        #[arg(long, default_value = "")]
        prefix: String,
    },
    /// Measure this crate against the machine's floors, OS IPC, in-process
    /// peers and Python's multiprocessing, in one run, and print one table.
    Bench {
        /// Short blocks and few rounds: about a minute.
        #[arg(long)]
        quick: bool,
        /// Only the cases whose name contains this (case-insensitive).
        #[arg(long)]
        filter: Option<String>,
        /// Rounds of every case (default 20, or 5 with --quick).
        #[arg(long)]
        rounds: Option<usize>,
        /// Also write the rows as JSON to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Also draw the latency distributions, side by side, into this SVG
        /// file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
    /// The benchmark's second process (started by `bench`).
    #[command(hide = true)]
    BenchPeer {
        /// What `bench` passes: its pid, a cpu and five descriptors.
        spec: String,
    },
}

fn main() -> ExitCode {
    // The benchmark's pool workers are runs of this executable.
    shmipc::init();
    let cli = Cli::parse();
    let ok = match cli.command {
        Command::Ls => ls(),
        // Every name is tried, as `ls` and `rm` do, whatever failed before.
        Command::Inspect { names } => {
            names
                .iter()
                .enumerate()
                .filter(|&(i, n)| !inspect(n, i > 0))
                .count()
                == 0
        }
        Command::Rm { names } => names.iter().filter(|n| !rm(n)).count() == 0,
        Command::Gc { dry_run, prefix } => gc(&prefix, dry_run),
        Command::Bench {
            quick,
            filter,
            rounds,
            json,
            plot,
        } => bench::run(&bench::BenchArgs {
            quick,
            filter,
            rounds,
            json,
            plot,
        }),
        Command::BenchPeer { spec } => bench::peer(&spec),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn ls() -> bool {
    let all = match segments::list() {
        Ok(all) => all,
        Err(e) => return fail(format_args!("cannot list segments: {e}")),
    };
    let rows: Vec<[String; 6]> = all.iter().map(row).collect();
    let header = ["NAME", "KIND", "TYPE", "SIZE", "CREATOR", "MAPPED BY"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    true
}

fn row(s: &SegmentInfo) -> [String; 6] {
    let kind = match (s.kind, &s.problem) {
        (Some(k), None) => k.to_string(),
        (_, Some(p)) => format!("? ({p})"),
        (None, None) => "?".to_owned(),
    };
    [
        s.name.clone(),
        kind,
        if s.type_name.is_empty() {
            "-".to_owned()
        } else {
            s.type_name.clone()
        },
        s.size.to_string(),
        creator(s),
        pids(&s.mapped_by),
    ]
}

fn creator(s: &SegmentInfo) -> String {
    match (s.creator_pid, s.creator_alive) {
        (Some(pid), Some(Alive::Yes)) => format!("{pid} (alive)"),
        (Some(pid), Some(Alive::No)) => format!("{pid} (dead)"),
        (Some(pid), None) => pid.to_string(),
        (None, _) => "-".to_owned(),
    }
}

fn pids(pids: &[u32]) -> String {
    if pids.is_empty() {
        return "-".to_owned();
    }
    let text: Vec<String> = pids.iter().map(u32::to_string).collect();
    text.join(",")
}

/// Prints the segment `name` as a block of fields, after a blank line if
/// it is not the first.
fn inspect(name: &str, after_another: bool) -> bool {
    let seen = match segments::inspect(name) {
        Ok(seen) => seen,
        Err(e) => return fail(format_args!("cannot inspect '{name}': {e}")),
    };
    if after_another {
        println!();
    }
    let s = &seen.info;
    let [_, kind, type_name, size, creator, mapped] = row(s);
    let mut fields = vec![
        ("name", s.name.clone()),
        ("kind", kind),
        ("type", type_name),
        ("size", size),
        ("parameter", s.param.to_string()),
        ("creator", creator),
        ("mapped by", mapped),
    ];
    fields.extend(seen.state.iter().map(|(k, v)| (*k, v.clone())));
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in fields {
        println!("{k:<width$}  {v}");
    }
    true
}

fn rm(name: &str) -> bool {
    match segments::remove(name) {
        Ok(()) => true,
        Err(e) => fail(format_args!("cannot remove '{name}': {e}")),
    }
}

fn gc(prefix: &str, dry_run: bool) -> bool {
    let removed = match segments::collect_garbage(prefix, dry_run) {
        Ok(removed) => removed,
        Err(e) => return fail(format_args!("cannot collect garbage: {e}")),
    };
    let verb = if dry_run { "would remove" } else { "removed" };
    for s in &removed {
        let kind = s.kind.map_or("?".to_owned(), |k| k.to_string());
        println!("{verb} '{}' ({kind}, creator {})", s.name, creator(s));
    }
    true
}

/// Reports a failure the way `ls` and `rm` do, and says so.
fn fail(message: std::fmt::Arguments<'_>) -> bool {
    eprintln!("shmipc: {message}");
    false
}
