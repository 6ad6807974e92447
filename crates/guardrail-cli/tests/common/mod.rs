//! The one harness of the CLI's end-to-end tests: run the real `guardrail` binary, check
//! its exit code, give each test a scratch folder, share generated worlds, and set up
//! snapshot tests.
//!
//! Every test file includes it with `mod common;`. It runs the binary cargo built for
//! this test run (`CARGO_BIN_EXE_guardrail`), never one from `PATH`; it writes only under
//! `CARGO_TARGET_TMPDIR`, never into the repository or `../shared`, and it never reads a
//! world's `truth/` (tests that need ground truth go through the CLI, as a user would).
//!
//! A failed expectation panics with the command line, the folder it ran in, its exit
//! status and both output streams, so a red test says what was run and what it said.

// Each test file uses a different part of the harness; unused parts are not mistakes.
#![allow(dead_code)]

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_guardrail");

/// Root of everything the tests write: cargo's scratch folder for integration tests.
fn tmp_root() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

/// The reference images and vectors, read in place (never copied into the repository).
pub fn pdq_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pdq")
}

/// A path as the `&str` the command line takes.
pub fn utf8(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("test path {} is not UTF-8", path.display()))
}

/// `guardrail ARGS...`: a command to add to and run.
pub fn guardrail(args: &[&str]) -> TestCommand {
    TestCommand {
        args: args.iter().map(OsString::from).collect(),
        stdin: None,
        envs: Vec::new(),
        dir: None,
    }
}

/// One run of the binary to be: arguments, standard input, environment and folder.
#[derive(Debug, Clone)]
pub struct TestCommand {
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    envs: Vec<(OsString, OsString)>,
    dir: Option<PathBuf>,
}

impl TestCommand {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Feeds these bytes on standard input (otherwise standard input is empty).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Sets an environment variable for this run.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs in this folder, so relative paths in arguments and output stay short.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The command line as a person would type it: `guardrail text check --json`.
    pub fn command_line(&self) -> String {
        let mut line = String::from("guardrail");
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_word(&arg.to_string_lossy()));
        }
        line
    }

    /// Runs to completion and returns what happened, whatever the exit code.
    pub fn run(&self) -> Run {
        let mut command = Command::new(BINARY);
        command
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Output must not depend on the terminal of whoever runs the tests.
        for key in ["COLUMNS", "CLICOLOR_FORCE", "FORCE_COLOR", "RUST_BACKTRACE"] {
            command.env_remove(key);
        }
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {BINARY}: {error}"));
        let stdin = child.stdin.take().expect("stdin is piped");
        let input = self.stdin.clone().unwrap_or_default();
        // Written from a thread so a command that prints much before reading cannot
        // deadlock against us; one that exits early may close stdin, which is fine.
        let writer = std::thread::spawn(move || {
            let mut stdin = stdin;
            let _ = stdin.write_all(&input);
        });
        let output = child
            .wait_with_output()
            .unwrap_or_else(|error| panic!("{}: cannot wait: {error}", self.describe()));
        writer.join().expect("the stdin writer does not panic");
        Run {
            command: self.describe(),
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        }
    }

    /// Runs and expects exit code 0.
    #[track_caller]
    pub fn ok(&self) -> Run {
        self.run().assert_success()
    }

    /// Runs and expects this exit code.
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> Run {
        self.run().assert_code(code)
    }

    /// The command line with its folder, environment and input, for failure messages.
    fn describe(&self) -> String {
        let mut text = String::new();
        if let Some(dir) = &self.dir {
            text.push_str(&format!(
                "cd {} && ",
                shell_word(&dir.display().to_string())
            ));
        }
        for (key, value) in &self.envs {
            text.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                shell_word(&value.to_string_lossy())
            ));
        }
        text.push_str(&self.command_line());
        if let Some(stdin) = &self.stdin {
            text.push_str(&format!(" < ({} bytes on stdin)", stdin.len()));
        }
        text
    }
}

