-- A chat turn's rows reference their conversation (or visitor), which references the tenant:
-- deleting a tenant still deletes them, through those. Their own reference to the tenant
-- went: checking it takes a share lock on the tenant's row for every insert, every concurrent
-- turn of a tenant shares that lock, and PostgreSQL records each such sharing as a new
-- multixact (at c=64, several per turn, and most of the server's CPU). SQLite has no row locks
-- and keeps the reference.
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey;
ALTER TABLE tool_executions DROP CONSTRAINT tool_executions_tenant_id_fkey;
ALTER TABLE memory_facts DROP CONSTRAINT memory_facts_tenant_id_fkey;
