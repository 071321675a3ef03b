-- FraiseQL blog example: the extensions the tables need (ltree for tb_post.category_path).

CREATE EXTENSION IF NOT EXISTS ltree;
