// Building SQL at run time, shared by both backends (see the head of `sql.rs` for how it is
// included): bind values, `WHERE` clauses numbered `$1…` in order, and the conditions of the
// owner history and rollup queries. Included before the files that use `bind_sql_args!`.

/// Bind values of SQL built at run time (filters, multi-row inserts).
#[derive(Clone, Debug)]
enum SqlArg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
}

macro_rules! bind_sql_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                SqlArg::Text(v) => q.bind(v),
                SqlArg::OptText(v) => q.bind(v),
                SqlArg::Int(v) => q.bind(v),
                SqlArg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

/// A row `write_then_read` returns (SQLite's group-commit thread reads its rows without sqlx):
/// its values, with the column names its select's rows share.
struct OwnedRow {
    columns: std::sync::Arc<[String]>,
    values: Vec<serde_json::Value>,
}

/// Decodes a row `write_then_read` returned, by column name.
fn decode_owned<R: serde::de::DeserializeOwned>(row: OwnedRow) -> Result<R> {
    let fields = row.columns.iter().map(String::as_str).zip(row.values);
    R::deserialize(serde::de::value::MapDeserializer::<_, serde_json::Error>::new(fields))
        .map_err(|e| StorageError::corrupt(format!("a row: {e}")))
}

/// The first row of the first select `write_then_read` ran, if it found one.
fn first_row(parts: Vec<Vec<OwnedRow>>) -> Option<OwnedRow> {
    parts.into_iter().next().and_then(|rows| rows.into_iter().next())
}

/// One column of a row `write_then_read` returned.
fn owned_column<T: serde::de::DeserializeOwned>(row: &OwnedRow, column: &str) -> Result<T> {
    let at = row.columns.iter().position(|c| c == column);
    let value = at.and_then(|at| row.values.get(at)).ok_or_else(|| StorageError::corrupt(format!("no column {column}")))?;
    T::deserialize(value).map_err(|e| StorageError::corrupt(format!("column {column}: {e}")))
}

/// A statement's text: most are fixed (`&'static str`, or built once), some built per call.
type Sql = std::borrow::Cow<'static, str>;

/// Statement texts of a few shapes, each built the first time it is used: for the statements of
/// every chat turn, which would otherwise be formatted again for each turn.
struct Shapes<const N: usize>([std::sync::OnceLock<String>; N]);

impl<const N: usize> Shapes<N> {
    const fn new() -> Self {
        Self([const { std::sync::OnceLock::new() }; N])
    }

    /// The text of shape `i`, `build` making it the first time.
    fn get(&'static self, i: usize, build: impl FnOnce() -> String) -> Sql {
        Sql::Borrowed(self.0[i].get_or_init(build))
    }
}

/// Write statements sent together. On SQLite they go as one multi-statement command, one round
/// trip to the connection's thread instead of one per statement (`$n` placeholders renumbered
/// across the statements: SQLite binds `$n` by number); PostgreSQL's extended protocol takes one
/// statement per command, so there they run one after another. Run inside the caller's
/// transaction: a failing statement fails the batch, and the transaction with it.
#[derive(Default)]
struct WriteBatch {
    statements: Vec<(Sql, Vec<SqlArg>)>,
}

impl WriteBatch {
    /// Adds a statement numbered `$1…` on its own.
    fn push(&mut self, sql: impl Into<Sql>, args: Vec<SqlArg>) {
        self.statements.push((sql.into(), args));
    }

    async fn run(self, conn: &mut <Db as sqlx::Database>::Connection) -> Result<()> {
        if !MULTI_STATEMENT_COMMANDS {
            for (sql, args) in self.statements {
                let q = sqlx::query::<Db>(sqlx::AssertSqlSafe(sql));
                bind_sql_args!(q, args).execute(&mut *conn).await?;
            }
            return Ok(());
        }
        if self.statements.is_empty() {
            return Ok(());
        }
        let mut sql = String::new();
        let mut args = Vec::new();
        self.append_to(&mut sql, &mut args);
        let q = sqlx::query::<Db>(sqlx::AssertSqlSafe(sql));
        bind_sql_args!(q, args).execute(&mut *conn).await?;
        Ok(())
    }

