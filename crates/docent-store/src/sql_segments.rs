// Segment SQL shared by both backends (see the head of `sql.rs` for how it is included).

#[derive(sqlx::FromRow)]
struct SegmentRow {
    id: String,
    slug: String,
    name: String,
    system_prompt: String,
    welcome_message: Option<String>,
    conversation_starters: String,
    is_default: bool,
    is_active: bool,
    created_at: i64,
    updated_at: i64,
}

const SEGMENT_COLUMNS: &str = "id, slug, name, system_prompt, welcome_message, conversation_starters, is_default, is_active, created_at, updated_at";

impl SegmentRow {
    fn into_segment(self) -> Result<Segment> {
        Ok(Segment {
            id: SegmentId::from_stored(self.id),
            slug: self.slug,
            name: self.name,
            system_prompt: self.system_prompt,
            welcome_message: self.welcome_message,
            conversation_starters: json_column::<Vec<ConversationStarter>>(
                "conversation starters",
                &self.conversation_starters,
            )?,
            is_default: self.is_default,
            is_active: self.is_active,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

impl ThisStore {
    async fn insert_segment(
        tx: &mut WriteTx,
        tenant: &TenantId,
        new: &SegmentIn,
        is_default: bool,
        now: Timestamp,
    ) -> Result<Segment> {
        let taken: Vec<(String,)> = sqlx::query_as("SELECT slug FROM segments WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_all(&mut **tx)
            .await?;
        let base = if is_default { "general".to_owned() } else { slugify(&new.name) };
        let slug = (1..)
            .map(|n: u32| if n == 1 { base.clone() } else { format!("{base}-{n}") })
            .find(|candidate| !taken.iter().any(|(s,)| s == candidate))
            .unwrap_or(base);
        let id = SegmentId::generate();
        sqlx::query(
            "INSERT INTO segments (id, tenant_id, slug, name, system_prompt, welcome_message, \
             conversation_starters, is_default, is_active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(&slug)
        .bind(&new.name)
        .bind(&new.system_prompt)
        .bind(&new.welcome_message)
        .bind(to_json(&new.conversation_starters)?)
        .bind(is_default)
        .bind(new.is_active || is_default)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
        Ok(Segment {
            id,
            slug,
            name: new.name.clone(),
            system_prompt: new.system_prompt.clone(),
            welcome_message: new.welcome_message.clone(),
            conversation_starters: new.conversation_starters.clone(),
            is_default,
            is_active: new.is_active || is_default,
            created_at: now,
            updated_at: now,
        })
    }

    /// Refuses a segment reference that is not one of this tenant's segments.
    async fn check_segment(
        tx: &mut WriteTx,
        tenant: &TenantId,
        segment: Option<&SegmentId>,
    ) -> Result<()> {
        let Some(segment) = segment else { return Ok(()) };
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM segments WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(segment.as_str())
            .fetch_optional(&mut **tx)
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(StorageError::Invalid {
                field: "segmentId".to_owned(),
                message: format!("segmentId {segment} is not a segment of this tenant"),
            }),
        }
    }
}

#[async_trait]
impl crate::SegmentStore for ThisStore {
    async fn list_segments(&self, tenant: &TenantId) -> Result<Vec<Segment>> {
        let sql = format!(
            "SELECT {SEGMENT_COLUMNS} FROM segments WHERE tenant_id = $1 ORDER BY is_default DESC, created_at, id"
        );
        sqlx::query_as::<Db, SegmentRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(SegmentRow::into_segment)
            .collect()
    }

    async fn get_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<Option<Segment>> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE tenant_id = $1 AND id = $2");
        sqlx::query_as::<Db, SegmentRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(SegmentRow::into_segment)
            .transpose()
    }

    async fn segment_by_slug(&self, tenant: &TenantId, slug: &str) -> Result<Option<Segment>> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE tenant_id = $1 AND slug = $2");
        sqlx::query_as::<Db, SegmentRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(slug)
            .fetch_optional(&self.reader)
            .await?
            .map(SegmentRow::into_segment)
            .transpose()
    }

    async fn create_segment(&self, tenant: &TenantId, new: SegmentIn) -> Result<Segment> {
        let mut tx = self.begin_write().await?;
        let segment = Self::insert_segment(&mut tx, tenant, &new, false, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(segment)
    }

    async fn update_segment(&self, tenant: &TenantId, updated: &Segment) -> Result<Segment> {
        let sql = format!(
            "UPDATE segments SET name = $1, system_prompt = $2, welcome_message = $3, conversation_starters = $4, \
             is_active = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8 RETURNING {SEGMENT_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row = sqlx::query_as::<Db, SegmentRow>(sqlx::AssertSqlSafe(sql))
            .bind(&updated.name)
            .bind(&updated.system_prompt)
            .bind(&updated.welcome_message)
            .bind(to_json(&updated.conversation_starters)?)
            .bind(updated.is_active || updated.is_default)
            .bind(Timestamp::now().millis())
            .bind(tenant.as_str())
            .bind(updated.id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        row.into_segment()
    }

    async fn delete_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<SegmentDeletion> {
        let mut tx = self.begin_write().await?;
        let found: Option<(bool,)> = sqlx::query_as("SELECT is_default FROM segments WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        match found {
            None => return Ok(SegmentDeletion::NotFound),
            Some((true,)) => return Ok(SegmentDeletion::IsDefault),
            Some((false,)) => {}
        }
        // Its corpus entries become general: the search indexes must hear of it.
        let entries: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM corpus_entries WHERE tenant_id = $1 AND segment_id = $2")
                .bind(tenant.as_str())
                .bind(id.as_str())
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("UPDATE corpus_entries SET segment_id = NULL WHERE tenant_id = $1 AND segment_id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let entries: Vec<String> = entries.into_iter().map(|(e,)| e).collect();
        Self::record_kb_changes(&mut tx, tenant, "corpus", &entries).await?;
        sqlx::query("UPDATE tools SET segment_id = NULL WHERE tenant_id = $1 AND segment_id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM segments WHERE tenant_id = $1 AND id = $2 AND is_default = $3")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .bind(false)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(SegmentDeletion::Deleted)
    }
}
