//! What the `tessera` binary does: parse the command line, run one command.
use crate::{
    cli::{AdminCommand, Cli, Command, TenantCommand},
    commands,
    settings::Settings,
    startup,
};
use clap::Parser;
use std::process::ExitCode;

/// Parses the command line and runs the command; failures print one line and exit 1.
pub fn main() -> ExitCode {
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
        Command::CheckConfig { connect } => {
            let summary = actix_rt::System::new()
                .block_on(async { commands::check_config(&settings, connect).await })?;
            print!("{summary}");
            println!("configuration ok");
            Ok(())
        }
        Command::Tenant(TenantCommand::Create {
            slug,
            display_name,
            settings: more,
            simplejwt,
        }) => {
            let view = commands::create_tenant(
                &settings,
                &slug,
                display_name.as_deref(),
                more.as_deref(),
                simplejwt.as_deref(),
            )?;
            println!("{}", serde_json::to_string_pretty(&view)?);
            Ok(())
        }
        Command::Tenant(TenantCommand::Update {
            slug,
            settings: more,
            simplejwt,
        }) => {
            let view =
                commands::update_tenant(&settings, &slug, more.as_deref(), simplejwt.as_deref())?;
            println!("{}", serde_json::to_string_pretty(&view)?);
            Ok(())
        }
        Command::Tenant(TenantCommand::ImportUsers { slug, file }) => {
            let report = commands::import_users(&settings, &slug, &file)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Tenant(TenantCommand::ImportRevocations { slug, file }) => {
            let report = commands::import_revocations(&settings, &slug, &file)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Tenant(TenantCommand::List) => {
            println!("{:<24} {:<7} {:<8} DISPLAY NAME", "SLUG", "ALG", "STATE");
            for t in commands::list_tenants(&settings)? {
                let state = if t.settings.disabled {
                    "disabled"
                } else {
                    "enabled"
                };
                println!(
                    "{:<24} {:<7} {:<8} {}",
                    t.slug,
                    t.settings.algorithm.as_str(),
                    state,
                    t.settings.display_name
                );
            }
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
            let telemetry = crate::telemetry::init_tracing(&settings)?;
            actix_rt::System::new().block_on(async move {
                let running = startup::start(&settings, None, None).await?;
                running.serve_until_stopped().await?;
                // The last spans leave before the process does.
                drop(telemetry);
                Ok(())
            })
        }
    }
}
