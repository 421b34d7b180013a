//! The `tessera` binary, built with the tests so process-level tests (exit codes,
//! signals, CLI commands) always run the current code.

/// The allocator of the shipped binary (see `crates/server/src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tessera_server::entry::main()
}
