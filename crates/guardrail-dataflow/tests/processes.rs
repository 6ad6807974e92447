//! Two processes on loopback (`--process 0/1 --processes 2` and a hostfile) give the same
//! map as one process: the binary is started twice, like a cluster would.

use std::net::TcpListener;
use std::process::{Command, Stdio};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

#[test]
fn two_processes_give_the_answer_of_one() {
    let binary = env!("CARGO_BIN_EXE_guardrail-dataflow");
    let world = [
        "map",
        "--synthetic-seed",
        "3",
        "--background",
        "800",
        "--budget",
        "200",
    ];
    let one = Command::new(binary)
        .args(world)
        .args(["--workers", "2"])
        .output()
        .expect("one process");
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert!(!one.stdout.is_empty());

    let hostfile =
        std::env::temp_dir().join(format!("guardrail-dataflow-hosts-{}", std::process::id()));
    std::fs::write(
        &hostfile,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port(), free_port()),
    )
    .expect("hostfile");
    let start = |process: &str| {
        Command::new(binary)
            .args(world)
            .args([
                "--workers",
                "1",
                "--processes",
                "2",
                "--process",
                process,
                "--hostfile",
            ])
            .arg(&hostfile)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a process")
    };
    let second = start("1");
    let first = start("0");
    let first = first.wait_with_output().expect("process 0");
    let second = second.wait_with_output().expect("process 1");
    let _ = std::fs::remove_file(&hostfile);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // Timely itself may print connection retries; the map is the one JSON line.
    let map_line = |stdout: &[u8]| {
        String::from_utf8_lossy(stdout)
            .lines()
            .find(|line| line.starts_with('{'))
            .map(str::to_string)
    };
    assert_eq!(
        map_line(&second.stdout),
        None,
        "only process 0 prints the map"
    );
    let single = map_line(&one.stdout).expect("one process prints the map");
    assert_eq!(
        map_line(&first.stdout),
        Some(single),
        "two processes and one disagree"
    );
}
