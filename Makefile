# Makefile for gtm_clarity (PGXS)
#
# make && make install            build and install into the server of PG_CONFIG
# bash test/run.sh                everything: packages, build, throwaway server, all tests

EXTENSION  = gtm_clarity
MODULE_big = gtm_clarity
PGFILEDESC = "gtm_clarity - tenant provisioning, settings and tenant-scope enforcement"

# One object per capability.
OBJS = \
	src/init.o \
	src/extension.o \
	src/provision.o \
	src/provision_input.o \
	src/provision_index.o \
	src/provision_lifecycle.o \
	src/member_session.o \
	src/settings.o \
	src/settings_merge.o \
	src/settings_check.o \
	src/settings_schema.o \
	src/settings_schema_meta.o \
	src/settings_defaults.o \
	src/setup_checklist.o \
	src/enforce_hooks.o \
	src/relfacts.o \
	src/enforce_pin.o \
	src/enforce_identity.o \
	src/enforce_freeze.o \
	src/enforce_record.o \
	src/enforce_values.o \
	src/enforce_cascade.o \
	src/enforce_key.o \
	src/enforce_judge.o \
	src/enforce_distributed.o \
	src/enforce_citus_lock.o \
	src/enforce_citus_txn.o \
	src/enforce_order.o \
	src/enforce_utility.o \
	src/enforce_copy.o \
	src/enforce_runtime.o \
	src/enforce_report.o \
	src/exemptions.o \
	src/tenant_session.o \
	src/checker.o

DATA = $(wildcard sql/gtm_clarity--*.sql)

# GTM_CLARITY_VERSION: the control file's default_version, which
# PostgreSQL 18 reports in pg_get_loaded_modules() (include/pg_compat.h).
GTM_CLARITY_VERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(srcdir)/gtm_clarity.control)
PG_CPPFLAGS = -I$(srcdir)/include -DGTM_CLARITY_VERSION='"$(GTM_CLARITY_VERSION)"'
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Wno-cast-function-type

# pg_regress: sql/NAME.sql -> expected/NAME.out
REGRESS_PROVISION = provision members provision_input signin_spi_memory slug_search \
	clerk_signin clerk_events tenant_lifecycle member_session
REGRESS_SETTINGS = settings_merge settings_validation settings_api settings_limits \
	settings_schema setup_checklist
REGRESS_ENFORCE = enforce_cases enforce_shapes enforce_modes enforce_scope enforce_fail_closed \
	enforce_writes enforce_identity enforce_keys enforce_exemptions enforce_utility enforce_attacks \
	enforce_tenant_row copy_from copy_from_partition app_toolkit enforce_pool enforce_stats
REGRESS = $(REGRESS_PROVISION) $(REGRESS_SETTINGS) $(REGRESS_ENFORCE)

# isolationtester: test/specs/NAME.spec -> test/expected/NAME.out
ISOLATION_PROVISION = signin_race slug_race slug_search_race last_admin_race clerk_event_race
ISOLATION_SETTINGS = settings_update_race settings_defaults_kept
ISOLATION_ENFORCE = enforce_exempt enforce_session_tenant enforce_lock copy_concurrent
ISOLATION = $(ISOLATION_PROVISION) $(ISOLATION_SETTINGS) $(ISOLATION_ENFORCE)
ISOLATION_OPTS = --inputdir=test

EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The two halves of installcheck, so test/suite.sh can log them apart.
.PHONY: installcheck-regress installcheck-isolation
installcheck-regress: submake $(REGRESS_PREP)
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
installcheck-isolation: submake
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

# include/pg_compat.h must compile, with -Werror, against every supported
# server: test/lib/version_suite.sh runs this on each version it tests.
.PHONY: check-compat
check-compat:
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o /dev/null test/lib/pg_compat_check.c

# Every object depends on the shared headers (PGXS tracks no dependencies
# unless PostgreSQL was configured with --enable-depend).
$(OBJS): $(wildcard include/*.h)
