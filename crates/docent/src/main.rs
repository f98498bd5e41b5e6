use clap::Parser;

/// mimalloc instead of the system allocator: a chat turn makes a few thousand small
/// allocations, and glibc's malloc spent about an eighth of a turn's instructions on them
/// (callgrind; README, Benchmarks). Without the default `mimalloc` feature the system
/// allocator serves, so heap profilers that hook `malloc` (heaptrack) see every allocation.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = docent::cli::Cli::parse();
    match docent::cli::main(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
