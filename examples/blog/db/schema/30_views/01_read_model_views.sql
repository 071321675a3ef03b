-- FraiseQL blog example: v_tv_<entity>, what each read model must contain (see
-- 20_read_models/01_read_models.sql). They render timestamps in the session TimeZone: read
-- tv_<entity> instead.

-- ---------------------------------------------------------------------------------------------
-- What each read model must contain
-- ---------------------------------------------------------------------------------------------

CREATE VIEW v_tv_organisation AS
SELECT o.id,
       o.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', o.id,
           'identifier', o.identifier,
           'name', o.name,
           'created_at', o.created_at
       ) AS data
FROM tb_organisation o;

CREATE VIEW v_tv_user AS
SELECT u.id,
       u.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', u.id,
           'identifier', u.identifier,
           'name', u.name,
           'email', u.email,
           'role', u.role,
           'bio', u.bio,
           'created_at', u.created_at,
           'organisation', jsonb_build_object(
               'id', o.id,
               'identifier', o.identifier,
               'name', o.name
           )
       ) AS data
FROM tb_user u
JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation;

CREATE VIEW v_tv_post AS
SELECT p.id,
       p.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', p.id,
           'identifier', p.identifier,
           'title', p.title,
           'body', p.body,
           'status', p.status,
           'tags', to_jsonb(p.tags),
           'rating', p.rating,
           'view_count', p.view_count,
           'version', p.version,
           'published_at', p.published_at,
           'created_at', p.created_at,
           'category_path', p.category_path::text,
           'author', jsonb_build_object(
               'id', a.id,
               'identifier', a.identifier,
               'name', a.name,
               'email', a.email
           ),
           'comments', COALESCE(
               (SELECT jsonb_agg(
                           jsonb_build_object(
                               'id', c.id,
                               'identifier', c.identifier,
                               'body', c.body,
                               'created_at', c.created_at,
                               'author', jsonb_build_object(
                                   'id', ca.id,
                                   'identifier', ca.identifier,
                                   'name', ca.name
                               )
                           )
                           ORDER BY c.created_at, c.id
                       )
                FROM tb_comment c
                JOIN tb_user ca ON ca.pk_user = c.fk_user
                WHERE c.fk_post = p.pk_post),
               '[]'::jsonb
           )
       ) AS data
FROM tb_post p
JOIN tb_user a ON a.pk_user = p.fk_user
JOIN tb_organisation o ON o.pk_organisation = p.fk_organisation;

CREATE VIEW v_tv_comment AS
SELECT c.id,
       c.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', c.id,
           'identifier', c.identifier,
           'body', c.body,
           'created_at', c.created_at,
           'post', jsonb_build_object(
               'id', p.id,
               'identifier', p.identifier,
               'title', p.title
           ),
           'author', jsonb_build_object(
               'id', ca.id,
               'identifier', ca.identifier,
               'name', ca.name
           )
       ) AS data
FROM tb_comment c
JOIN tb_post p ON p.pk_post = c.fk_post
JOIN tb_organisation o ON o.pk_organisation = c.fk_organisation
JOIN tb_user ca ON ca.pk_user = c.fk_user;
