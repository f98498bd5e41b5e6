// Tool SQL shared by both backends (see the head of `sql.rs` for how it is included).

#[async_trait]
impl crate::ToolStore for ThisStore {
    async fn list_tools(&self, tenant: &TenantId) -> Result<Vec<Tool>> {
        let sql = format!("{TOOL_SELECT} WHERE t.tenant_id = $1 ORDER BY t.position, t.created_at, t.id");
        sqlx::query_as::<Db, ToolRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(ToolRow::into_tool)
            .collect()
    }

    async fn get_tool(&self, tenant: &TenantId, id: &ToolId) -> Result<Option<Tool>> {
        let sql = format!("{TOOL_SELECT} WHERE t.tenant_id = $1 AND t.id = $2");
        sqlx::query_as::<Db, ToolRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(ToolRow::into_tool)
            .transpose()
    }

    async fn create_tool(&self, tenant: &TenantId, f: ToolFields) -> Result<Tool> {
        let id = ToolId::generate();
        let now = Timestamp::now();
        let mut tx = self.begin_write().await?;
        Self::check_segment(&mut tx, tenant, f.segment_id.as_ref()).await?;
        let position = match f.position {
            Some(p) => p,
            None => {
                let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(position) FROM tools WHERE tenant_id = $1")
                    .bind(tenant.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                max.unwrap_or(0) + 1
            }
        };
        sqlx::query(
            "INSERT INTO tools (id, tenant_id, name, description, tool_type, config, position, is_active, \
             segment_id, webhook_url, webhook_secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(&f.name)
        .bind(&f.description)
        .bind(f.tool_type.as_str())
        .bind(to_json(&f.config)?)
        .bind(position)
        .bind(f.is_active)
        .bind(f.segment_id.as_ref().map(SegmentId::as_str))
        .bind(&f.webhook_url)
        .bind(&f.webhook_secret)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let tool = Self::tool_in(&mut tx, tenant, &id).await?;
        tx.commit().await?;
        Ok(tool)
    }

    async fn update_tool(&self, tenant: &TenantId, id: &ToolId, f: ToolFields) -> Result<Tool> {
        let mut tx = self.begin_write().await?;
        Self::check_segment(&mut tx, tenant, f.segment_id.as_ref()).await?;
        let done = sqlx::query(
            "UPDATE tools SET name = $1, description = $2, config = $3, position = COALESCE($4, position), \
             is_active = $5, segment_id = $6, webhook_url = $7, webhook_secret = $8, updated_at = $9 \
             WHERE tenant_id = $10 AND id = $11",
        )
        .bind(&f.name)
        .bind(&f.description)
        .bind(to_json(&f.config)?)
        .bind(f.position)
        .bind(f.is_active)
        .bind(f.segment_id.as_ref().map(SegmentId::as_str))
        .bind(&f.webhook_url)
        .bind(&f.webhook_secret)
        .bind(Timestamp::now().millis())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        let tool = Self::tool_in(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(tool)
    }

    async fn delete_tool(&self, tenant: &TenantId, id: &ToolId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM tools WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
