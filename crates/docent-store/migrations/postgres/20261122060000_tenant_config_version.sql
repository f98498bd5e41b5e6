-- A tenant's configuration version: any write to the tenant row, its segments or its tools bumps
-- it, so a replica can keep the tenant's chat configuration in memory and check, with one cheap
-- read per request, that its copy is current. Triggers keep every writer honest (the API, the
-- CLI, another replica, a manual UPDATE).
ALTER TABLE tenants ADD COLUMN config_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION tenants_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.config_version = OLD.config_version THEN
        NEW.config_version := OLD.config_version + 1;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER tenants_config_version BEFORE UPDATE ON tenants
FOR EACH ROW EXECUTE FUNCTION tenants_config_version();

CREATE FUNCTION bump_tenant_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE tenants SET config_version = config_version + 1 WHERE id = OLD.tenant_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.tenant_id <> OLD.tenant_id) THEN
        UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER segments_config_version AFTER INSERT OR UPDATE OR DELETE ON segments
FOR EACH ROW EXECUTE FUNCTION bump_tenant_config();

CREATE TRIGGER tools_config_version AFTER INSERT OR UPDATE OR DELETE ON tools
FOR EACH ROW EXECUTE FUNCTION bump_tenant_config();
