//! The `tessera` binary.
use clap::Parser;
use std::process::ExitCode;
use tessera_server::{
    cli::{AdminCommand, Cli, Command},
    commands,
    settings::Settings,
    startup,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> commands::CommandResult<()> {
    if let Command::Openapi = cli.command {
        print!("{}", tessera_api::openapi::openapi_json());
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Openapi => Ok(()),
        Command::Migrate => {
            let n = commands::migrate(&settings)?;
            eprintln!("tessera: {n} migration(s) applied");
            Ok(())
        }
        Command::FlushExpired => {
            let f = commands::flush_expired(&settings)?;
            println!(
                "flushed {} sessions, {} refresh tokens, {} revocations",
                f.sessions, f.refresh_tokens, f.revocations
            );
            Ok(())
        }
        Command::Admin(AdminCommand::CreateKey { name, tenant }) => {
            println!(
                "{}",
                commands::create_key(&settings, &name, tenant.as_deref())?
            );
            Ok(())
        }
        Command::Serve => {
            startup::init_tracing(&settings);
            actix_rt::System::new().block_on(async move {
                let running = startup::start(&settings, None).await?;
                running.server.await?;
                Ok(())
            })
        }
    }
}
