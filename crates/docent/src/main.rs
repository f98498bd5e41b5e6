use clap::Parser;

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
