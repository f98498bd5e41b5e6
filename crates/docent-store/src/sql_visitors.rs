// Visitor and memory SQL shared by both backends (see the head of `sql.rs` for how it is included).

/// A new visitor's columns, bound `$1…$10` as id, tenant, email, display name, phone, auth
/// provider, external ID, metadata, created (and updated) at, search text.
const VISITOR_INSERT: &str = "INSERT INTO visitors (id, tenant_id, email, display_name, phone, auth_provider, \
     external_id, metadata, created_at, updated_at, search_text)";

#[async_trait]
impl crate::VisitorStore for ThisStore {
    async fn list_visitors(&self, tenant: &TenantId, query: &VisitorQuery) -> Result<(Vec<Visitor>, u64)> {
        let search = query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(like_pattern);
        let filter = if search.is_some() {
            "WHERE tenant_id = $1 AND search_text LIKE $2 ESCAPE '\\'"
        } else {
            "WHERE tenant_id = $1 AND $2 IS NULL"
        };
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let rows_sql = format!(
            "SELECT {VISITOR_COLUMNS} FROM visitors {filter} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query_as::<Db, VisitorRow>(sqlx::AssertSqlSafe(rows_sql))
            .bind(tenant.as_str())
            .bind(search.as_deref())
            .bind(i64::from(query.limit))
            .bind(offset)
            .fetch_all(&self.reader)
            .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM visitors {filter}")))
            .bind(tenant.as_str())
            .bind(search.as_deref())
            .fetch_one(&self.reader)
            .await?;
        let visitors = rows.into_iter().map(VisitorRow::into_visitor).collect::<Result<Vec<_>>>()?;
        Ok((visitors, count(total)))
    }

    async fn get_visitor(&self, tenant: &TenantId, id: &VisitorId) -> Result<Option<VisitorDetail>> {
        let sql = format!("SELECT {VISITOR_COLUMNS} FROM visitors WHERE tenant_id = $1 AND id = $2");
        let Some(row) = sqlx::query_as::<Db, VisitorRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?
        else {
            return Ok(None);
        };
        let (conversations, facts): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM conversations WHERE tenant_id = $1 AND visitor_id = $2), \
                    (SELECT COUNT(*) FROM memory_facts WHERE tenant_id = $1 AND visitor_id = $2)",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_one(&self.reader)
        .await?;
        Ok(Some(VisitorDetail {
            visitor: row.into_visitor()?,
            conversation_count: count(conversations),
            memory_fact_count: count(facts),
        }))
    }

    async fn create_visitor(&self, tenant: &TenantId, f: VisitorFields) -> Result<Visitor> {
        let now = Timestamp::now();
        let visitor = Visitor {
            id: VisitorId::generate(),
            email: f.email.clone(),
            display_name: f.display_name.clone(),
            phone: f.phone.clone(),
            auth_provider: f.auth_provider.clone(),
            external_id: f.external_id.clone(),
            metadata: f.metadata.clone(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.begin_write().await?;
        Self::visitor_conflict(&mut tx, tenant, None, &f).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("{VISITOR_INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)")))
        .bind(visitor.id.as_str())
        .bind(tenant.as_str())
        .bind(&f.email)
        .bind(&f.display_name)
        .bind(&f.phone)
        .bind(&f.auth_provider)
        .bind(&f.external_id)
        .bind(to_json(&f.metadata)?)
        .bind(now.millis())
        .bind(search_text(&f))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(visitor)
    }

    async fn find_or_create_visitor(&self, tenant: &TenantId, f: VisitorFields) -> Result<Visitor> {
        let Some(external) = f.external_id.clone() else {
            let message = "a visitor found by external ID needs one".to_owned();
            return Err(StorageError::Invalid { field: "externalId".into(), message });
        };
        let now = Timestamp::now().millis();
        let mut batch = WriteBatch::default();
        // `DO NOTHING` without a target covers both unique indexes: the external ID (another
        // caller created it first) and the email (refused below, as nothing of this ID exists).
        batch.push(
            format!(
                "{VISITOR_INSERT} SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10 \
                 WHERE NOT EXISTS (SELECT 1 FROM visitors WHERE tenant_id = $2 AND external_id = $7) ON CONFLICT DO NOTHING"
            ),
            vec![
                SqlArg::Text(VisitorId::generate().to_string()),
                SqlArg::Text(tenant.to_string()),
                SqlArg::OptText(f.email.clone()),
                SqlArg::OptText(f.display_name.clone()),
                SqlArg::OptText(f.phone.clone()),
                SqlArg::OptText(f.auth_provider.clone()),
                SqlArg::Text(external.clone()),
                SqlArg::Text(to_json(&f.metadata)?),
                SqlArg::Int(now),
                SqlArg::Text(search_text(&f)),
            ],
        );
        let select = format!("SELECT {VISITOR_COLUMNS} FROM visitors WHERE tenant_id = $1 AND external_id = $2");
        let args = vec![SqlArg::Text(tenant.to_string()), SqlArg::Text(external)];
        let parts = self.write_then_read(batch, vec![(select.into(), args)]).await?;
        match first_row(parts) {
            Some(row) => decode_owned::<VisitorRow>(row)?.into_visitor(),
            None => Err(StorageError::conflict("email")),
        }
    }

