// Product catalog use-cases shared by both backends (see the head of `sql.rs`).

impl ThisStore {
    async fn product_in(
        executor: impl sqlx::Executor<'_, Database = Db>,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<docent_domain::product::Product>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1 AND id = $2");
        sqlx::query_as::<Db, kb_rows::ProductRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(executor)
            .await?
            .map(kb_rows::ProductRow::into_product)
            .transpose()
    }
}

#[async_trait]
impl crate::ProductStore for ThisStore {
    async fn list_products(
        &self,
        tenant: &TenantId,
        limit: u32,
        offset: u64,
        search: Option<&str>,
    ) -> Result<(Vec<docent_domain::product::Product>, u64)> {
        let search = search.map(str::trim).filter(|s| !s.is_empty()).map(like_pattern);
        let filter = "WHERE tenant_id = $1 AND ($2 IS NULL OR LOWER(name) LIKE $2 ESCAPE '\\' \
             OR LOWER(sku) LIKE $2 ESCAPE '\\')";
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products {filter} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query_as::<Db, kb_rows::ProductRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(search.as_deref())
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&self.reader)
            .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM products {filter}")))
            .bind(tenant.as_str())
            .bind(search.as_deref())
            .fetch_one(&self.reader)
            .await?;
        let products = rows.into_iter().map(kb_rows::ProductRow::into_product).collect::<Result<Vec<_>>>()?;
        Ok((products, count(total)))
    }

    async fn get_product(
        &self,
        tenant: &TenantId,
        id: &docent_domain::product::ProductId,
    ) -> Result<Option<docent_domain::product::Product>> {
        Self::product_in(&self.reader, tenant, id.as_str()).await
    }

    async fn create_product(
        &self,
        tenant: &TenantId,
        fields: docent_domain::product::ProductFields,
    ) -> Result<docent_domain::product::Product> {
        let mut tx = self.begin_write().await?;
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM products WHERE tenant_id = $1 AND sku = $2")
            .bind(tenant.as_str())
            .bind(&fields.sku)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StorageError::conflict("sku"));
        }
        let (id, _) = Self::write_product(&mut tx, tenant, None, &fields, Timestamp::now()).await?;
        Self::record_kb_changes(&mut tx, tenant, "product", std::slice::from_ref(&id)).await?;
        let product = Self::product_in(&mut *tx, tenant, &id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await?;
        Ok(product)
    }

    async fn update_product(
        &self,
        tenant: &TenantId,
        id: &docent_domain::product::ProductId,
        fields: docent_domain::product::ProductFields,
    ) -> Result<docent_domain::product::Product> {
        let mut tx = self.begin_write().await?;
        Self::write_product(&mut tx, tenant, Some(id.as_str()), &fields, Timestamp::now()).await?;
        Self::record_kb_changes(&mut tx, tenant, "product", &[id.to_string()]).await?;
        let product = Self::product_in(&mut *tx, tenant, id.as_str()).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await?;
        Ok(product)
    }

    async fn delete_product(&self, tenant: &TenantId, id: &docent_domain::product::ProductId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM products WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::record_kb_changes(&mut tx, tenant, "product", &[id.to_string()]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn import_products(
        &self,
        tenant: &TenantId,
        products: Vec<docent_domain::product::ProductFields>,
    ) -> Result<crate::ImportCount> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await?;
        let mut counted = crate::ImportCount::default();
        let mut ids = Vec::with_capacity(products.len());
        for fields in &products {
            let (id, created) = Self::write_product(&mut tx, tenant, None, fields, now).await?;
            if created {
                counted.created += 1
            } else {
                counted.updated += 1
            }
            ids.push(id);
        }
        Self::record_kb_changes(&mut tx, tenant, "product", &ids).await?;
        tx.commit().await?;
        Ok(counted)
    }

    async fn products_by_ids(&self, tenant: &TenantId, ids: &[String]) -> Result<Vec<docent_domain::product::Product>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                // COALESCE: primary-key lookups rather than a scan of the tenant's index (see corpus).
                "SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN ({}) AND COALESCE(tenant_id, '') = $1",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<Db, kb_rows::ProductRow>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&self.reader).await? {
                out.push(row.into_product()?);
            }
        }
        Ok(out)
    }

    async fn products_after(
        &self,
        tenant: &TenantId,
        after: &str,
        limit: u32,
    ) -> Result<Vec<docent_domain::product::Product>> {
        let sql =
            format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        sqlx::query_as::<Db, kb_rows::ProductRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(kb_rows::ProductRow::into_product)
            .collect()
    }

    async fn count_products(&self, tenant: &TenantId) -> Result<u64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM products WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&self.reader)
            .await?;
        Ok(count(n))
    }
}
