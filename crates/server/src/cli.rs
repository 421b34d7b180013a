//! The command line: `tessera [--config PATH] <command>`.
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Tessera: multi-tenant JWT authentication.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
    /// A tessera.toml to read (default: ./tessera.toml if present). Environment
    /// variables TESSERA__SECTION__KEY override it.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (applies pending migrations first unless
    /// database.migrate_on_start is false).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) and exit; needs no configuration.
    Openapi,
    /// Operator tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `tessera admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin API key and print only its secret (shown this once).
    CreateKey {
        /// A label for the key.
        #[arg(long)]
        name: String,
        /// Limit the key to this tenant (slug); without it the key is platform-wide.
        #[arg(long)]
        tenant: Option<String>,
    },
}
