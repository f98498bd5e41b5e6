// Corpus and product SQL shared by both backends (see the head of `sql.rs` for how it is
// included). Every write records its items in `kb_changes` under versions taken from
// `tenants.kb_version`, in the writing transaction.

mod kb_rows {
    #[derive(sqlx::FromRow)]
    pub(super) struct EntryRow {
        pub id: String,
        pub segment_id: Option<String>,
        pub segment_slug: Option<String>,
        pub title: String,
        pub content: String,
        pub summary: Option<String>,
        pub priority: i64,
        pub tags: String,
        pub entry_key: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(sqlx::FromRow)]
    pub(super) struct ProductRow {
        pub id: String,
        pub sku: String,
        pub name: String,
        pub description: Option<String>,
        pub price: i64,
        pub currency: String,
        pub url: Option<String>,
        pub image_url: Option<String>,
        pub tags: String,
        pub in_stock: bool,
        pub attributes: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const ENTRY_SELECT: &str = "SELECT c.id, c.segment_id, s.slug AS segment_slug, c.title, c.content, c.summary, \
     c.priority, c.tags, c.entry_key, c.created_at, c.updated_at FROM corpus_entries c \
     LEFT JOIN segments s ON s.id = c.segment_id";

const PRODUCT_COLUMNS: &str = "id, sku, name, description, price, currency, url, image_url, tags, in_stock, \
     attributes, created_at, updated_at";

impl kb_rows::EntryRow {
    fn into_entry(self) -> Result<docent_domain::corpus::CorpusEntry> {
        Ok(docent_domain::corpus::CorpusEntry {
            id: docent_domain::corpus::CorpusId::from_stored(self.id),
            title: self.title,
            content: self.content,
            summary: self.summary,
            segment: self.segment_slug,
            segment_id: self.segment_id.map(SegmentId::from_stored),
            priority: u8::try_from(self.priority).unwrap_or(5),
            tags: json_column("corpus tags", &self.tags)?,
            key: self.entry_key,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

impl kb_rows::ProductRow {
    fn into_product(self) -> Result<docent_domain::product::Product> {
        Ok(docent_domain::product::Product {
            id: docent_domain::product::ProductId::from_stored(self.id),
            sku: self.sku,
            name: self.name,
            description: self.description,
            price: self.price,
            currency: self.currency,
            url: self.url,
            image_url: self.image_url,
            tags: json_column("product tags", &self.tags)?,
            in_stock: self.in_stock,
            attributes: json_column("product attributes", &self.attributes)?,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

impl ThisStore {
    /// Records that `items` of `kind` changed, under fresh versions of the tenant's sequence.
    async fn record_kb_changes(
        tx: &mut WriteTx,
        tenant: &TenantId,
        kind: &str,
        items: &[String],
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let (last,): (i64,) =
            sqlx::query_as("UPDATE tenants SET kb_version = kb_version + $1 WHERE id = $2 RETURNING kb_version")
                .bind(n)
                .bind(tenant.as_str())
                .fetch_one(&mut **tx)
                .await?;
        for (i, item) in items.iter().enumerate() {
            sqlx::query("INSERT INTO kb_changes (tenant_id, version, kind, item_id) VALUES ($1, $2, $3, $4)")
                .bind(tenant.as_str())
                .bind(last - n + 1 + i64::try_from(i).unwrap_or(0))
                .bind(kind)
                .bind(item)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn entry_in(
        executor: impl sqlx::Executor<'_, Database = Db>,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<docent_domain::corpus::CorpusEntry>> {
        let sql = format!("{ENTRY_SELECT} WHERE c.tenant_id = $1 AND c.id = $2");
        sqlx::query_as::<Db, kb_rows::EntryRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(executor)
            .await?
            .map(kb_rows::EntryRow::into_entry)
            .transpose()
    }

    async fn write_entry(
        tx: &mut WriteTx,
        tenant: &TenantId,
        id: Option<&str>,
        f: &docent_domain::corpus::CorpusFields,
        now: Timestamp,
    ) -> Result<(String, bool)> {
        Self::check_segment(tx, tenant, f.segment_id.as_ref()).await?;
        // An entry with a known key is updated in place: imports are idempotent.
        let existing = match (id, &f.key) {
            (Some(id), _) => Some(id.to_owned()),
            (None, Some(key)) => {
                let found: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM corpus_entries WHERE tenant_id = $1 AND entry_key = $2")
                        .bind(tenant.as_str())
                        .bind(key)
                        .fetch_optional(&mut **tx)
                        .await?;
                found.map(|(id,)| id)
            }
            (None, None) => None,
        };
        let tags = to_json(&f.tags)?;
        let segment = f.segment_id.as_ref().map(SegmentId::as_str);
        let priority = i64::from(f.priority);
        if let Some(id) = existing {
            let done = sqlx::query(
                "UPDATE corpus_entries SET segment_id = $1, title = $2, content = $3, summary = $4, priority = $5, \
                 tags = $6, entry_key = COALESCE($7, entry_key), updated_at = $8 WHERE tenant_id = $9 AND id = $10",
            )
            .bind(segment)
            .bind(&f.title)
            .bind(&f.content)
            .bind(&f.summary)
            .bind(priority)
            .bind(&tags)
            .bind(&f.key)
            .bind(now.millis())
            .bind(tenant.as_str())
            .bind(&id)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StorageError::NotFound);
            }
            return Ok((id, false));
        }
        let id = docent_domain::corpus::CorpusId::generate().to_string();
        sqlx::query(
            "INSERT INTO corpus_entries (id, tenant_id, segment_id, title, content, summary, priority, tags, entry_key, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(segment)
        .bind(&f.title)
        .bind(&f.content)
        .bind(&f.summary)
        .bind(priority)
        .bind(&tags)
        .bind(&f.key)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
        Ok((id, true))
    }

    async fn write_product(
        tx: &mut WriteTx,
        tenant: &TenantId,
        id: Option<&str>,
        f: &docent_domain::product::ProductFields,
        now: Timestamp,
    ) -> Result<(String, bool)> {
        let clash: Option<(String,)> = sqlx::query_as("SELECT id FROM products WHERE tenant_id = $1 AND sku = $2")
            .bind(tenant.as_str())
            .bind(&f.sku)
            .fetch_optional(&mut **tx)
            .await?;
        // Without an id, a known sku is updated (imports are idempotent on sku).
        let existing = match (id, clash) {
            (Some(id), Some((other,))) if other != id => return Err(StorageError::conflict("sku")),
            (Some(id), _) => Some(id.to_owned()),
            (None, found) => found.map(|(id,)| id),
        };
        let (tags, attributes) = (to_json(&f.tags)?, to_json(&f.attributes)?);
        if let Some(id) = existing {
            let done = sqlx::query(
                "UPDATE products SET sku = $1, name = $2, description = $3, price = $4, currency = $5, url = $6, \
                 image_url = $7, tags = $8, in_stock = $9, attributes = $10, updated_at = $11 \
                 WHERE tenant_id = $12 AND id = $13",
            )
            .bind(&f.sku)
            .bind(&f.name)
            .bind(&f.description)
            .bind(f.price)
            .bind(&f.currency)
            .bind(&f.url)
            .bind(&f.image_url)
            .bind(&tags)
            .bind(f.in_stock)
            .bind(&attributes)
            .bind(now.millis())
            .bind(tenant.as_str())
            .bind(&id)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StorageError::NotFound);
            }
            return Ok((id, false));
        }
        let id = docent_domain::product::ProductId::generate().to_string();
        sqlx::query(
            "INSERT INTO products (id, tenant_id, sku, name, description, price, currency, url, image_url, tags, \
             in_stock, attributes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(&f.sku)
        .bind(&f.name)
        .bind(&f.description)
        .bind(f.price)
        .bind(&f.currency)
        .bind(&f.url)
        .bind(&f.image_url)
        .bind(&tags)
        .bind(f.in_stock)
        .bind(&attributes)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
        Ok((id, true))
    }
}
