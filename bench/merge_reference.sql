-- bench/merge_reference.sql -- the deep merges a user would write without
-- gtm_jsonb_merge, both RFC 7396 (JSON Merge Patch), used by bench/merge.sh.

-- A recursive SQL function: full outer join of the two objects' keys.
CREATE FUNCTION bench_merge_sql(base jsonb, patch jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN patch IS NULL THEN base
		WHEN jsonb_typeof(patch) <> 'object' THEN patch
		ELSE (
			SELECT coalesce(jsonb_object_agg(k,
						CASE WHEN jsonb_typeof(p.v) = 'object'
							 THEN bench_merge_sql(CASE WHEN jsonb_typeof(b.v) = 'object' THEN b.v END, p.v)
							 ELSE coalesce(p.v, b.v) END)
						FILTER (WHERE p.v IS NULL OR jsonb_typeof(p.v) <> 'null'),
					'{}'::jsonb)
			FROM jsonb_each(CASE WHEN jsonb_typeof(base) = 'object' THEN base ELSE '{}'::jsonb END) AS b(k, v)
			FULL JOIN jsonb_each(patch) AS p(k, v) USING (k))
	END
$$;

-- A PL/pgSQL function: walk the patch, delete / recurse / set key by key.
CREATE FUNCTION bench_merge_plpgsql(base jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	result jsonb;
	k text;
	v jsonb;
BEGIN
	IF patch IS NULL THEN
		RETURN base;
	END IF;
	IF jsonb_typeof(patch) <> 'object' THEN
		RETURN patch;
	END IF;
	result := CASE WHEN jsonb_typeof(base) = 'object' THEN base ELSE '{}'::jsonb END;
	FOR k, v IN SELECT * FROM jsonb_each(patch) LOOP
		IF jsonb_typeof(v) = 'null' THEN
			result := result - k;
		ELSIF jsonb_typeof(v) = 'object' THEN
			result := jsonb_set(result, ARRAY[k], bench_merge_plpgsql(result -> k, v));
		ELSE
			result := jsonb_set(result, ARRAY[k], v);
		END IF;
	END LOOP;
	RETURN result;
END
$$;

-- 20,000 realistic pairs: defaults of 24 keys (nested objects, arrays),
-- overrides of 2-6 keys (distinct fragments, one top-level key each),
-- some nested, some nulls (top-level and nested), a few new keys.
CREATE TABLE bench_pairs (id int PRIMARY KEY, a jsonb NOT NULL, b jsonb NOT NULL);

CREATE TABLE bench_fragments (id int PRIMARY KEY, f jsonb NOT NULL);
INSERT INTO bench_fragments VALUES
	(1, '{"timezone": "America/New_York"}'),
	(2, '{"features": {"buyingGroups": true, "aiSummaries": null}}'),
	(3, '{"auditLog": null}'),
	(4, '{"scoring": {"engagement": {"decayDays": 45}}}'),
	(5, '{"fiscalYearStartMonth": 7}'),
	(6, '{"locale": null}'),
	(7, '{"limits": {"seats": 25}}'),
	(8, '{"notifications": {"slack": true, "digest": null}}'),
	(9, '{"buyingGroupRoles": ["champion", "economic_buyer"]}'),
	(10, '{"connectors": {"salesforce": {"enabled": true, "syncIntervalMinutes": 15}}}'),
	(11, '{"defaultScoringVersion": 2}'),
	(12, '{"ui": null}'),
	(13, '{"currency": "EUR"}'),
	(14, '{"dataRetentionDays": 730}'),
	(15, '{"security": {"mfaRequired": true, "ipAllowlist": ["10.0.0.0/8"]}}'),
	(16, '{"branding": {"primaryColor": "#FF6600"}}'),
	(17, '{"mappings": {"industryField": "Industry__c", "ownerField": null}}'),
	(18, '{"customLabel": "Pipeline"}'),
	(19, '{"weekStart": 0}'),
	(20, '{"supportTier": "premium"}');

SELECT setseed(0.42);
INSERT INTO bench_pairs
SELECT g,
	jsonb_build_object(
		'timezone', (ARRAY['UTC', 'Europe/Berlin', 'America/Chicago', 'Asia/Tokyo'])[1 + (g % 4)],
		'locale', 'en-US', 'currency', 'USD', 'language', 'en',
		'dateFormat', 'YYYY-MM-DD', 'weekStart', 1, 'region', 'us-east-1',
		'defaultScoringVersion', 1, 'fiscalYearStartMonth', 1 + (g % 12),
		'dataRetentionDays', 365, 'exportFormat', 'csv', 'auditLog', true,
		'betaProgram', false, 'supportTier', 'standard',
		'features', '{"buyingGroups": false, "writeback": false, "intentSignals": true, "aiSummaries": false, "enrichment": true, "sandbox": false}'::jsonb,
		'scoring', jsonb_build_object('fit', '{"weight": 0.6, "minScore": 40}'::jsonb,
			'engagement', jsonb_build_object('weight', 0.4, 'decayDays', 30, 'halfLifeDays', 7 + (g % 21)),
			'thresholds', '{"mql": 60, "sql": 80}'::jsonb),
		'notifications', '{"email": true, "slack": false, "digest": "weekly", "channels": ["email"]}'::jsonb,
		'connectors', '{"salesforce": {"enabled": false, "syncIntervalMinutes": 60}, "hubspot": {"enabled": false, "syncIntervalMinutes": 60}}'::jsonb,
		'branding', '{"primaryColor": "#0F62FE", "logoUrl": ""}'::jsonb,
		'security', '{"sessionTimeoutMinutes": 60, "mfaRequired": false, "ipAllowlist": []}'::jsonb,
		'limits', jsonb_build_object('seats', 5 + (g % 50), 'accounts', 10000, 'apiRequestsPerMinute', 600),
		'mappings', '{"accountOwnerField": "OwnerId", "industryField": "Industry"}'::jsonb,
		'buyingGroupRoles', '["champion", "decision_maker", "influencer", "blocker"]'::jsonb,
		'ui', '{"theme": "light", "density": "comfortable"}'::jsonb),
	(SELECT jsonb_object_agg(e.key, e.value)
	   FROM (SELECT f.f FROM bench_fragments f
			  ORDER BY random() + 0 * g
			  LIMIT 2 + floor(random() * 5)::int) s,
			jsonb_each(s.f) e)
FROM generate_series(1, 20000) g;
ANALYZE bench_pairs;