/// Quotes a word for the shell only when it needs it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What one run did: its exit status and both output streams.
pub struct Run {
    /// The command line, folder and input, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    /// The exit code (`None` if a signal ended the process).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Standard output as text (bad UTF-8 replaced).
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text (bad UTF-8 replaced).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Standard output, line by line.
    pub fn lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_string).collect()
    }

    /// Standard output as one JSON value.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not one JSON value ({error})\n{self}"))
    }

    /// Standard output as one JSON value per line.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.lines()
            .iter()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("line {line:?} is not JSON ({error})\n{self}"))
            })
            .collect()
    }

    /// Panics unless the run exited 0.
    #[track_caller]
    pub fn assert_success(self) -> Self {
        assert!(self.status.success(), "expected success\n{self}");
        self
    }

    /// Panics unless the run exited with `code`.
    #[track_caller]
    pub fn assert_code(self, code: i32) -> Self {
        assert_eq!(self.code(), Some(code), "expected exit {code}\n{self}");
        self
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(f, "status:  {}", self.status)?;
        writeln!(f, "--- stderr ---\n{}", self.stderr().trim_end())?;
        write!(f, "--- stdout ---\n{}", self.stdout().trim_end())
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A scratch folder for one test: `CARGO_TARGET_TMPDIR/<test file>/<name>`, emptied when
/// made and left behind afterwards so a failure can be looked at.
#[derive(Debug)]
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    /// Makes the test's folder. Each name may be used once per test binary: tests run in
    /// parallel, and two sharing a folder would trample each other's files.
    pub fn new(name: &str) -> Dir {
        static TAKEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
        let fresh = TAKEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(HashSet::new)
            .insert(name.to_string());
        assert!(fresh, "scratch folder {name:?} is used by two tests");
        let root = tmp_root().join(env!("CARGO_CRATE_NAME")).join(name);
        if root.exists() {
            std::fs::remove_dir_all(&root)
                .unwrap_or_else(|error| panic!("cannot empty {}: {error}", root.display()));
        }
        std::fs::create_dir_all(&root)
            .unwrap_or_else(|error| panic!("cannot make {}: {error}", root.display()));
        Dir { root }
    }

    /// The folder itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// A path inside the folder (not created).
    pub fn join(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// A path inside the folder as an argument.
    pub fn arg(&self, relative: &str) -> String {
        utf8(&self.join(relative)).to_string()
    }

    /// Writes a file (making its parent folders) and returns its path.
    pub fn create(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|error| panic!("cannot make {}: {error}", parent.display()));
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        path
    }

    /// Makes a folder inside and returns its path.
    pub fn create_dir(&self, relative: &str) -> PathBuf {
        let path = self.join(relative);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("cannot make {}: {error}", path.display()));
        path
    }

    /// `guardrail ARGS...` run inside this folder.
    pub fn command(&self, args: &[&str]) -> TestCommand {
        guardrail(args).current_dir(&self.root)
    }
}

/// A generated world folder, shared by every test (and test binary) that asks for the same
/// seed, scale and format. Tests read it and must not write into it.
#[derive(Debug)]
pub struct World {
    path: PathBuf,
    generate_stderr: String,
}

impl World {
    /// The world folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The world folder as an argument.
    pub fn arg(&self) -> &str {
        utf8(&self.path)
    }

    /// `guardrail ARGS...` run in the folder that holds the world, where it is `world`:
    /// output and snapshot descriptions then show `--world world`, not a scratch path
    /// that changes with every build.
    pub fn command(&self, args: &[&str]) -> TestCommand {
        let parent = self.path.parent().expect("a world folder has a parent");
        guardrail(args).current_dir(parent)
    }

    /// What `world generate` printed on stderr when it wrote this folder (it ran in the
    /// parent folder with `--out world`, so the text holds no scratch path).
    pub fn generate_stderr(&self) -> &str {
        &self.generate_stderr
    }
}

