-- The seed's bootstrap (init-primary.sh), as SQL. Run once by psql as the postgres superuser,
-- with the variables admin_user, admin_password, replicator_password and database set.
-- Passwords come from .env; nothing secret lives here.
\set ON_ERROR_STOP on
SET password_encryption = 'scram-sha-256';
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replicator_password';
CREATE ROLE :"admin_user" WITH SUPERUSER CREATEDB CREATEROLE LOGIN PASSWORD :'admin_password';
CREATE DATABASE :"database" OWNER :"admin_user";
\connect :"database"
CREATE SCHEMA proyecto AUTHORIZATION :"admin_user";
SET ROLE :"admin_user";
CREATE TABLE proyecto.usuarios (
  id         serial PRIMARY KEY,
  nombre     text NOT NULL,
  email      text NOT NULL UNIQUE,
  creado_en  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO proyecto.usuarios (nombre, email) VALUES
  ('Ana García',     'ana@example.com'),
  ('Luis Pérez',     'luis@example.com'),
  ('María López',    'maria@example.com'),
  ('Carlos Ruiz',    'carlos@example.com'),
  ('Sofía Martínez', 'sofia@example.com');
-- The event log the seed kept; clusterbot mirrors its audit trail here.
CREATE TABLE proyecto.logs_replicacion (
  id         bigserial PRIMARY KEY,
  audit_id   text UNIQUE,
  evento     text NOT NULL,
  nodo       text,
  usuario    text,
  detalle    jsonb,
  fecha      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO proyecto.logs_replicacion (evento, nodo, detalle) VALUES ('cluster_initialised', 'primary', '{}');
RESET ROLE;
