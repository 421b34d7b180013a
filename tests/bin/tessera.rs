//! The `tessera` binary, built with the tests so process-level tests (exit codes,
//! signals, CLI commands) always run the current code.
fn main() -> std::process::ExitCode {
    tessera_server::entry::main()
}
