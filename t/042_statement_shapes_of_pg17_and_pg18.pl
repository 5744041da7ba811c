# Statement shapes PostgreSQL 17 and 18 added (MERGE RETURNING, JSON_TABLE,
# RETURNING old/new, virtual generated columns...) against the tenant rule; skipped
# on a server that cannot parse them.
# The checks are the TAP shell test test/shell/enforce_new_shapes.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('enforce_new_shapes');
gtm_shell_tap($node, 'test/shell/enforce_new_shapes.sh');
$node->stop;
done_testing();
