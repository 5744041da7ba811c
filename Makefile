# Makefile for gtm_clarity (PGXS)
#
# make && make install            build and install into the server of PG_CONFIG
# make installcheck               every test on temporary instances that preload
#                                 the library (run as a user who may run initdb,
#                                 not root): pg_regress, isolationtester, t/*.pl
# bash test/run.sh                everything: packages, build, install, then
#                                 make installcheck on PostgreSQL 15, 17 and 18

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
	src/provision_members.o \
	src/member_session.o \
	src/settings.o \
	src/settings_merge.o \
	src/settings_check.o \
	src/settings_schema.o \
	src/settings_schema_meta.o \
	src/settings_schema_numbers.o \
	src/settings_schema_paths.o \
	src/settings_defaults.o \
	src/setup_checklist.o \
	src/enforce_hooks.o \
	src/enforce_utility_hook.o \
	src/tenant_temp.o \
	src/enforce_citus_fold.o \
	src/relfacts.o \
	src/enforce_pin.o \
	src/enforce_identity.o \
	src/enforce_freeze.o \
	src/enforce_record.o \
	src/enforce_values.o \
	src/enforce_written_rows.o \
	src/enforce_written_check.o \
	src/enforce_our_functions.o \
	src/enforce_function_facts.o \
	src/enforce_cascade.o \
	src/enforce_key.o \
	src/enforce_key_filter.o \
	src/enforce_judge.o \
	src/enforce_recorded.o \
	src/enforce_modify.o \
	src/enforce_walk.o \
	src/enforce_guc.o \
	src/enforce_distributed.o \
	src/citus_metadata.o \
	src/enforce_citus_lock.o \
	src/enforce_citus_pin_values.o \
	src/enforce_citus_pins.o \
	src/enforce_citus_settings.o \
	src/enforce_citus_strings.o \
	src/enforce_columns.o \
	src/enforce_citus_txn.o \
	src/enforce_order.o \
	src/enforce_utility.o \
	src/enforce_copy.o \
	src/enforce_attach.o \
	src/enforce_depended.o \
	src/enforce_names.o \
	src/enforce_runtime.o \
	src/enforce_explain.o \
	src/enforce_payload.o \
	src/enforce_executor.o \
	src/enforce_index_trust.o \
	src/enforce_planning.o \
	src/enforce_stats.o \
	src/enforce_generic.o \
	src/enforce_trust.o \
	src/enforce_report.o \
	src/enforce_report_utility.o \
	src/exempt_callers.o \
	src/exempt_callers_code.o \
	src/exemptions.o \
	src/exemptions_table.o \
	src/tenant_deferred.o \
	src/tenant_session.o \
	src/tenant_portal_bind.o \
	src/tenant_request_bounds.o \
	src/tenant_set.o \
	src/checker.o

DATA = $(wildcard sql/gtm_clarity--*.sql)

# GTM_CLARITY_VERSION: the control file's default_version, which
# PostgreSQL 18 reports in pg_get_loaded_modules() (include/pg_compat.h).
GTM_CLARITY_VERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(srcdir)/gtm_clarity.control)
PG_CPPFLAGS = -I$(srcdir)/include -DGTM_CLARITY_VERSION='"$(GTM_CLARITY_VERSION)"'
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Wno-cast-function-type

# The check runs on every statement's planner and executor path, in many
# small functions spread over files (GTM_HOT_OBJS): with GCC, those are
# compiled as one unit (-flto: a helper of another file is inlined like a
# static one) at -O3, without frame pointers (PostgreSQL's own build keeps
# them, for profilers; these functions are small and called often),
# calling PostgreSQL through its GOT rather than PLT stubs; the library
# binds its own symbols to themselves (-Bsymbolic: no interposition by
# another library's function of the same name; PostgreSQL 16's PGXS hides
# them instead), and sorts its input sections by name (--sort-section=name:
# the variables every statement uses, GTM_HOT_DATA in gtm_clarity.h, come
# from several units of the link, and lie together only so).  Provisioning
# and settings keep PostgreSQL's flags (a TAP
# test stops a sign-in in gdb at a function of theirs).  Measured by
# bench/instructions.sh (doc/benchmarks.md); GTM_OPTIMIZE=no builds with
# PostgreSQL's flags alone.  The stack protector stays.
GTM_OPTIMIZE ?= $(if $(filter 1,$(shell $(CC) -v 2>&1 | grep -c '^gcc version')),yes,no)
GTM_OPT_FLAGS = -O3 -flto=auto -fno-semantic-interposition -fno-plt -fomit-frame-pointer
GTM_HOT_OBJS = $(filter src/enforce_%.o src/tenant_%.o src/exempt%.o src/relfacts.o,$(OBJS))
# Profile feedback (make profile-install, test/lib/profile_build.sh, which
# the test suite and the benchmarks build with): GTM_PROFILE=generate
# instruments GTM_HOT_OBJS, whose counts a training run writes into
# GTM_PROFILE_DIR; GTM_PROFILE=use builds them with those counts.
GTM_PROFILE ?=
GTM_PROFILE_DIR ?= $(CURDIR)/profile
ifeq ($(GTM_PROFILE),generate)
GTM_OPT_FLAGS += -fprofile-generate -fprofile-dir=$(GTM_PROFILE_DIR)
else ifeq ($(GTM_PROFILE),use)
GTM_OPT_FLAGS += -fprofile-use -fprofile-partial-training -Wno-missing-profile \
	-fprofile-dir=$(GTM_PROFILE_DIR)
