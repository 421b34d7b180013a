//! The `tessera` binary.

/// The process's allocator: mimalloc, whose thread-local heaps serve the request
/// threads' many small, short-lived allocations (and frees of memory another thread
/// allocated, as the batch writer's answers are) with less work than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tessera_server::entry::main()
}
