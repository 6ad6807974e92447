//! `guardrail`: the command-line front door to Guardrail's engines.
//!
//! This binary is wiring only: it parses arguments, reads files and standard input,
//! calls the pure engines and prints their verdicts. Exit codes: 0 ok, 1 a finding the
//! command was asked to fail on (`--fail-on`), 2 bad usage or input.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit;
mod audit_external;
mod bench;
mod bench_hma;
mod bench_intake;
mod dataflow;
mod dataflow_ledger;
mod decide;
mod external;
mod graph;
mod inputs;
mod ledger;
mod media;
mod registry;
mod reports;
mod serve;
mod text;
mod world;

/// Child-safety guardrails for a social platform's discovery systems.
///
/// Guardrail decides what search, hashtags, autocomplete and recommendations may show,
/// explains every decision, and measures what its guardrails remove.
#[derive(Debug, Parser)]
#[command(name = "guardrail", version, propagate_version = true)]
#[command(after_help = "Run `guardrail <COMMAND> --help` for the options of each command.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The text guard: check hashtags, queries, bios, captions, comments and usernames.
    Text(text::TextArgs),
    /// Known-image matching: PDQ hashes and hash banks.
    Media(media::MediaArgs),
    /// Network mapping: communities, propagation from seeds, the explained map.
    Graph(graph::GraphArgs),
    /// The network map on timely/differential dataflow, across workers and processes.
    Dataflow(dataflow::DataflowArgs),
    /// Synthetic worlds: generate a platform that fails the way the real one did.
    World(world::WorldArgs),
    /// The decision engine by hand: what a surface may do with candidates on a world.
    Decide(decide::DecideArgs),
    /// The ledger: verify its hash chain, rebuild derived state from it.
    Ledger(ledger::LedgerArgs),
    /// The offender registry: import the weekly list as keyed hashes.
    Registry(registry::RegistryArgs),
    /// Reports: prove none is lost (`check`), raise due alerts, transparency figures.
    Reports(reports::ReportsArgs),
    /// The audit harness: run an experiment on a world folder.
    Audit(audit::AuditArgs),
    /// Run every experiment on a default world, guardrails off and on, and print the table.
    Demo(audit::DemoArgs),
    /// The HTTP service over a ledger (`--demo`: build a demo ledger first).
    Serve(serve::ServeArgs),
    /// API tokens: create (printed once) and revoke.
    Token(serve::TokenArgs),
    /// Console users.
    User(serve::UserArgs),
    /// Benchmarks of the running service (loopback, bounded).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Text(args) => text::run(args),
        Command::Media(args) => media::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Dataflow(args) => dataflow::run(args),
        Command::World(args) => world::run(args),
        Command::Decide(args) => decide::run(args),
        Command::Ledger(args) => ledger::run(args),
        Command::Reports(args) => reports::run(args),
        Command::Registry(args) => registry::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Demo(args) => audit::run_demo(args),
        Command::Serve(args) => serve::run(args),
        Command::Token(args) => serve::token(args),
        Command::User(args) => serve::user(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("guardrail: {error:#}");
            ExitCode::from(2)
        }
    }
}
