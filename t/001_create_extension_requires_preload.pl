# CREATE EXTENSION gtm_clarity on a server that does not preload the
# library fails with SQLSTATE 55000 and a hint, and creates nothing.
# (Was test/not_preloaded.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('not_preloaded', preload => '');
my ($rc, $out, $err) = $node->psql('postgres',
	"SET client_min_messages = error;\n\\set VERBOSITY verbose\nCREATE EXTENSION gtm_clarity;",
	on_error_stop => 1);
note $err;
isnt($rc, 0, 'CREATE EXTENSION fails');
like($err, qr/ERROR:  55000: gtm_clarity must be loaded via shared_preload_libraries/,
	'CREATE EXTENSION fails with SQLSTATE 55000');
like($err,
	qr/HINT:  Add gtm_clarity to shared_preload_libraries in postgresql.conf and restart the server/,
	'the error carries the hint');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_extension WHERE extname = 'gtm_clarity'"),
	'0', 'nothing was created');
$node->stop;
done_testing();
