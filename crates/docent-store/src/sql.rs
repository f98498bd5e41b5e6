// The SQL both backends run, written once. `sqlite.rs` and `postgres.rs` each `include!` this
// file after defining `Db` (the sqlx database), `ThisStore` (a struct with `reader` and `writer`
// pools) and `begin_write`. The schema keeps to types both databases treat alike (TEXT, BIGINT,
// BOOLEAN; JSON as TEXT; times as epoch milliseconds) and `$N` placeholders work on both, so the
// two backends share every statement and differ only in how they connect. A statement that must
// differ goes into the backend's own file instead.

use async_trait::async_trait;
use docent_domain::scope::Scope;
use docent_domain::segment::{ConversationStarter, Segment, SegmentIn};
use docent_domain::slug::slugify;
use docent_domain::tenant::{NewTenant, Tenant, TenantLlm, TenantSettings};
use docent_domain::token::{ApiToken, NewToken};
use docent_domain::tool::{Tool, ToolFields, ToolType};
use docent_domain::visitor::{MemoryFact, Visitor, VisitorDetail, VisitorFields, VisitorQuery};
use docent_domain::{ConversationId, SegmentId, TenantId, Timestamp, TokenId, ToolId, VisitorId};

use crate::histories::Known;
use crate::{NewConversation, SegmentDeletion, StorageError, Store};

