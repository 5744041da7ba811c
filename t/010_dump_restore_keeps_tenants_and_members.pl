# pg_dump of a database keeps every tenant and member row; a restore into a fresh
# database (custom and plain format) works and behaves the same.
# The checks are the TAP shell test test/shell/dump_restore.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('dump_restore');
gtm_shell_tap($node, 'test/shell/dump_restore.sh');
$node->stop;
done_testing();
