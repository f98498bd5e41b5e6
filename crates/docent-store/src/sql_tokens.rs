// API token SQL shared by both backends (see the head of `sql.rs` for how it is included).

#[async_trait]
impl crate::TokenStore for ThisStore {
    async fn create_token(&self, tenant: &TenantId, new: NewToken) -> Result<ApiToken> {
        let token = ApiToken {
            id: TokenId::generate(),
            tenant_id: tenant.clone(),
            name: new.name,
            prefix: new.prefix,
            scopes: new.scopes,
            created_at: Timestamp::now(),
            last_used_at: None,
            expires_at: new.expires_at,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, name, prefix, token_hash, scopes, created_at, last_used_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)",
        )
        .bind(token.id.as_str())
        .bind(tenant.as_str())
        .bind(&token.name)
        .bind(&token.prefix)
        .bind(&new.hash)
        .bind(to_json(&token.scopes)?)
        .bind(token.created_at.millis())
        .bind(token.expires_at.map(Timestamp::millis))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn list_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, id");
        sqlx::query_as::<Db, TokenRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(TokenRow::into_token)
            .collect()
    }

    async fn delete_token(&self, tenant: &TenantId, id: &TokenId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM api_tokens WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        sqlx::query_as::<Db, TokenRow>(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?
            .map(TokenRow::into_token)
            .transpose()
    }

    async fn touch_token(&self, tenant: &TenantId, id: &TokenId, at: Timestamp) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(at.millis())
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
