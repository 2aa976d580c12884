use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cutover::cli::run(cutover::cli::Cli::parse()).await
}
