-- gtm_jsonb_merge: RFC 7396 JSON Merge Patch
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set VERBOSITY default

-- RFC 7396 section 3 example
SELECT gtm_jsonb_merge(
	'{"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["example", "sample"], "content": "This will be unchanged"}',
	'{"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": null}, "tags": ["example"]}')
	= '{"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"], "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"}'
	AS rfc_section_3;

-- RFC 7396 appendix A: every test case, original / patch / expected result
SELECT n, original, patch, gtm_jsonb_merge(original, patch) AS result,
	   gtm_jsonb_merge(original, patch) = expected AS ok
FROM (VALUES
	(1, '{"a":"b"}'::jsonb, '{"a":"c"}'::jsonb, '{"a":"c"}'::jsonb),
	(2, '{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'),
	(3, '{"a":"b"}', '{"a":null}', '{}'),
	(4, '{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'),
	(5, '{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'),
	(6, '{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'),
	(7, '{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'),
	(8, '{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'),
	(9, '["a","b"]', '["c","d"]', '["c","d"]'),
	(10, '{"a":"b"}', '["c"]', '["c"]'),
	(11, '{"a":"foo"}', 'null', 'null'),
	(12, '{"a":"foo"}', '"bar"', '"bar"'),
	(13, '{"e":null}', '{"a":1}', '{"e":null,"a":1}'),
	(14, '[1,2]', '{"a":"b","c":null}', '{"a":"b"}'),
	(15, '{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}')
) AS t(n, original, patch, expected)
ORDER BY n;

-- SQL NULLs: a NULL patch returns base; a NULL base is patched like a non-object
SELECT gtm_jsonb_merge('{"a": 1}', NULL) AS null_patch,
	   gtm_jsonb_merge(NULL, NULL) IS NULL AS both_null,
	   gtm_jsonb_merge(NULL, '{"a": 1, "b": null}') AS null_base,
	   gtm_jsonb_merge(NULL, '[1]') AS null_base_array_patch;

-- empty patch returns base; scalar base with object patch
SELECT gtm_jsonb_merge('{"a": {"b": 1}}', '{}') AS empty_patch,
	   gtm_jsonb_merge('"text"', '{"a": null, "b": 2}') AS scalar_base,
	   gtm_jsonb_merge('{"a": 1}', '{"a": {"x": null, "y": [null]}}') AS object_over_scalar;

-- keys interleave in storage order (length first, then bytes); merged in one walk
SELECT gtm_jsonb_merge('{"b": 1, "aa": 2, "ccc": 3, "dddd": 4}',
					   '{"a": 0, "ab": 5, "ccc": null, "zzzzz": 6, "dddd": {"k": 1}}');

-- nested: only shared object keys are descended into, arrays replace whole
SELECT gtm_jsonb_merge(
	'{"features": {"buyingGroups": false, "writeback": false}, "scoring": {"fit": {"weight": 0.6, "min": 40}, "tags": [1, 2]}}',
	'{"features": {"writeback": true}, "scoring": {"fit": {"min": null}, "tags": [3]}}');

-- merging with itself, and with its own keys nulled, and agreement with || when shallow
SELECT gtm_jsonb_merge(d, d) = d AS idempotent,
	   gtm_jsonb_merge(d, '{"x": null, "y": null}') = '{}' AS all_removed,
	   gtm_jsonb_merge(d, '{"y": "new"}') = d || '{"y": "new"}' AS shallow_like_concat
FROM (VALUES ('{"x": {"p": 1}, "y": [1, {"q": null}]}'::jsonb)) v(d);

-- unicode keys and values, numbers kept exactly
SELECT gtm_jsonb_merge('{"clé": "été", "n": 1.50, "big": 12345678901234567890}',
					   '{"clé": "hiver", "ключ": "значение", "n": 2.500}');

-- properties
SELECT provolatile, proparallel, proisstrict
FROM pg_proc WHERE oid = 'gtm_jsonb_merge(jsonb, jsonb)'::regprocedure;

-- deep documents: a 10,000-level patch gets a result...
CREATE TEMP TABLE deep AS
SELECT (repeat('{"a": ', 10000) || '1' || repeat('}', 10000))::jsonb AS d;
SELECT length(gtm_jsonb_merge(d, d)::text) AS merged_len,
	   gtm_jsonb_merge(d, d) = d AS same,
	   length(gtm_jsonb_merge('{}', d)::text) AS onto_empty_len
FROM deep;
SELECT length(gtm_jsonb_merge(d, (repeat('{"a": ', 9999) || '{"b": 2}' || repeat('}', 9999))::jsonb)::text)
FROM deep;
-- ...and with little stack, a clean error instead of a crash
SET max_stack_depth = '200kB';
SELECT gtm_jsonb_merge('{}', d) IS NOT NULL FROM deep;
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_jsonb_merge(d, d) IS NOT NULL FROM deep;
\echo :LAST_ERROR_SQLSTATE
RESET max_stack_depth;
SELECT 1 AS server_still_up;
DROP TABLE deep;
