# Settings survive pg_dump / restore exactly (defaults' versions, overrides, the
# invalid list, schemas, setup tasks and marks), plain and custom formats.
# The checks are the TAP shell test test/shell/settings_dump_restore.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('settings_dump_restore');
gtm_shell_tap($node, 'test/shell/settings_dump_restore.sh');
$node->stop;
done_testing();
