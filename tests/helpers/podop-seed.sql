-- Seed data for podop's tests: one statement per line, portable across
-- SQLite, MariaDB and PostgreSQL (booleans as '1'/'0').  The unit test
-- tests/unit/t_table_pfa.c carries the same rows.
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('ALL', '', '', '0', '1');
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('example.com', '', 'virtual', '0', '1');
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('disabled.org', '', 'virtual', '0', '0');
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('backup.net', '', 'relay:[mx.backup.net]', '1', '1');
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('alias.example', '', 'virtual', '0', '1');
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('dead.example', '', 'virtual', '0', '1');
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('off.example', '', 'virtual', '0', '1');
INSERT INTO domain (domain, description, transport, backupmx, active) VALUES ('lists.example.com', '', 'virtual', '0', '1');
INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES ('alias.example', 'example.com', '1');
INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES ('dead.example', 'disabled.org', '1');
INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES ('off.example', 'example.com', '0');
INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES ('alice@example.com', '{PLAIN}alicepw', 'Alice', 'example.com/alice/', 1048576, 'alice', 'example.com', '1');
INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES ('bob@example.com', '{PLAIN}bobpw', 'Bob', 'example.com/bob/', 0, 'bob', 'example.com', '1');
INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES ('carol@example.com', '{PLAIN}carolpw', 'Carol', 'example.com/carol/', 0, 'carol', 'example.com', '0');
INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES ('dave@disabled.org', '{PLAIN}davepw', 'Dave', 'disabled.org/dave/', 0, 'dave', 'disabled.org', '1');
INSERT INTO alias (address, goto, domain, active) VALUES ('alice@example.com', 'alice@example.com', 'example.com', '1');
INSERT INTO alias (address, goto, domain, active) VALUES ('bob@example.com', 'bob@example.com', 'example.com', '1');
INSERT INTO alias (address, goto, domain, active) VALUES ('carol@example.com', 'carol@example.com', 'example.com', '0');
INSERT INTO alias (address, goto, domain, active) VALUES ('info@example.com', 'alice@example.com,bob@example.com', 'example.com', '1');
INSERT INTO alias (address, goto, domain, active) VALUES ('old@example.com', 'bob@example.com', 'example.com', '0');
INSERT INTO alias (address, goto, domain, active) VALUES ('@example.com', 'alice@example.com', 'example.com', '1');
INSERT INTO alias (address, goto, domain, active) VALUES ('dave@disabled.org', 'dave@disabled.org', 'disabled.org', '1');
INSERT INTO alias (address, goto, domain, active) VALUES ('owner-team@example.com', 'bob@example.com', 'example.com', '1');
INSERT INTO routes (pattern, transport, domain, priority, active) VALUES ('^team(\+.+)?@lists\.example\.com$', 'mlmmj-receive:', 'lists.example.com', 50, '1');
INSERT INTO routes (pattern, transport, domain, priority, active) VALUES ('^team-bounces@lists\.example\.com$', 'mlmmj-bounce:', 'lists.example.com', 10, '1');
INSERT INTO routes (pattern, transport, domain, priority, active) VALUES ('^off@lists\.example\.com$', 'mlmmj-receive:', 'lists.example.com', 10, '0');