/// The world `world generate --seed SEED --scale SCALE --format FORMAT` writes, generated
/// once per build of the binary and reused by later tests and later runs.
///
/// Generation is deterministic, so a world made by an earlier test of the same binary is
/// the one this test would make. Worlds are keyed by the binary's size and modification
/// time: a rebuilt binary makes its worlds anew. A file lock makes concurrent tests (other
/// threads, or other processes under nextest) wait for one generation instead of racing;
/// the folder is written beside its final name and renamed, so a half-written world is
/// never seen.
pub fn world(seed: u64, scale: u32, format: &str) -> World {
    let cache = tmp_root().join("worlds");
    std::fs::create_dir_all(&cache)
        .unwrap_or_else(|error| panic!("cannot make {}: {error}", cache.display()));
    let stem = format!("seed-{seed}-scale-{scale}-{format}-");
    let key = format!("{stem}{}", binary_fingerprint());
    let done = cache.join(&key);
    let lock_path = cache.join(format!("{stem}lock"));
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|error| panic!("cannot lock {}: {error}", lock_path.display()));
    if !done.is_dir() {
        // Worlds of earlier builds are stale; nothing else uses this stem while we hold
        // its lock.
        if let Ok(entries) = std::fs::read_dir(&cache) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(&stem) && entry.path().is_dir() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let partial = cache.join(format!("{key}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial)
            .unwrap_or_else(|error| panic!("cannot make {}: {error}", partial.display()));
        let seed = seed.to_string();
        let scale = scale.to_string();
        let run = guardrail(&[
            "world", "generate", "--seed", &seed, "--scale", &scale, "--format", format, "--out",
            "world",
        ])
        .current_dir(&partial)
        .ok();
        let stderr_path = partial.join("generate.stderr");
        std::fs::write(&stderr_path, &run.stderr)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", stderr_path.display()));
        std::fs::rename(&partial, &done).unwrap_or_else(|error| {
            panic!(
                "cannot move {} to {}: {error}",
                partial.display(),
                done.display()
            )
        });
    }
    // Dropping the file unlocks it; unlock first so the order is plain.
    let _ = lock.unlock();
    let stderr_path = done.join("generate.stderr");
    let generate_stderr = std::fs::read_to_string(&stderr_path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", stderr_path.display()));
    World {
        path: done.join("world"),
        generate_stderr,
    }
}

/// Size and modification time of the binary under test, which change when cargo
/// rebuilds it.
fn binary_fingerprint() -> &'static str {
    static FINGERPRINT: OnceLock<String> = OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        let metadata = std::fs::metadata(BINARY)
            .unwrap_or_else(|error| panic!("cannot stat {BINARY}: {error}"));
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos());
        format!("{:x}-{modified:x}", metadata.len())
    })
}

/// Insta settings for snapshots of the CLI's output: the snapshot's description is the
/// command line, and what varies between machines and runs (scratch and data paths,
/// durations) is replaced by a placeholder, in the output and in the description. Use as
/// `snapshot_settings(&command).bind(|| insta::assert_snapshot!("name", text))`.
pub fn snapshot_settings(command: &TestCommand) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let mut description = command.command_line();
    settings.set_omit_expression(true);
    for (path, placeholder) in [
        (tmp_root().to_path_buf(), "[TMP]"),
        (pdq_data(), "[PDQ-DATA]"),
        (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
            "[REPO]",
        ),
    ] {
        let canonical = path.canonicalize().unwrap_or(path.clone());
        for shown in [path, canonical] {
            let text = shown.display().to_string();
            settings.add_filter(&regex_escape(&text), placeholder);
            description = description.replace(&text, placeholder);
        }
    }
    settings.set_description(description);
    // Durations, should an output ever print one: "1.25s", "830ms".
    settings.add_filter(r"\b\d+(\.\d+)?(ns|µs|us|ms|s)\b", "[DURATION]");
    settings
}

/// Escapes regular-expression metacharacters so a path is matched literally.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