fn json_column<T: serde::de::DeserializeOwned>(what: &str, raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StorageError::corrupt(format!("stored {what} is not valid: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StorageError::Other(Box::new(e)))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    slug: String,
    name: String,
    parent_id: Option<String>,
    plan: String,
    is_activated: bool,
    conversations_limit: Option<i64>,
    settings: String,
    llm: String,
    created_at: i64,
    updated_at: i64,
}

const TENANT_COLUMNS: &str =
    "id, slug, name, parent_id, plan, is_activated, conversations_limit, settings, llm, created_at, updated_at";

impl TenantRow {
    fn into_tenant(self) -> Result<Tenant> {
        Ok(Tenant {
            id: TenantId::from_stored(self.id),
            slug: self.slug,
            name: self.name,
            parent_id: self.parent_id.map(TenantId::from_stored),
            plan: self.plan,
            is_activated: self.is_activated,
            conversations_limit: self.conversations_limit.map(count),
            settings: json_column::<TenantSettings>("tenant settings", &self.settings)?,
            llm: json_column::<TenantLlm>("tenant llm settings", &self.llm)?,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    tenant_id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "id, tenant_id, name, prefix, scopes, created_at, last_used_at, expires_at";

impl TokenRow {
    fn into_token(self) -> Result<ApiToken> {
        Ok(ApiToken {
            id: TokenId::from_stored(self.id),
            tenant_id: TenantId::from_stored(self.tenant_id),
            name: self.name,
            prefix: self.prefix,
            scopes: json_column::<Vec<Scope>>("token scopes", &self.scopes)?,
            created_at: Timestamp::from_millis(self.created_at),
            last_used_at: self.last_used_at.map(Timestamp::from_millis),
            expires_at: self.expires_at.map(Timestamp::from_millis),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ToolRow {
    id: String,
    name: String,
    description: String,
    tool_type: String,
    config: String,
    position: i64,
    is_active: bool,
    segment_id: Option<String>,
    segment_slug: Option<String>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const TOOL_SELECT: &str = "SELECT t.id, t.name, t.description, t.tool_type, t.config, t.position, t.is_active, \
     t.segment_id, s.slug AS segment_slug, t.webhook_url, t.webhook_secret, t.created_at, t.updated_at \
     FROM tools t LEFT JOIN segments s ON s.id = t.segment_id";

impl ToolRow {
    fn into_tool(self) -> Result<Tool> {
        let tool_type = ToolType::parse(&self.tool_type)
            .ok_or_else(|| StorageError::corrupt(format!("unknown stored tool type {}", self.tool_type)))?;
        Ok(Tool {
            id: ToolId::from_stored(self.id),
            name: self.name,
            description: self.description,
            tool_type,
            config: json_column("tool config", &self.config)?,
            position: self.position,
            is_active: self.is_active,
            segment_id: self.segment_id.map(SegmentId::from_stored),
            segment_slug: self.segment_slug,
            webhook_url: self.webhook_url,
            webhook_secret: self.webhook_secret,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct VisitorRow {
    id: String,
    email: Option<String>,
    display_name: Option<String>,
    phone: Option<String>,
    auth_provider: Option<String>,
    external_id: Option<String>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

const VISITOR_COLUMNS: &str =
    "id, email, display_name, phone, auth_provider, external_id, metadata, created_at, updated_at";

impl VisitorRow {
    fn into_visitor(self) -> Result<Visitor> {
        Ok(Visitor {
            id: VisitorId::from_stored(self.id),
            email: self.email,
            display_name: self.display_name,
            phone: self.phone,
            auth_provider: self.auth_provider,
            external_id: self.external_id,
            metadata: json_column("visitor metadata", &self.metadata)?,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct FactRow {
    key: String,
    value: String,
    created_at: i64,
    updated_at: i64,
}

impl From<FactRow> for MemoryFact {
    fn from(r: FactRow) -> Self {
        MemoryFact {
            key: r.key,
            value: r.value,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        }
    }
}

/// What visitor search matches: email, name and external ID, lowercased with Unicode rules.
fn search_text(f: &VisitorFields) -> String {
    [f.email.as_deref(), f.display_name.as_deref(), f.external_id.as_deref()]
        .iter()
        .map(|v| v.unwrap_or_default().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes `%`, `_` and `\` so a search string matches literally inside `LIKE … ESCAPE '\'`.
fn like_pattern(search: &str) -> String {
    let mut out = String::with_capacity(search.len() + 2);
    out.push('%');
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl ThisStore {
    async fn tool_in(tx: &mut WriteTx, tenant: &TenantId, id: &ToolId) -> Result<Tool> {
        let sql = format!("{TOOL_SELECT} WHERE t.tenant_id = $1 AND t.id = $2");
        sqlx::query_as::<Db, ToolRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_one(&mut **tx)
            .await?
            .into_tool()
    }

    async fn visitor_exists(&self, tenant: &TenantId, visitor: &VisitorId) -> Result<bool> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM visitors WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(visitor.as_str())
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.is_some())
    }

    /// Names the field a visitor write collides on, before the unique index has to.
    async fn visitor_conflict(
        tx: &mut WriteTx,
        tenant: &TenantId,
        except: Option<&VisitorId>,
        fields: &VisitorFields,
    ) -> Result<()> {
        let except = except.map(VisitorId::as_str).unwrap_or("");
        for (column, field, value) in
            [("email", "email", fields.email.as_deref()), ("external_id", "externalId", fields.external_id.as_deref())]
        {
            let Some(value) = value else { continue };
            let sql = format!("SELECT id FROM visitors WHERE tenant_id = $1 AND {column} = $2 AND id <> $3");
            let found: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_str())
                .bind(value)
                .bind(except)
                .fetch_optional(&mut **tx)
                .await?;
            if found.is_some() {
                return Err(StorageError::conflict(field));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for ThisStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn create_tenant(&self, new: NewTenant, default_segment: SegmentIn) -> Result<(Tenant, Segment)> {
        let now = Timestamp::now();
        let tenant = Tenant {
            id: TenantId::generate(),
            slug: new.slug,
            name: new.name,
            parent_id: new.parent_id,
            plan: new.plan,
            is_activated: new.is_activated,
            conversations_limit: None,
            settings: TenantSettings::default(),
            llm: TenantLlm::default(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.begin_write().await?;
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE slug = $1")
            .bind(&tenant.slug)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StorageError::conflict("slug"));
        }
        sqlx::query(
            "INSERT INTO tenants (id, slug, name, parent_id, plan, is_activated, conversations_limit, \
             api_key_hash, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $9)",
        )
        .bind(tenant.id.as_str())
        .bind(&tenant.slug)
        .bind(&tenant.name)
        .bind(tenant.parent_id.as_ref().map(TenantId::as_str))
        .bind(&tenant.plan)
        .bind(tenant.is_activated)
        .bind(&new.api_key_hash)
        .bind(to_json(&tenant.settings)?)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let segment = Self::insert_segment(&mut tx, &tenant.id, &default_segment, true, now).await?;
        tx.commit().await?;
        Ok((tenant, segment))
    }

    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = $1");
        sqlx::query_as::<Db, TenantRow>(sqlx::AssertSqlSafe(sql))
            .bind(slug)
            .fetch_optional(&self.reader)
            .await?
            .map(TenantRow::into_tenant)
            .transpose()
    }

    async fn tenant_versions(&self, slug: &str) -> Result<Option<crate::TenantVersions>> {
        let row: Option<(String, i64, i64)> =
            sqlx::query_as("SELECT id, config_version, kb_version FROM tenants WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(|(id, config, kb)| crate::TenantVersions { id: TenantId::from_stored(id), config, kb }))
    }

    async fn tenant_by_id(&self, id: &TenantId) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1");
        sqlx::query_as::<Db, TenantRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(TenantRow::into_tenant)
            .transpose()
    }

    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE api_key_hash = $1");
        sqlx::query_as::<Db, TenantRow>(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?
            .map(TenantRow::into_tenant)
            .transpose()
    }

    async fn update_tenant(&self, tenant: &TenantId, updated: &Tenant) -> Result<Tenant> {
        let now = Timestamp::now();
        let limit = updated.conversations_limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let sql = format!(
            "UPDATE tenants SET name = $1, plan = $2, is_activated = $3, conversations_limit = $4, \
             settings = $5, llm = $8, updated_at = $6 WHERE id = $7 RETURNING {TENANT_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row = sqlx::query_as::<Db, TenantRow>(sqlx::AssertSqlSafe(sql))
            .bind(&updated.name)
            .bind(&updated.plan)
            .bind(updated.is_activated)
            .bind(limit)
            .bind(to_json(&updated.settings)?)
            .bind(now.millis())
            .bind(tenant.as_str())
            .bind(to_json(&updated.llm)?)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        row.into_tenant()
    }

    async fn count_child_tenants(&self, parent: &TenantId) -> Result<u64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tenants WHERE parent_id = $1")
            .bind(parent.as_str())
            .fetch_one(&self.reader)
            .await?;
        Ok(count(n))
    }

    async fn count_conversations_since(&self, tenant: &TenantId, since: Timestamp) -> Result<u64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM conversations WHERE tenant_id = $1 AND started_at >= $2")
                .bind(tenant.as_str())
                .bind(since.millis())
                .fetch_one(&self.reader)
                .await?;
        Ok(count(n))
    }

    async fn create_conversation(&self, tenant: &TenantId, new: NewConversation) -> Result<ConversationId> {
        let id = ConversationId::generate();
        let public_id = public_uuid(&id);
        let now = Timestamp::now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO conversations (id, tenant_id, public_id, session_id, visitor_id, segment_id, channel, \
             visitor_type, agent_model, status, page_url, metadata, message_count, started_at, last_message_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $12, 0, $11, $11)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(&public_id)
        .bind(&new.session_id)
        .bind(new.visitor_id.as_ref().map(VisitorId::as_str))
        .bind(new.segment_id.as_ref().map(SegmentId::as_str))
        .bind(&new.channel)
        .bind(&new.visitor_type)
        .bind(&new.agent_model)
        .bind(&new.page_url)
        .bind(now.millis())
        .bind(to_json(&new.metadata)?)
        .execute(&mut *tx)
        .await?;
        Self::rollup_conversation_created(&mut tx, tenant, &new, now.millis()).await?;
        tx.commit().await?;
        Ok(id)
    }
}
