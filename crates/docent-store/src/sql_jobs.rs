// Job queue SQL shared by both backends (see the head of `sql.rs` for how it is included).

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    tenant_id: String,
    kind: String,
    payload: String,
    attempts: i64,
    created_at: i64,
}

#[async_trait]
impl crate::JobStore for ThisStore {
    async fn enqueue_job(&self, tenant: &TenantId, kind: &str, payload: &serde_json::Value) -> Result<String> {
        let now = Timestamp::now();
        let id = format!("job_{}", secret_suffix());
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO jobs (id, tenant_id, kind, payload, status, attempts, next_attempt_at, locked_until, \
             last_error, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, NULL, NULL, $5, $5)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(kind)
        .bind(to_json(payload)?)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<docent_domain::conversation::Job>> {
        let mut tx = self.begin_write().await?;
        let due: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM jobs WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now.millis())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for (id,) in due {
            // Re-checked in the UPDATE so two replicas never both claim one job.
            let row: Option<JobRow> = sqlx::query_as(
                "UPDATE jobs SET locked_until = $1, attempts = attempts + 1, updated_at = $2 \
                 WHERE id = $3 AND status = 'pending' AND (locked_until IS NULL OR locked_until < $2) \
                 RETURNING id, tenant_id, kind, payload, attempts, created_at",
            )
            .bind(now.millis() + lease_ms)
            .bind(now.millis())
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(r) = row {
                claimed.push(docent_domain::conversation::Job {
                    id: r.id,
                    tenant_id: TenantId::from_stored(r.tenant_id),
                    kind: r.kind,
                    payload: json_column("job payload", &r.payload)?,
                    attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                    created_at: Timestamp::from_millis(r.created_at),
                });
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn complete_job(&self, id: &str) -> Result<()> {
        self.set_job(id, "done", None, None).await
    }

    async fn retry_job(&self, id: &str, next_attempt_at: Timestamp, error: &str) -> Result<()> {
        self.set_job(id, "pending", Some(next_attempt_at), Some(error)).await
    }

    async fn fail_job(&self, id: &str, error: &str) -> Result<()> {
        self.set_job(id, "failed", None, Some(error)).await
    }

    async fn job_state(&self, id: &str) -> Result<Option<(String, u32, Option<String>)>> {
        let row: Option<(String, i64, Option<String>)> =
            sqlx::query_as("SELECT status, attempts, last_error FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(|(s, a, e)| (s, u32::try_from(a).unwrap_or(u32::MAX), e)))
    }
}

impl ThisStore {
    async fn set_job(&self, id: &str, status: &str, next: Option<Timestamp>, error: Option<&str>) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE jobs SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), locked_until = NULL, \
             last_error = COALESCE($3, last_error), updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(next.map(Timestamp::millis))
        .bind(error)
        .bind(now.millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