    async fn update_visitor(&self, tenant: &TenantId, id: &VisitorId, f: VisitorFields) -> Result<Visitor> {
        let sql = format!(
            "UPDATE visitors SET email = $1, display_name = $2, phone = $3, auth_provider = $4, external_id = $5, \
             metadata = $6, updated_at = $7, search_text = $10 WHERE tenant_id = $8 AND id = $9 \
             RETURNING {VISITOR_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        Self::visitor_conflict(&mut tx, tenant, Some(id), &f).await?;
        let row = sqlx::query_as::<Db, VisitorRow>(sqlx::AssertSqlSafe(sql))
            .bind(&f.email)
            .bind(&f.display_name)
            .bind(&f.phone)
            .bind(&f.auth_provider)
            .bind(&f.external_id)
            .bind(to_json(&f.metadata)?)
            .bind(Timestamp::now().millis())
            .bind(tenant.as_str())
            .bind(id.as_str())
            .bind(search_text(&f))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        row.into_visitor()
    }

    async fn delete_visitor(&self, tenant: &TenantId, id: &VisitorId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        Self::rollup_forget_visitor(&mut tx, tenant, id).await?;
        // Foreign keys cascade to conversations (and their messages) and memory facts.
        let done = sqlx::query("DELETE FROM visitors WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // What the visitor's conversations said is not kept in memory either.
        self.histories.forget_tenant(tenant);
        Ok(done.rows_affected() > 0)
    }

    async fn list_memory(&self, tenant: &TenantId, visitor: &VisitorId) -> Result<Vec<MemoryFact>> {
        if !self.visitor_exists(tenant, visitor).await? {
            return Err(StorageError::NotFound);
        }
        let rows: Vec<FactRow> = sqlx::query_as(
            "SELECT key, value, created_at, updated_at FROM memory_facts WHERE tenant_id = $1 AND visitor_id = $2 \
             ORDER BY key",
        )
        .bind(tenant.as_str())
        .bind(visitor.as_str())
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(MemoryFact::from).collect())
    }

    async fn upsert_memory(
        &self,
        tenant: &TenantId,
        visitor: &VisitorId,
        key: &str,
        value: &str,
    ) -> Result<(MemoryFact, bool)> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await?;
        let owner: Option<(String,)> = sqlx::query_as("SELECT id FROM visitors WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(visitor.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if owner.is_none() {
            return Err(StorageError::NotFound);
        }
        // Whether the insert happened says "created"; comparing timestamps would not, as a
        // replace can land in the same millisecond. On PostgreSQL, `DO NOTHING` waits for a
        // concurrent insert of the same key to commit, so exactly one caller sees `created`.
        let inserted = sqlx::query(
            "INSERT INTO memory_facts (tenant_id, visitor_id, key, value, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (visitor_id, key) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(visitor.as_str())
        .bind(key)
        .bind(value)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let row: FactRow = sqlx::query_as(
            "UPDATE memory_facts SET value = $1, updated_at = $2 WHERE tenant_id = $3 AND visitor_id = $4 AND key = $5 \
             RETURNING key, value, created_at, updated_at",
        )
        .bind(value)
        .bind(now.millis())
        .bind(tenant.as_str())
        .bind(visitor.as_str())
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((row.into(), inserted.rows_affected() == 1))
    }

    async fn remember_fact(&self, tenant: &TenantId, visitor: &VisitorId, key: &str, value: &str) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.push(
            "INSERT INTO memory_facts (tenant_id, visitor_id, key, value, created_at, updated_at) \
             SELECT tenant_id, id, $3, $4, $5, $5 FROM visitors WHERE tenant_id = $1 AND id = $2 \
             ON CONFLICT (visitor_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            vec![
                SqlArg::Text(tenant.to_string()),
                SqlArg::Text(visitor.to_string()),
                SqlArg::Text(key.to_owned()),
                SqlArg::Text(value.to_owned()),
                SqlArg::Int(Timestamp::now().millis()),
            ],
        );
        let owner = "SELECT id FROM visitors WHERE tenant_id = $1 AND id = $2".into();
        let args = vec![SqlArg::Text(tenant.to_string()), SqlArg::Text(visitor.to_string())];
        let parts = self.write_then_read(batch, vec![(owner, args)]).await?;
        match parts.first().is_some_and(|rows| !rows.is_empty()) {
            true => Ok(()),
            false => Err(StorageError::NotFound),
        }
    }

    async fn get_memory(&self, tenant: &TenantId, visitor: &VisitorId, key: &str) -> Result<Option<MemoryFact>> {
        let row: Option<FactRow> = sqlx::query_as(
            "SELECT key, value, created_at, updated_at FROM memory_facts \
             WHERE tenant_id = $1 AND visitor_id = $2 AND key = $3",
        )
        .bind(tenant.as_str())
        .bind(visitor.as_str())
        .bind(key)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(MemoryFact::from))
    }

    async fn delete_memory(&self, tenant: &TenantId, visitor: &VisitorId, key: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM memory_facts WHERE tenant_id = $1 AND visitor_id = $2 AND key = $3")
            .bind(tenant.as_str())
            .bind(visitor.as_str())
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
