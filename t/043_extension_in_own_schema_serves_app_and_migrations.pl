# The extension in its own schema (CREATE EXTENSION ... SCHEMA gtm): a migration
# role makes and backfills a tenant table, an application role serves requests and
# COPY imports, the schema lint is clean.
# The checks are the TAP shell test test/shell/app_schema.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('app_schema');
gtm_shell_tap($node, 'test/shell/app_schema.sh');
$node->stop;
done_testing();
