-- A tenant's configuration version: any write to the tenant row, its segments or its tools bumps
-- it, so a replica can keep the tenant's chat configuration in memory and check, with one cheap
-- read per request, that its copy is current. Triggers keep every writer honest (the API, the
-- CLI, another replica, a manual UPDATE).
ALTER TABLE tenants ADD COLUMN config_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER tenants_config_version AFTER UPDATE ON tenants
WHEN NEW.config_version = OLD.config_version
BEGIN
    UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER segments_config_insert AFTER INSERT ON segments
BEGIN
    UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER segments_config_update AFTER UPDATE ON segments
BEGIN
    UPDATE tenants SET config_version = config_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;

CREATE TRIGGER segments_config_delete AFTER DELETE ON segments
BEGIN
    UPDATE tenants SET config_version = config_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER tools_config_insert AFTER INSERT ON tools
BEGIN
    UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER tools_config_update AFTER UPDATE ON tools
BEGIN
    UPDATE tenants SET config_version = config_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;

CREATE TRIGGER tools_config_delete AFTER DELETE ON tools
BEGIN
    UPDATE tenants SET config_version = config_version + 1 WHERE id = OLD.tenant_id;
END;
