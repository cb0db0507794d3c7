-- workload.sql - a deterministic SQLite allocation workload for heaplab's
-- preload tests and `make bench-preload`:  sqlite3 :memory: < workload.sql
-- Tables and indexes built, grouped, joined and dropped; the output is the
-- same under any malloc.  60000 rows; the tests take fewer, for policies
-- whose malloc is linear in the free blocks, with a parameter:
--   sqlite3 :memory: -cmd '.parameter set @rows 6000' < workload.sql
PRAGMA cache_size = -8000;
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER, pad TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < coalesce(@rows, 60000))
INSERT INTO t(k, v, pad) SELECT 'key' || (i * 7919 % 10007), i % 977, substr(hex(randomblob(0)) || printf('%0*d', 20 + i % 90, i), 1, 200) FROM n;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_v ON t(v, k);
SELECT count(*), sum(v), count(DISTINCT k) FROM t;
SELECT k, count(*), sum(v) FROM t GROUP BY k ORDER BY count(*) DESC, k LIMIT 5;
CREATE TABLE u AS SELECT k, group_concat(v, ',') AS vs FROM t GROUP BY k;
SELECT count(*), sum(length(vs)) FROM u;
SELECT a.k, length(a.vs) FROM u a JOIN t b ON a.k = b.k WHERE b.id % 5000 = 0 ORDER BY b.id;
DELETE FROM t WHERE v % 3 = 0;
UPDATE t SET pad = pad || pad WHERE v % 5 = 0;
SELECT count(*), sum(length(pad)) FROM t;
DROP INDEX t_v;
SELECT v, count(*) FROM t GROUP BY v ORDER BY v DESC LIMIT 3;
DROP TABLE u;
DROP TABLE t;
