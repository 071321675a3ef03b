-- FraiseQL SaaS example: v_tv_<entity>, what each read model must contain. The sync functions
-- read them (as the request's role: they are security_invoker, see 50_security/). They render
-- timestamps in the session TimeZone; the sync functions run with TimeZone = 'UTC'.

CREATE VIEW v_tv_organisation AS
SELECT o.id,
       o.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', o.id,
           'identifier', o.identifier,
           'name', o.name,
           'plan', o.plan,
           'created_at', o.created_at
       ) AS data
FROM tb_organisation o;

CREATE VIEW v_tv_member AS
SELECT m.id,
       m.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', m.id,
           'identifier', m.identifier,
           'name', m.name,
           'email', m.email,
           'role', m.role,
           'created_at', m.created_at,
           'organisation', jsonb_build_object(
               'id', o.id, 'identifier', o.identifier, 'name', o.name)
       ) AS data
FROM tb_member m
JOIN tb_organisation o ON o.pk_organisation = m.fk_organisation;

-- An invoice's amounts: each line's quantity * unit_price rounded to cents, and their sum.
CREATE VIEW v_invoice_amount AS
SELECT i.pk_invoice,
       coalesce(sum(round(l.quantity * l.unit_price, 2)), 0)::numeric(14, 2) AS total
FROM tb_invoice i
LEFT JOIN tb_invoice_line l ON l.fk_invoice = i.pk_invoice
GROUP BY i.pk_invoice;

CREATE VIEW v_tv_project AS
SELECT p.id,
       p.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', p.id,
           'identifier', p.identifier,
           'name', p.name,
           'description', p.description,
           'archived', p.archived,
           'created_at', p.created_at,
           'invoices', coalesce(
               (SELECT jsonb_agg(jsonb_build_object(
                           'id', i.id,
                           'identifier', i.identifier,
                           'customer', i.customer,
                           'status', i.status,
                           'currency', i.currency,
                           'total', a.total)
                       ORDER BY i.identifier)
                FROM tb_invoice i
                JOIN v_invoice_amount a ON a.pk_invoice = i.pk_invoice
                WHERE i.fk_project = p.pk_project),
               '[]'::jsonb)
       ) AS data
FROM tb_project p
JOIN tb_organisation o ON o.pk_organisation = p.fk_organisation;

CREATE VIEW v_tv_invoice AS
SELECT i.id,
       i.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', i.id,
           'identifier', i.identifier,
           'customer', i.customer,
           'status', i.status,
           'currency', i.currency,
           'due_on', i.due_on,
           'created_at', i.created_at,
           'total', a.total,
           'project', jsonb_build_object(
               'id', p.id, 'identifier', p.identifier, 'name', p.name),
           'lines', coalesce(
               (SELECT jsonb_agg(jsonb_build_object(
                           'position', l.position,
                           'description', l.description,
                           'quantity', l.quantity,
                           'unit_price', l.unit_price,
                           'amount', round(l.quantity * l.unit_price, 2))
                       ORDER BY l.position)
                FROM tb_invoice_line l
                WHERE l.fk_invoice = i.pk_invoice),
               '[]'::jsonb)
       ) AS data
FROM tb_invoice i
JOIN tb_organisation o ON o.pk_organisation = i.fk_organisation
JOIN tb_project p ON p.pk_project = i.fk_project
JOIN v_invoice_amount a ON a.pk_invoice = i.pk_invoice;

CREATE VIEW v_tv_invitation AS
SELECT v.id,
       v.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', v.id,
           'identifier', v.identifier,
           'email', v.email,
           'role', v.role,
           'expires_at', v.expires_at,
           'accepted_at', v.accepted_at,
           'created_at', v.created_at,
           'invited_by', CASE WHEN b.pk_member IS NOT NULL THEN jsonb_build_object(
               'id', b.id, 'identifier', b.identifier, 'name', b.name) END
       ) AS data
FROM tb_invitation v
JOIN tb_organisation o ON o.pk_organisation = v.fk_organisation
LEFT JOIN tb_member b ON b.pk_member = v.fk_invited_by;
