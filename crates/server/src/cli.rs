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
    /// Delete sessions, refresh tokens and revocations whose tokens have all expired
    /// (serve also does this every database.prune_interval_secs) and print how many.
    FlushExpired,
    /// Read and check the configuration (file and environment) without starting
    /// anything; print the effective settings, secrets hidden. Exit status 1 and one
    /// line naming the setting when something is wrong.
    CheckConfig {
        /// Also connect to Postgres and Redis and check that they answer.
        #[arg(long)]
        connect: bool,
    },
    /// Tenants, straight in the database (audited as actor `cli`).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Operator tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `tessera tenant …`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant with its first signing key and print it as JSON.
    Create {
        /// Lowercase `[a-z0-9-]`, 3 to 63 characters.
        slug: String,
        /// Shown to people (default: the slug).
        #[arg(long)]
        display_name: Option<String>,
        /// More settings as a JSON object, as the admin API takes them, e.g.
        /// '{"allow_signup": true, "algorithm": "RS256"}'.
        #[arg(long, value_name = "JSON")]
        settings: Option<String>,
        /// A Django project's SIMPLE_JWT settings as a JSON object (lifetimes in
        /// seconds), read into tenant settings; a key with no counterpart is refused,
        /// named (see docs/MIGRATING-FROM-SIMPLEJWT.md).
        #[arg(long, value_name = "FILE")]
        simplejwt: Option<PathBuf>,
    },
    /// Change a tenant's settings and print it as JSON (running nodes see the change
    /// within cache.tenant_max_age_secs).
    Update {
        /// The tenant's slug.
        slug: String,
        /// Settings as a JSON object, as the admin API's PATCH takes them.
        #[arg(long, value_name = "JSON")]
        settings: Option<String>,
        /// A Django project's SIMPLE_JWT settings as a JSON object, as for create.
        #[arg(long, value_name = "FILE")]
        simplejwt: Option<PathBuf>,
    },
    /// List every tenant: slug, algorithm, state, display name.
    List,
    /// Import users from a file: what `manage.py dumpdata auth.user` prints, a list
    /// of Tessera user records, or a body as POST …/users/import takes it. Prints
    /// the report (created, skipped, failed) as JSON.
    ImportUsers {
        /// The tenant's slug.
        slug: String,
        /// The file (`-` for standard input).
        file: PathBuf,
    },
    /// Import simplejwt's blacklist from what `manage.py dumpdata token_blacklist`
    /// prints: its tokens are refused until they expire (running nodes within a
    /// second). Prints the report as JSON.
    ImportRevocations {
        /// The tenant's slug.
        slug: String,
        /// The file (`-` for standard input).
        file: PathBuf,
    },
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_command_parses_and_has_help() {
        let cli = Cli::try_parse_from(["tessera", "flush-expired"]);
        assert!(matches!(cli.map(|c| c.command), Ok(Command::FlushExpired)));
        let cli = Cli::try_parse_from(["tessera", "tenant", "create", "acme", "--settings", "{}"]);
        assert!(matches!(
            cli.map(|c| c.command),
            Ok(Command::Tenant(TenantCommand::Create { slug, .. })) if slug == "acme"
        ));
        let cli = Cli::try_parse_from(["tessera", "check-config", "--connect"]);
        assert!(matches!(
            cli.map(|c| c.command),
            Ok(Command::CheckConfig { connect: true })
        ));
        let mut help = Vec::new();
        Cli::command()
            .write_long_help(&mut help)
            .unwrap_or_default();
        let help = String::from_utf8_lossy(&help);
        for cmd in [
            "serve",
            "migrate",
            "flush-expired",
            "openapi",
            "admin",
            "check-config",
            "tenant",
        ] {
            assert!(help.contains(cmd), "{cmd} missing from --help: {help}");
        }
    }
}
