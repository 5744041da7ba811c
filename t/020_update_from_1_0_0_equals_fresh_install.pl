# Install 1.0.0 then ALTER EXTENSION UPDATE gives the catalog of a fresh install of
# the current version; a dump taken at 1.0.0 restores into the current version.
# The checks are the TAP shell test test/shell/upgrade.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('upgrade');
gtm_shell_tap($node, 'test/shell/upgrade.sh');
$node->stop;
done_testing();
