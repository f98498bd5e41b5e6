// Quote use-cases shared by both backends (see the head of `sql.rs` for how it is included).
//
// A quote's number comes from the tenant's counter row for the year, bumped by an upsert in the
// transaction that inserts the quote: on PostgreSQL the row lock makes a concurrent insert wait
// for this one to commit (then read the new value); on SQLite writes are serialized by
// `BEGIN IMMEDIATE`. A failed insert rolls the counter back, so numbers have no gaps.

mod quote_rows {
    #[derive(sqlx::FromRow)]
    pub(super) struct QuoteRow {
        pub id: String,
        pub number: String,
        pub tool_id: Option<String>,
        pub conversation_id: Option<String>,
        pub visitor_id: Option<String>,
        pub customer_name: String,
        pub customer_email: String,
        pub lines: String,
        pub subtotal: i64,
        pub discount: i64,
        pub vat: Option<i64>,
        pub total: i64,
        pub currency: String,
        pub created_at: i64,
    }
}

const QUOTE_COLUMNS: &str = "id, number, tool_id, conversation_id, visitor_id, customer_name, customer_email, \
                             lines, subtotal, discount, vat, total, currency, created_at";

impl quote_rows::QuoteRow {
    fn into_quote(self) -> Result<docent_domain::quote::Quote> {
        Ok(docent_domain::quote::Quote {
            id: docent_domain::QuoteId::from_stored(self.id),
            number: self.number,
            tool_id: self.tool_id.map(ToolId::from_stored),
            conversation_id: self.conversation_id.map(ConversationId::from_stored),
            visitor_id: self.visitor_id.map(VisitorId::from_stored),
            customer_name: self.customer_name,
            customer_email: self.customer_email,
            lines: json_column("quote lines", &self.lines)?,
            subtotal: self.subtotal,
            discount: self.discount,
            vat: self.vat,
            total: self.total,
            currency: self.currency,
            created_at: Timestamp::from_millis(self.created_at),
        })
    }
}

#[async_trait]
impl crate::QuoteStore for ThisStore {
    async fn create_quote(
        &self,
        tenant: &TenantId,
        new: docent_domain::quote::NewQuote,
    ) -> Result<docent_domain::quote::Quote> {
        let now = Timestamp::now();
        let year = docent_domain::quote::year_of(now);
        let mut tx = self.begin_write().await?;
        let (sequence,): (i64,) = sqlx::query_as(
            "INSERT INTO quote_counters (tenant_id, year, last_number) VALUES ($1, $2, 1) \
             ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = quote_counters.last_number + 1 \
             RETURNING last_number",
        )
        .bind(tenant.as_str())
        .bind(i64::from(year))
        .fetch_one(&mut *tx)
        .await?;
        let c = &new.computed;
        let quote = docent_domain::quote::Quote {
            id: docent_domain::QuoteId::generate(),
            number: docent_domain::quote::quote_number(year, sequence),
            tool_id: new.tool_id,
            conversation_id: new.conversation_id,
            visitor_id: new.visitor_id,
            customer_name: new.customer_name,
            customer_email: new.customer_email,
            lines: c.lines.clone(),
            subtotal: c.subtotal,
            discount: c.discount,
            vat: c.vat,
            total: c.total,
            currency: c.currency.clone(),
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO quotes (id, tenant_id, conversation_id, visitor_id, tool_id, number, customer_name, \
             customer_email, lines, subtotal, discount, vat, total, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(quote.id.as_str())
        .bind(tenant.as_str())
        .bind(quote.conversation_id.as_ref().map(ConversationId::as_str))
        .bind(quote.visitor_id.as_ref().map(VisitorId::as_str))
        .bind(quote.tool_id.as_ref().map(ToolId::as_str))
        .bind(&quote.number)
        .bind(&quote.customer_name)
        .bind(&quote.customer_email)
        .bind(to_json(&quote.lines)?)
        .bind(quote.subtotal)
        .bind(quote.discount)
        .bind(quote.vat)
        .bind(quote.total)
        .bind(&quote.currency)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(quote)
    }

    async fn list_quotes(&self, tenant: &TenantId) -> Result<Vec<docent_domain::quote::Quote>> {
        let sql = format!("SELECT {QUOTE_COLUMNS} FROM quotes WHERE tenant_id = $1 ORDER BY created_at, number");
        let rows = sqlx::query_as::<Db, quote_rows::QuoteRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(quote_rows::QuoteRow::into_quote).collect()
    }

    async fn quote_by_number(&self, tenant: &TenantId, number: &str) -> Result<Option<docent_domain::quote::Quote>> {
        let sql = format!("SELECT {QUOTE_COLUMNS} FROM quotes WHERE tenant_id = $1 AND number = $2");
        sqlx::query_as::<Db, quote_rows::QuoteRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(number)
            .fetch_optional(&self.reader)
            .await?
            .map(quote_rows::QuoteRow::into_quote)
            .transpose()
    }
}
