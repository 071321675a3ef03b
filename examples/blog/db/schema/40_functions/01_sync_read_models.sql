-- FraiseQL blog example: fn_sync_tv_<entity>(ids), which recompute read model rows from the tb_*
-- tables through the v_tv_* views (see 20_read_models/01_read_models.sql).

-- ---------------------------------------------------------------------------------------------
-- Sync functions
-- ---------------------------------------------------------------------------------------------
-- The branches differ only by their filter: a single statement with "ids IS NULL OR
-- id = ANY(ids)" could be planned once, generically, with a full scan, and reused for every call.
-- One id, what a mutation syncs, has its own branch: PL/pgSQL keeps each statement's plan, and
-- "id = ids[1]" gets a generic plan probing the index, while "id = ANY (ids)" is planned anew on
-- every call (measured: 0.9-1.4 ms against 0.46-0.53 ms per sync of one post).

CREATE FUNCTION fn_sync_tv_organisation(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_organisation t
        WHERE NOT EXISTS (SELECT 1 FROM tb_organisation s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_organisation AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_organisation v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSIF cardinality(ids) = 1 THEN
        DELETE FROM tv_organisation t
        WHERE t.id = ids[1]
          AND NOT EXISTS (SELECT 1 FROM tb_organisation s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_organisation AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_organisation v
        WHERE v.id = ids[1]
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_organisation t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_organisation s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_organisation AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_organisation v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;

CREATE FUNCTION fn_sync_tv_user(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_user t
        WHERE NOT EXISTS (SELECT 1 FROM tb_user s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_user AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_user v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSIF cardinality(ids) = 1 THEN
        DELETE FROM tv_user t
        WHERE t.id = ids[1]
          AND NOT EXISTS (SELECT 1 FROM tb_user s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_user AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_user v
        WHERE v.id = ids[1]
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_user t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_user s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_user AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_user v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;

CREATE FUNCTION fn_sync_tv_post(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_post t
        WHERE NOT EXISTS (SELECT 1 FROM tb_post s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_post AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_post v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSIF cardinality(ids) = 1 THEN
        DELETE FROM tv_post t
        WHERE t.id = ids[1]
          AND NOT EXISTS (SELECT 1 FROM tb_post s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_post AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_post v
        WHERE v.id = ids[1]
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_post t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_post s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_post AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_post v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;

CREATE FUNCTION fn_sync_tv_comment(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_comment t
        WHERE NOT EXISTS (SELECT 1 FROM tb_comment s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_comment AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_comment v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSIF cardinality(ids) = 1 THEN
        DELETE FROM tv_comment t
        WHERE t.id = ids[1]
          AND NOT EXISTS (SELECT 1 FROM tb_comment s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_comment AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_comment v
        WHERE v.id = ids[1]
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_comment t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_comment s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_comment AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_comment v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;
