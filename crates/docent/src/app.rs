//! The application: shared state, and the one startup path (`Application::build` then `serve`)
//! used by `docent serve`, the other CLI commands and the tests.

use std::sync::Arc;

use anyhow::Context;
use docent_domain::Timestamp;
use docent_domain::plan::Plan;
use docent_domain::secret::hash_secret;
use docent_domain::tenant::{Tenant, TenantView};
use docent_store::Store;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::chat::rate_limit::RateLimiter;
use crate::http::error::ApiError;
use crate::seal::Sealer;

/// The windows of the HTTP/2-only model client, where every stream's model call shares one
/// connection. The stream window is how far a model's reply may run ahead of the turn reading it
/// (~25 tokens of a vendor's chunks): at hyper's 2 MiB a saturated server held whole replies in
/// h2's buffers, and the model now waits for the turn instead, as on a connection of its own.
/// The connection window bounds the sum and sets h2's flood check: h2 closes a connection
/// (`ENHANCE_YOUR_CALM`, "too_many_data_frames") once the small DATA frames it holds unread
/// cost more than half this window in framing (a frame under 256 bytes costs the difference).
/// 10,000 streams lagging on a saturated machine passed that at 16 MiB, and every stream of the
/// connection failed at once. At 64 MiB it holds over 16,000 streams each a full stream window
/// behind, for chunks of 171 bytes or more (an OpenAI-format token chunk is ~190).
const LLM_H2_STREAM_WINDOW: u32 = 4 * 1024;
const LLM_H2_CONNECTION_WINDOW: u32 = 64 * 1024 * 1024;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub sealer: Sealer,
    /// The outgoing HTTP client for webhooks (and model vendors unless `llm_http2_only`).
    pub http: reqwest::Client,
    /// The client for model vendors: `http`, or an HTTP/2-only one (`outbound.llm_http2_only`).
    pub llm_http: reqwest::Client,
    pub chat_limiter: Arc<RateLimiter>,
    /// Per-tenant search indexes, derived from the store.
    pub knowledge: Arc<docent_search::Knowledge>,
    /// The chat path's copies of tenant configurations, checked against the store per request.
    pub tenants: Arc<crate::tenant_cache::TenantCache>,
    admin_token_hash: Option<Arc<str>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, config: Config, sealer: Sealer) -> Self {
        let admin_token_hash = config.admin_token.as_ref().map(|t| Arc::from(hash_secret(t.expose())));
        let chat_limiter = Arc::new(RateLimiter::new(config.chat.per_minute, config.chat.per_hour));
        // No redirect is followed: the URLs tenants choose are checked before each call
        // (`outbound`), and a redirect would send the call on to an address nobody checked.
        let client = || {
            reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .pool_idle_timeout(std::time::Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::none())
        };
        let http = client().build().unwrap_or_default();
        let llm_http = match config.outbound.llm_http2_only {
            true => client()
                .http2_prior_knowledge()
                .http2_initial_connection_window_size(LLM_H2_CONNECTION_WINDOW)
                .http2_initial_stream_window_size(LLM_H2_STREAM_WINDOW)
                .build()
                .unwrap_or_default(),
            false => http.clone(),
        };
        let knowledge = Arc::new(docent_search::Knowledge::new());
        Self {
            store,
            config: Arc::new(config),
            sealer,
            http,
            llm_http,
            chat_limiter,
            knowledge,
            tenants: Arc::default(),
            admin_token_hash,
        }
    }

    /// Constant-time comparison of a bearer's hash with the admin token's.
    pub fn is_admin_token_hash(&self, hash: &str) -> bool {
        let Some(admin) = &self.admin_token_hash else { return false };
        admin.len() == hash.len() && admin.bytes().zip(hash.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The plan a tenant is on; a plan removed from the configuration falls back to the default.
    pub fn plan(&self, name: &str) -> &Plan {
        self.config
            .plans
            .get(name)
            .or_else(|| self.config.plans.get(&self.config.default_plan))
            .unwrap_or_else(|| unreachable_plan())
    }

    /// The tenant object of the API, with this month's usage and the effective limits.
    pub async fn tenant_view(&self, tenant: Tenant) -> Result<TenantView, ApiError> {
        let plan = self.plan(&tenant.plan).clone();
        let used = self
            .store
            .count_conversations_since(&tenant.id, Timestamp::now().month_start())
            .await
            .map_err(ApiError::storage)?;
        Ok(TenantView {
            conversations_limit: tenant.conversations_limit.or(plan.limits.conversations_per_month),
            capabilities: plan.capabilities,
            conversations_used: used,
            id: tenant.id,
            slug: tenant.slug,
            name: tenant.name,
            parent_id: tenant.parent_id,
            plan: tenant.plan,
            is_activated: tenant.is_activated,
            settings: tenant.settings,
            llm: (&tenant.llm).into(),
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
        })
    }
}

/// `Config::validate` guarantees the default plan exists.
fn unreachable_plan() -> &'static Plan {
    static FALLBACK: std::sync::OnceLock<Plan> = std::sync::OnceLock::new();
    FALLBACK.get_or_init(|| {
        docent_domain::plan::builtin_plans().remove(docent_domain::plan::SELF_HOSTED).unwrap_or_else(|| Plan {
            capabilities: docent_domain::plan::Capabilities { widget: true, external_mcp: true, mcp_tools: true },
            limits: Default::default(),
        })
    })
}

/// A built application, ready to serve.
pub struct Application {
    app: App,
}

impl Application {
    /// Opens the store (running migrations) and loads the master key.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let store = docent_store::connect(&config.database_url)
            .await
            .with_context(|| format!("opening the database {}", redact_url(&config.database_url)))?;
        let sealer = Sealer::load_or_create(config.master_key.as_ref().map(|k| k.expose()), &config.data_dir)?;
        Ok(Self { app: App::new(store, config, sealer) })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn router(&self) -> axum::Router {
        crate::http::router(self.app.clone())
    }

    /// Starts the background job runner (webhooks, emails); it stops when the handle is aborted.
    pub fn spawn_jobs(&self) -> tokio::task::JoinHandle<()> {
        crate::jobs::spawn(self.app.clone())
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = self.router();
        let jobs = self.spawn_jobs();
        let served = crate::http::server::serve(listener, router, shutdown).await;
        jobs.abort();
        served?;
        Ok(())
    }
}

/// Builds and serves: what `docent serve` runs, and what tests run on `127.0.0.1:0`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Application::build(config).await?.serve(listener, shutdown).await
}

/// Hides the password of a database URL in messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
