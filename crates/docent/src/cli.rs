//! The command line: `serve`, `migrate`, `tenant create`, `token create`, `print-default-config`
//! and `openapi`. Every command goes through `Application::build`, like the server.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use docent_domain::Timestamp;
use docent_domain::secret::{display_prefix, hash_secret, new_api_token};
use docent_domain::token::{CreatedToken, NewToken, parse_scopes};

use crate::app::Application;
use crate::config::{Config, LogFormat, Overrides};
use crate::tenancy::{CreateTenant, create_tenant};

#[derive(Parser, Debug)]
#[command(name = "docent", version, about = "Self-hostable AI website agents")]
pub struct Cli {
    /// TOML configuration file (also DOCENT_CONFIG).
    #[arg(long, global = true, env = "DOCENT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL, overriding the configuration (sqlite://PATH or postgres://...).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server.
    Serve {
        /// Listen address, overriding the configuration.
        #[arg(long)]
        addr: Option<String>,
        /// Prepare the `demo` tenant (built-in engine, contact form, memory, human handoff) and
        /// print how to chat with it.
        #[arg(long)]
        demo: bool,
    },
    /// Run the database migrations and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the default configuration, commented.
    PrintDefaultConfig,
    /// Print the OpenAPI description.
    Openapi,
    /// Manage a tenant's corpus.
    Corpus {
        #[command(subcommand)]
        command: CorpusCommand,
    },
    /// Rebuild a tenant's search index from the store and report the indexing rate.
    Reindex { slug: String },
    /// Measure retrieval quality on the labelled set (in a throwaway database).
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// Developer and benchmark tools.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum CorpusCommand {
    /// Import a CSV/NDJSON file or a folder of Markdown/text files; rerunning updates, never duplicates.
    Import { slug: String, path: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// recall@1, recall@5, MRR and unknown-answer rates on eval/.
    Retrieval {
        #[arg(long, default_value = "eval")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum DevCommand {
    /// Write N generated conversations (messages, tool history, feedback) over the last DAYS days.
    SeedConversations {
        slug: String,
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Random seed: the same seed generates the same history.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Conversations per transaction.
        #[arg(long, default_value_t = 2_000)]
        batch: usize,
    },
    /// Time stats, list pages, a detail and a 5,000-row export of a tenant; prints Markdown.
    BenchAnalytics {
        slug: String,
        /// Timed calls per request.
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Create a tenant; prints {"tenant": ..., "token": "ak_...", "apiKey": ...}.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        plan: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token on a tenant; prints it once.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        /// Comma-separated scopes, e.g. corpus:read,conversations:read or *.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// RFC 3339 expiry.
        #[arg(long)]
        expires_at: Option<String>,
    },
}

pub async fn main(cli: Cli) -> anyhow::Result<()> {
    let overrides = |addr: Option<String>| Overrides { addr, database_url: cli.database_url.clone() };
    match cli.command {
        Command::PrintDefaultConfig => {
            print!("{}", crate::config::DEFAULT_CONFIG_TOML);
            Ok(())
        }
        Command::Openapi => {
            println!("{}", crate::http::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Serve { addr, demo } => {
            let config = Config::load(cli.config.as_deref(), &overrides(addr))?;
            init_logging(&config);
            serve(config, demo).await
        }
        Command::Corpus { command: CorpusCommand::Import { slug, path } } => {
            let config = Config::load(cli.config.as_deref(), &overrides(None))?;
            init_logging(&config);
            let application = Application::build(config).await?;
            crate::knowledge::cli::import(&application, &slug, &path).await
        }
        Command::Reindex { slug } => {
            let config = Config::load(cli.config.as_deref(), &overrides(None))?;
            init_logging(&config);
            let application = Application::build(config).await?;
            crate::knowledge::cli::reindex(&application, &slug).await
        }
        Command::Eval { command: EvalCommand::Retrieval { dir } } => crate::knowledge::cli::eval(&dir).await,
        Command::Dev { command } => {
            let config = Config::load(cli.config.as_deref(), &overrides(None))?;
            init_logging(&config);
            let application = Application::build(config).await?;
            dev(&application, command).await
        }
        Command::Migrate => {
            let config = Config::load(cli.config.as_deref(), &overrides(None))?;
            init_logging(&config);
            Application::build(config).await?;
            tracing::info!("migrations are up to date");
            Ok(())
        }
        Command::Tenant { command: TenantCommand::Create { slug, name, plan } } => {
            let config = Config::load(cli.config.as_deref(), &overrides(None))?;
            init_logging(&config);
            let application = Application::build(config).await?;
            let created = create_tenant(
                application.app(),
                CreateTenant { slug, name, plan, parent_id: None, is_activated: true },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
            println!("{}", serde_json::to_string_pretty(&created)?);
            Ok(())
        }
        Command::Token { command: TokenCommand::Create { slug, name, scopes, expires_at } } => {
            let config = Config::load(cli.config.as_deref(), &overrides(None))?;
            init_logging(&config);
            let application = Application::build(config).await?;
            let token = create_token(&application, &slug, name, &scopes, expires_at.as_deref()).await?;
            println!("{}", serde_json::to_string_pretty(&token)?);
            Ok(())
        }
    }
}

async fn create_token(
    application: &Application,
    slug: &str,
    name: String,
    scopes: &[String],
    expires_at: Option<&str>,
) -> anyhow::Result<CreatedToken> {
    let store = &application.app().store;
    let tenant = store.tenant_by_slug(slug).await?.with_context(|| format!("no tenant `{slug}`"))?;
    let expires_at = match expires_at {
        Some(raw) => Some(Timestamp::parse(raw).with_context(|| format!("`{raw}` is not an RFC 3339 date-time"))?),
        None => None,
    };
    let scopes = parse_scopes(scopes, Timestamp::now(), expires_at).map_err(|e| anyhow::anyhow!(e.message))?;
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let secret = new_api_token();
    let token = store
        .create_token(
            &tenant.id,
            NewToken { name, prefix: display_prefix(&secret), hash: hash_secret(&secret), scopes, expires_at },
        )
        .await?;
    Ok(CreatedToken {
        id: token.id,
        name: token.name,
        token: secret,
        prefix: token.prefix,
        scopes: token.scopes,
        created_at: token.created_at,
        expires_at: token.expires_at,
    })
}

async fn dev(application: &Application, command: DevCommand) -> anyhow::Result<()> {
    match command {
        DevCommand::SeedConversations { slug, count, days, seed, batch } => {
            let options = crate::dev::SeedOptions { count, days, seed, batch: batch.max(1) };
            let took = crate::dev::seed_conversations(application.app(), &slug, &options).await?;
            println!("{count} conversations written to `{slug}` in {:.1} s", took.as_secs_f64());
        }
        DevCommand::BenchAnalytics { slug, runs } => {
            print!("{}", crate::dev::bench_analytics(application, &slug, runs.max(1)).await?);
        }
    }
    Ok(())
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let addr = config.addr.clone();
    let application = Application::build(config).await?;
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    if demo {
        let token = crate::demo::ensure(application.app()).await?;
        println!(
            "\nDocent is ready with the demo tenant `{slug}` (built-in engine, no key, no network).\n\n  \
             Open the chat widget in your browser:\n    http://{local}/demo/{slug}\n  \
             Chat as an AI agent:\n    curl -s http://{local}/chat/{slug} -H 'X-Agent-Model: my-agent' \\\n      \
             -H 'Content-Type: application/json' -d '{{\"message\": \"Hello!\", \"sessionId\": \"try-1\"}}'\n  \
             Stream as a browser would:\n    curl -N http://{local}/chat/{slug} -H 'Content-Type: application/json' \\\n      \
             -d '{{\"message\": \"Please remember that my name is Sam\", \"sessionId\": \"try-2\"}}'\n  \
             Owner token (scope *): {token}\n    curl -s http://{local}/tenants/{slug} -H 'Authorization: Bearer {token}'\n",
            slug = crate::demo::SLUG
        );
    }
    tracing::info!(addr = %local, "docent is listening");
    application.serve(listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}

/// Logs go to stderr so that commands printing JSON keep stdout clean.
fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
