// Corpus use-cases and the change sequence, shared by both backends (see the head of `sql.rs`).

#[async_trait]
impl crate::CorpusStore for ThisStore {
    async fn list_corpus(
        &self,
        tenant: &TenantId,
        query: &crate::CorpusQuery,
    ) -> Result<(Vec<docent_domain::corpus::CorpusEntry>, u64)> {
        let search = query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(like_pattern);
        let filter = "WHERE c.tenant_id = $1 AND ($2 IS NULL OR c.segment_id = $2) \
             AND ($3 IS NULL OR LOWER(c.title) LIKE $3 ESCAPE '\\' OR LOWER(c.content) LIKE $3 ESCAPE '\\')";
        let segment = query.segment.as_ref().map(SegmentId::as_str);
        let sql = format!("{ENTRY_SELECT} {filter} ORDER BY c.created_at DESC, c.id DESC LIMIT $4 OFFSET $5");
        let rows = sqlx::query_as::<Db, kb_rows::EntryRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(segment)
            .bind(search.as_deref())
            .bind(i64::from(query.limit))
            .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
            .fetch_all(&self.reader)
            .await?;
        let count_sql = format!("SELECT COUNT(*) FROM corpus_entries c {filter}");
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(count_sql))
            .bind(tenant.as_str())
            .bind(segment)
            .bind(search.as_deref())
            .fetch_one(&self.reader)
            .await?;
        let entries = rows.into_iter().map(kb_rows::EntryRow::into_entry).collect::<Result<Vec<_>>>()?;
        Ok((entries, count(total)))
    }

    async fn get_corpus(
        &self,
        tenant: &TenantId,
        id: &docent_domain::corpus::CorpusId,
    ) -> Result<Option<docent_domain::corpus::CorpusEntry>> {
        Self::entry_in(&self.reader, tenant, id.as_str()).await
    }

    async fn create_corpus(
        &self,
        tenant: &TenantId,
        fields: docent_domain::corpus::CorpusFields,
    ) -> Result<docent_domain::corpus::CorpusEntry> {
        let mut tx = self.begin_write().await?;
        let (id, _) = Self::write_entry(&mut tx, tenant, None, &fields, Timestamp::now()).await?;
        Self::record_kb_changes(&mut tx, tenant, "corpus", std::slice::from_ref(&id)).await?;
        let entry = Self::entry_in(&mut *tx, tenant, &id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn update_corpus(
        &self,
        tenant: &TenantId,
        id: &docent_domain::corpus::CorpusId,
        fields: docent_domain::corpus::CorpusFields,
    ) -> Result<docent_domain::corpus::CorpusEntry> {
        let mut tx = self.begin_write().await?;
        Self::write_entry(&mut tx, tenant, Some(id.as_str()), &fields, Timestamp::now()).await?;
        Self::record_kb_changes(&mut tx, tenant, "corpus", &[id.to_string()]).await?;
        let entry = Self::entry_in(&mut *tx, tenant, id.as_str()).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn delete_corpus(&self, tenant: &TenantId, id: &docent_domain::corpus::CorpusId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM corpus_entries WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::record_kb_changes(&mut tx, tenant, "corpus", &[id.to_string()]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn import_corpus(
        &self,
        tenant: &TenantId,
        entries: Vec<docent_domain::corpus::CorpusFields>,
    ) -> Result<crate::ImportCount> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await?;
        let mut counted = crate::ImportCount::default();
        let mut ids = Vec::with_capacity(entries.len());
        for fields in &entries {
            let (id, created) = Self::write_entry(&mut tx, tenant, None, fields, now).await?;
            if created {
                counted.created += 1
            } else {
                counted.updated += 1
            }
            ids.push(id);
        }
        Self::record_kb_changes(&mut tx, tenant, "corpus", &ids).await?;
        tx.commit().await?;
        Ok(counted)
    }

    async fn corpus_by_ids(
        &self,
        tenant: &TenantId,
        ids: &[String],
    ) -> Result<Vec<docent_domain::corpus::CorpusEntry>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            // COALESCE keeps SQLite's planner off the (tenant_id, …) index, which would scan every
            // entry of the tenant, and onto the primary key: a few lookups whatever the corpus size.
            let sql = format!(
                "{ENTRY_SELECT} WHERE c.id IN ({}) AND COALESCE(c.tenant_id, '') = $1",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<Db, kb_rows::EntryRow>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&self.reader).await? {
                out.push(row.into_entry()?);
            }
        }
        Ok(out)
    }

    async fn corpus_after(
        &self,
        tenant: &TenantId,
        after: &str,
        limit: u32,
    ) -> Result<Vec<docent_domain::corpus::CorpusEntry>> {
        let sql = format!("{ENTRY_SELECT} WHERE c.tenant_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3");
        sqlx::query_as::<Db, kb_rows::EntryRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(kb_rows::EntryRow::into_entry)
            .collect()
    }

    async fn kb_version(&self, tenant: &TenantId) -> Result<i64> {
        let (v,): (i64,) = sqlx::query_as("SELECT kb_version FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_one(&self.reader)
            .await?;
        Ok(v)
    }

    async fn kb_changes_since(&self, tenant: &TenantId, after: i64, limit: u32) -> Result<Vec<crate::KbChange>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT version, kind, item_id FROM kb_changes WHERE tenant_id = $1 AND version > $2 \
             ORDER BY version LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|(version, kind, item_id)| crate::KbChange { version, kind, item_id }).collect())
    }
}