else ifneq ($(GTM_PROFILE),)
$(error GTM_PROFILE is "generate", "use" or empty)
endif
ifeq ($(GTM_OPTIMIZE),yes)
SHLIB_LINK += $(GTM_OPT_FLAGS) -Wl,-Bsymbolic -Wl,--sort-section=name
endif

# Tests (doc/development.md): test/sql/NAME.sql -> test/expected/NAME.out
# (pg_regress), test/specs/NAME.spec -> test/expected/NAME.out
# (isolationtester), t/*.pl (TAP, on PostgreSQL::Test::Cluster).
REGRESS_PROVISION = provision_tenants_and_sign_in member_roles_and_last_admin provision_input \
	sign_in_after_spi_finish slug_search clerk_signin clerk_events tenant_lifecycle member_session
REGRESS_SETTINGS = settings_merge settings_validation settings_defaults_and_patches \
	settings_hostile_input_limits settings_schema setup_checklist
REGRESS_ENFORCE = enforce_conformance_cases enforce_every_statement_path \
	enforce_exempt_roles_and_modes enforce_scope enforce_fail_closed enforce_writes \
	enforce_writes_partition_generated enforce_attach_generating enforce_maintain enforce_depended enforce_identity \
	enforce_keys enforce_exemptions enforce_utility enforce_attack_shapes_rejected enforce_tenant_row \
	copy_from copy_from_partition app_toolkit_tables_lint_grants enforce_tenant_context_under_pools \
	enforce_statistics_hide_other_tenants
REGRESS = $(REGRESS_PROVISION) $(REGRESS_SETTINGS) $(REGRESS_ENFORCE)
REGRESS_OPTS = --inputdir=test

ISOLATION_PROVISION = signin_race slug_race slug_search_race last_admin_race clerk_event_race clerk_slug_race \
	clerk_deletion_event_race \
	signin_after_deletion_race clerk_deletion_ddl_race
ISOLATION_SETTINGS = settings_update_race settings_defaults_kept
ISOLATION_ENFORCE = enforce_exempt enforce_session_tenant enforce_lock copy_concurrent exempt_drop_race \
	enforce_facts_race enforce_exempt_attach_race enforce_attach_routed_race \
	enforce_refresh_swap_race
ISOLATION = $(ISOLATION_PROVISION) $(ISOLATION_SETTINGS) $(ISOLATION_ENFORCE)
ISOLATION_OPTS = --inputdir=test

# make installcheck starts its own temporary instances (pg_regress
# --temp-instance, with the binaries of PG_CONFIG's installation) whose
# postgresql.conf gets test/gtm_clarity.conf (shared_preload_libraries =
# gtm_clarity): nothing to start first.  EXISTING_SERVER=1 runs pg_regress
# and isolationtester against the running server PGHOST/PGPORT name instead
# (it must preload the library).  TEST_PORT: the port of the temporary
# instances (pg_regress tries the next ones when it is taken; default: its
# own); TEST_OUTPUT: where results, diffs and the instances go (default: here).
TEST_OUTPUT ?= $(CURDIR)
ifndef EXISTING_SERVER
REGRESS_OPTS += --temp-instance=$(TEST_OUTPUT)/tmp_check_regress --temp-config=$(srcdir)/test/gtm_clarity.conf \
	$(if $(TEST_PORT),--port=$(TEST_PORT))
ISOLATION_OPTS += --temp-instance=$(TEST_OUTPUT)/tmp_check_iso --temp-config=$(srcdir)/test/gtm_clarity.conf \
	$(if $(TEST_PORT),--port=$(TEST_PORT))
endif
REGRESS_OPTS += --outputdir=$(TEST_OUTPUT)
ISOLATION_OPTS += --outputdir=$(TEST_OUTPUT)/output_iso

# TAP tests: t/*.pl, each starting the servers it needs with
# PostgreSQL::Test::Cluster (Debian ships it in postgresql-server-dev-NN;
# it needs libipc-run-perl).  Debian's PGXS leaves enable_tap_tests unset,
# so it is set here; PROVE_TESTS='t/NAME.pl' runs one, PROVE_FLAGS=--verbose
# prints every assertion.
TAP_TESTS = 1
enable_tap_tests = yes

EXTRA_CLEAN = results regression.diffs regression.out output_iso tmp_check tmp_check_regress tmp_check_iso log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

ifeq ($(GTM_OPTIMIZE),yes)
$(GTM_HOT_OBJS): override CFLAGS += $(GTM_OPT_FLAGS)
endif

# Build, train and install with profile feedback (test/lib/profile_build.sh);
# print-gtm-optimize tells that script whether GCC builds the library.
.PHONY: profile-install print-gtm-optimize
profile-install:
	PG_CONFIG=$(PG_CONFIG) bash $(srcdir)/test/lib/profile_build.sh
print-gtm-optimize:
	@echo $(GTM_OPTIMIZE)

# The three parts of installcheck, so test/suite.sh can log them apart.
.PHONY: installcheck-regress installcheck-isolation installcheck-tap
installcheck-regress: submake $(REGRESS_PREP)
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
installcheck-isolation: submake
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
installcheck-tap:
	$(prove_installcheck)

# include/pg_compat.h must compile, with -Werror, against every supported
# server: test/lib/version_suite.sh runs this on each version it tests.
.PHONY: check-compat
check-compat:
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o /dev/null test/lib/pg_compat_check.c

# Every object depends on the shared headers (PGXS tracks no dependencies
# unless PostgreSQL was configured with --enable-depend).
$(OBJS): $(wildcard include/*.h)
