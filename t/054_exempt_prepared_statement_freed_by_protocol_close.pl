# An exempt role's EXECUTE runs only statements an exempt role prepared
# (doc/enforcement.md, "Objects of a role the check applies to, reached by
# an exempt role").  Its record of such a statement must go with the
# statement itself: the protocol's Close message frees a statement without
# any hook seeing it, and a Parse of the same name in the same batch gets
# the freed memory back at the same address (round AT).  Here a SECURITY
# DEFINER function of a BYPASSRLS role prepares its own statement "tc" and
# EXECUTEs it; the application role closes "tc" and parses its own UPDATE of
# every tenant under that name, then calls the function again: refused,
# and no row changed.  The raw messages come from test/node/raw_protocol.js
# (node's standard library only).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('exempt_close');
my $db = 'gtm_exempt_close';
sub sql { return $node->safe_psql($db, $_[0]); }

ok(system('command -v node >/dev/null') == 0, 'node is installed');

$node->safe_psql('postgres', "CREATE DATABASE $db");
sql(<<'SQL');
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE ROLE close_app LOGIN;
CREATE ROLE close_mig BYPASSRLS;
CREATE SCHEMA s;
GRANT USAGE ON SCHEMA s TO close_app, close_mig;
CREATE TABLE s.deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
INSERT INTO s.deals VALUES ('t-1', 1, 'open'), ('t-1', 2, 'open'), ('t-2', 1, 'secret'), ('t-2', 2, 'secret');
GRANT SELECT, INSERT, UPDATE, DELETE ON s.deals TO close_app, close_mig;
CREATE FUNCTION s.tenant_count(t text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = s, pg_temp AS $$
DECLARE n bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_prepared_statements WHERE name = 'tc') THEN
    EXECUTE 'PREPARE tc(text) AS SELECT count(*) FROM s.deals WHERE tenant_id = $1';
  END IF;
  EXECUTE format('EXECUTE tc(%L)', t) INTO n;
  RETURN n;
END $$;
ALTER FUNCTION s.tenant_count(text) OWNER TO close_mig;
GRANT EXECUTE ON FUNCTION s.tenant_count(text) TO close_app;
SQL

sub run_script { my ($name, $batches) = @_; return gtm_raw_protocol($node, $db, 'close_app', $batches); }

# control: the function as meant, twice (its statement prepared once)
my $out = run_script('control', q{[[["Q","SELECT s.tenant_count('t-1')"]],[["Q","SELECT s.tenant_count('t-1')"]]]});
is(scalar(() = $out =~ /ROW \["2"\]/g), 2, "the definer's own prepared statement runs for its caller") or diag $out;

# the attack: Close "tc", Parse the application's UPDATE as "tc", in one batch
$out = run_script('attack', q{[[["Q","SELECT s.tenant_count('t-1')"]],
 [["C","S","tc"],["P","tc","WITH u AS (UPDATE s.deals SET stage = 'pwned' WHERE $1::text IS NOT NULL RETURNING 1) SELECT count(*) FROM u"],["S"]],
 [["Q","SELECT s.tenant_count('t-1')"]]]});
like($out, qr/ERROR an exempt role cannot run a statement of a role the tenant check applies to/,
	"the application's statement under the freed name is refused to the definer") or diag $out;
unlike($out, qr/ROW \["4"\]/, '... and did not run') or diag $out;
is(sql(q{SELECT count(*) FROM s.deals WHERE stage = 'pwned'}), '0', 'no row of any tenant was changed');
is(sql(q{SELECT string_agg(tenant_id || ':' || stage, ',' ORDER BY tenant_id, id) FROM s.deals}),
	't-1:open,t-1:open,t-2:secret,t-2:secret', "every tenant's rows are as they were");

done_testing();
