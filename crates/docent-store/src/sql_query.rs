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