    /// Appends the statements to one multi-statement command and its arguments.
    fn append_to(&self, sql: &mut String, args: &mut Vec<SqlArg>) {
        for (statement, statement_args) in &self.statements {
            renumber_into(sql, statement, args.len());
            sql.push_str(";\n");
            args.extend(statement_args.iter().cloned());
        }
    }
}

/// Appends `sql` with each `$n` placeholder shifted by `offset` (no `$` may appear in literals).
fn renumber_into(out: &mut String, sql: &str, offset: usize) {
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
}

/// A `WHERE` clause and its arguments, numbered `$1…` in order.
#[derive(Default)]
struct SqlWhere {
    conditions: Vec<String>,
    args: Vec<SqlArg>,
}

impl SqlWhere {
    fn arg(&mut self, arg: SqlArg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds a condition where `{}` stands for the new argument's placeholder.
    fn add(&mut self, condition: &str, arg: SqlArg) {
        let placeholder = self.arg(arg);
        self.conditions.push(condition.replace("{}", &placeholder));
    }

    fn sql(&self) -> String {
        self.conditions.join(" AND ")
    }
}

/// The conditions on `conversations c` for `filter`, with the window narrowed to `[from, to)`.
fn conversation_conditions(
    tenant: &TenantId,
    filter: &docent_domain::analytics::ConversationFilter,
    from: Option<i64>,
    to: Option<i64>,
) -> SqlWhere {
    let mut w = SqlWhere::default();
    w.add("c.tenant_id = {}", SqlArg::Text(tenant.as_str().to_owned()));
    if let Some(from) = from {
        w.add("c.started_at >= {}", SqlArg::Int(from));
    }
    if let Some(to) = to {
        w.add("c.started_at < {}", SqlArg::Int(to));
    }
    if let Some(channel) = &filter.channel {
        w.add("c.channel = {}", SqlArg::Text(channel.clone()));
    }
    if let Some(segment) = &filter.segment_id {
        w.add("c.segment_id = {}", SqlArg::Text(segment.as_str().to_owned()));
    }
    if let Some(visitor) = &filter.visitor_id {
        w.add("c.visitor_id = {}", SqlArg::Text(visitor.as_str().to_owned()));
    }
    if let Some(status) = &filter.status {
        w.add("c.status = {}", SqlArg::Text(status.clone()));
    }
    if let Some(tool_type) = &filter.tool_type {
        w.add(
            "EXISTS (SELECT 1 FROM tool_executions t WHERE t.tenant_id = c.tenant_id AND t.tool_type = {} \
             AND t.conversation_id = c.id)",
            SqlArg::Text(tool_type.clone()),
        );
    }
    w
}

/// The conditions on a rollup table for a rollup-friendly filter over days `[from, to)`.
fn rollup_conditions(
    tenant: &TenantId,
    channel: Option<&str>,
    segment: Option<&SegmentId>,
    from_day: Option<i64>,
    to_day: Option<i64>,
) -> SqlWhere {
    let mut w = SqlWhere::default();
    w.add("tenant_id = {}", SqlArg::Text(tenant.as_str().to_owned()));
    if let Some(from) = from_day {
        w.add("day >= {}", SqlArg::Int(from));
    }
    if let Some(to) = to_day {
        w.add("day < {}", SqlArg::Int(to));
    }
    if let Some(channel) = channel {
        w.add("channel = {}", SqlArg::Text(channel.to_owned()));
    }
    if let Some(segment) = segment {
        w.add("segment_id = {}", SqlArg::Text(segment.as_str().to_owned()));
    }
    w
}

#[cfg(test)]
mod write_batch_tests {
    #[test]
    fn placeholders_are_shifted_past_earlier_statements() {
        let mut out = String::new();
        super::renumber_into(&mut out, "UPDATE t SET a = $1, b = $12 WHERE c = $2", 3);
        assert_eq!(out, "UPDATE t SET a = $4, b = $15 WHERE c = $5");
        out.clear();
        super::renumber_into(&mut out, "SELECT $ FROM x", 3);
        assert_eq!(out, "SELECT $ FROM x");
    }
}
