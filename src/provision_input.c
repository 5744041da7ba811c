/*-------------------------------------------------------------------------
 *
 * provision_input.c
 *	  The input rules of provisioning: Clerk ids, tenant names, slugs, roles.
 *
 * Each rule is written once, here, and used both by the SQL functions
 * (through the arg_* checks, which raise the documented errors) and by the
 * CHECK constraints of the tables (through the gtm_is_valid_* validators),
 * so that a row obeys them whatever writes it.  Also the slug derived from
 * a name (gtm_slugify) and the mapping of Clerk role keys to roles.
 *
 * IDENTIFICATION
 *	  src/provision_input.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "gtm_clarity.h"
#include "provision.h"

PG_FUNCTION_INFO_V1(gtm_is_valid_clerk_org_id);
PG_FUNCTION_INFO_V1(gtm_is_valid_clerk_user_id);
PG_FUNCTION_INFO_V1(gtm_is_valid_tenant_name);
PG_FUNCTION_INFO_V1(gtm_is_valid_slug);
PG_FUNCTION_INFO_V1(gtm_slugify);
PG_FUNCTION_INFO_V1(gtm_role_from_clerk);

/* ----------------------------------------------------------------
 *		Input rules
 *
 * Each returns NULL when the value is acceptable, else a sentence saying
 * what is wrong (used as errdetail).
 * ----------------------------------------------------------------
 */

/* Why s is not a Clerk id with prefix, or NULL when it is one. */
static const char *
clerk_id_problem(const char *s, const char *prefix)
{
	size_t		plen = strlen(prefix);
	size_t		len = strlen(s);

	if (strncmp(s, prefix, plen) != 0)
		return psprintf("It does not start with \"%s\".", prefix);
	if (len == plen)
		return psprintf("Nothing follows \"%s\".", prefix);
	if (len > MAX_CLERK_ID_LEN)
		return psprintf("It is longer than %d characters.", MAX_CLERK_ID_LEN);
	for (const char *p = s + plen; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9')))
			return psprintf("Only letters and digits may follow \"%s\".", prefix);
	}
	return NULL;
}

/*
 * Code point classes for tenant names, from the Unicode Character Database
 * (version 14.0, as PostgreSQL 15's own Unicode tables): sorted, disjoint
 * ranges.
 */
typedef struct CodeRange
{
	pg_wchar	first;
	pg_wchar	last;
} CodeRange;

/* White_Space (PropList.txt) */
static const CodeRange white_space[] = {
	{0x0009, 0x000D}, {0x0020, 0x0020}, {0x0085, 0x0085}, {0x00A0, 0x00A0},
	{0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
	{0x205F, 0x205F}, {0x3000, 0x3000}
};

/*
 * Characters drawn as nothing: Default_Ignorable_Code_Point
 * (DerivedCoreProperties.txt: soft hyphen, joiners, fillers such as U+3164,
 * variation selectors, tags, ...) and U+2800 BRAILLE PATTERN BLANK.
 */
static const CodeRange invisible[] = {
	{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x061C, 0x061C}, {0x115F, 0x1160},
	{0x17B4, 0x17B5}, {0x180B, 0x180F}, {0x200B, 0x200F}, {0x202A, 0x202E},
	{0x2060, 0x206F}, {0x2800, 0x2800}, {0x3164, 0x3164}, {0xFE00, 0xFE0F},
	{0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3},
	{0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF}
};

/*
 * Bidi_Control (PropList.txt): marks, embeddings, overrides and isolates
 * that reorder how the text around them is displayed.
 */
static const CodeRange bidi_control[] = {
	{0x061C, 0x061C}, {0x200E, 0x200F}, {0x202A, 0x202E}, {0x2066, 0x2069}
};

/* Is c in one of the n sorted, disjoint ranges r?  (binary search) */
static bool
in_ranges(pg_wchar c, const CodeRange *r, int n)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < r[mid].first)
			hi = mid - 1;
		else if (c > r[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * A tenant name is shown to people: it has at least one visible character
 * and nothing that changes how the characters around it are displayed.
 * Only in a UTF-8 database are characters beyond ASCII classified.
 */
static const char *
tenant_name_problem(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	bool		visible = false;
	pg_wchar	first_invisible = 0;	/* not white space */
	int			nchars = 0;

	while (*p)
	{
		int			len = pg_mblen((const char *) p);
		pg_wchar	c = (utf8 && *p >= 0x80) ? utf8_to_unicode(p) : *p;

		nchars++;
		if (c < 0x20 || (c >= 0x7F && c <= 0x9F && (utf8 || c == 0x7F)))
			return psprintf("It contains a control character at position %d.", nchars);
		if (utf8 && in_ranges(c, bidi_control, lengthof(bidi_control)))
			return psprintf("It contains a bidirectional control character (U+%04X) at position %d.",
							c, nchars);
		if (!in_ranges(c, white_space, lengthof(white_space)) || (!utf8 && c >= 0x80))
		{
			if (!utf8 || !in_ranges(c, invisible, lengthof(invisible)))
				visible = true;
			else if (first_invisible == 0)
				first_invisible = c;
		}
		p += len;
	}
	if (!visible)
	{
		if (nchars == 0)
			return "It is empty.";
		if (first_invisible == 0)
			return "It contains only whitespace.";
		return psprintf("It contains no visible character (U+%04X is drawn as nothing).",
						first_invisible);
	}
	if (nchars > MAX_NAME_CHARS)
		return psprintf("It is %d characters long; the limit is %d.", nchars, MAX_NAME_CHARS);
	return NULL;
}

/* Why s is not a valid slug (SLUG_RULE), or NULL when it is one. */
static const char *
slug_problem(const char *s)
{
	size_t		len = strlen(s);

	if (len == 0)
		return "It is empty.";
	if (len > MAX_SLUG_LEN)
		return psprintf("It is longer than %d characters.", MAX_SLUG_LEN);
	if (s[0] == '-' || s[len - 1] == '-')
		return "It starts or ends with a dash.";
	for (const char *p = s; *p; p++)
	{
		if (*p == '-' && p[1] == '-')
			return "It contains two dashes in a row.";
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return "Only lowercase letters, digits and dashes are allowed.";
	}
	return NULL;
}

#define SLUG_RULE "A slug is 1 to 100 lowercase letters (a-z), digits and single dashes, not starting or ending with a dash."

/*
 * Latin-1 letters folded to ASCII for slugs: "Café Müller" -> "cafe-muller".
 * Indexed by the second byte of the UTF-8 sequence, minus 0x80: C2 xx
 * (U+0080..U+00BF, where the letters are ª, µ and º) and C3 xx
 * (U+00C0..U+00FF).  NULL: not a letter.
 */
static const char *const latin1_fold_c2[64] = {
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "a", NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, "u", NULL, NULL, NULL, NULL, "o", NULL, NULL, NULL, NULL, NULL
};

static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y"
};

/*
 * name in Unicode normalization form NFC (PostgreSQL's normalize()), so that
 * a name written with decomposed accents ("e" + U+0301, as pasted from macOS
 * or a PDF) is the same name as the precomposed one.  Only a UTF-8 database
 * has Unicode text; any other returns name.
 */
static const char *
nfc(const char *name)
{
	const unsigned char *p;

	if (GetDatabaseEncoding() != PG_UTF8)
		return name;
	for (p = (const unsigned char *) name; *p && *p < 0x80; p++)
		;
	if (*p == '\0')
		return name;			/* ASCII is in every normal form */
	return TextDatumGetCString(DirectFunctionCall2(unicode_normalize_func,
												   PointerGetDatum(cstring_to_text(name)),
												   PointerGetDatum(cstring_to_text("NFC"))));
}

/*
 * Derive a slug from a display name, taken in NFC: ASCII letters and digits
 * lowercased, Latin-1 letters folded, every other run of characters one
 * dash, no dash at either end, at most MAX_DERIVED_SLUG_LEN bytes.  Returns
 * "" when the name has no usable character.
 */
char *
slugify(const char *name)
{
	StringInfoData buf;
	bool		pending_dash = false;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	const unsigned char *p = (const unsigned char *) nfc(name);

	initStringInfo(&buf);
	while (*p && buf.len < MAX_DERIVED_SLUG_LEN)
	{
		const char *piece = NULL;
		char		one[2] = {0, 0};
		int			adv = 1;

		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			one[0] = (char) *p, piece = one;
		else if (*p >= 'A' && *p <= 'Z')
			one[0] = (char) (*p - 'A' + 'a'), piece = one;
		else if (*p >= 0x80)
		{
			adv = pg_mblen((const char *) p);
			if (utf8 && adv == 2 && p[1] >= 0x80 && p[1] <= 0xBF)
			{
				if (p[0] == 0xC2)
					piece = latin1_fold_c2[p[1] - 0x80];
				else if (p[0] == 0xC3)
					piece = latin1_fold[p[1] - 0x80];
			}
		}

		if (piece == NULL)
			pending_dash = (buf.len > 0);
		else
		{
			if (pending_dash)
				appendStringInfoChar(&buf, '-');
			appendStringInfoString(&buf, piece);
			pending_dash = false;
		}
		p += adv;
	}
	if (buf.len > MAX_DERIVED_SLUG_LEN)
		buf.len = MAX_DERIVED_SLUG_LEN;
	while (buf.len > 0 && buf.data[buf.len - 1] == '-')
		buf.len--;
	buf.data[buf.len] = '\0';
	return buf.data;
}

/*
 * A Clerk slug as our slug rule accepts it: unchanged when it passes, else
 * slugified (NFC, lowercased, accents folded, runs of other characters one
 * dash: "Acme_X" -> "acme-x").  NULL when nothing usable is left, and for
 * a NULL slug: the caller derives one from the name.  Never an error.
 */
char *
normalize_clerk_slug(const char *slug)
{
	char	   *s;

	if (slug == NULL)
		return NULL;
	if (slug_problem(slug) == NULL)
		return pstrdup(slug);
	s = slugify(slug);
	return s[0] == '\0' ? NULL : s;
}

/*
 * The base of the slugs derived from a Clerk slug another tenant holds:
 * the slug cut to MAX_DERIVED_SLUG_LEN bytes (room for a suffix -N),
 * without trailing dashes.  The derived slugs are the base itself when it
 * is free, then base-2, base-3...
 */
char *
clerk_slug_base(const char *slug)
{
	char	   *base = pnstrdup(slug, Min(strlen(slug), MAX_DERIVED_SLUG_LEN));
	size_t		len = strlen(base);

	while (len > 0 && base[len - 1] == '-')
		base[--len] = '\0';
	return base;
}

/*
 * The role of a Clerk role key in the role map (the table clerk_role_map
 * of schema nsp, read by one probe of its primary key); NULL when the key
 * is not mapped.
 */
const char *
clerk_role_lookup(Oid nsp, const char *key)
{
	Datum		keys[1];
	Datum		role;
	bool		isnull;

	keys[0] = PointerGetDatum(cstring_to_text(key));
	if (!index_probe(nsp, "clerk_role_map", "clerk_role_map_pkey", 1, keys,
					 "role", &role, &isnull) || isnull)
		return NULL;
	return DatumGetCString(DirectFunctionCall1(enum_out, role));
}

/* ----------------------------------------------------------------
 *		Argument checks that raise the documented errors
 * ----------------------------------------------------------------
 */


/*
 * A Clerk id argument: not null, and prefix ("org_", "user_") followed by
 * letters and digits; "what" names the kind in the error.
 */
static char *
arg_clerk_id(FunctionCallInfo fcinfo, int argno, const char *argname,
			 const char *prefix, const char *what)
{
	char	   *s;
	const char *why;

	gtm_require_arg(fcinfo, argno, argname, NULL);
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if ((why = clerk_id_problem(s, prefix)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Clerk %s id: %s", what, gtm_msg_value(s, -1, true)),
				 errdetail("%s", why),
				 errhint("A Clerk %s id is \"%s\" followed by letters and digits, as in \"%s2abcDEF123\".",
						 what, prefix, prefix)));
	return s;
}

char *
arg_clerk_org_id(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	return arg_clerk_id(fcinfo, argno, argname, "org_", "organization");
}

char *
arg_clerk_user_id(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	return arg_clerk_id(fcinfo, argno, argname, "user_", "user");
}

char *
arg_tenant_name(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;
	const char *why;

	gtm_require_arg(fcinfo, argno, argname, NULL);
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if ((why = tenant_name_problem(s)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid tenant name"),
				 errdetail("%s", why),
				 errhint("A tenant name is 1 to %d characters, at least one of them visible, without control characters or bidirectional controls.",
						 MAX_NAME_CHARS)));
	return s;
}

/* NULL argument means "derive the slug". */
char *
arg_slug(FunctionCallInfo fcinfo, int argno)
{
	char	   *s;
	const char *why;

	if (PG_ARGISNULL(argno))
		return NULL;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if ((why = slug_problem(s)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid slug: %s", gtm_msg_value(s, -1, true)),
				 errdetail("%s", why),
				 errhint("%s Pass NULL to derive one from the name.", SLUG_RULE)));
	return s;
}

Jsonb *
arg_settings(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	Jsonb	   *j;

	gtm_require_arg(fcinfo, argno, argname, NULL);
	j = PG_GETARG_JSONB_P(argno);
	if (!gtm_jsonb_is_object(j))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant settings must be a JSON object"),
				 errdetail("The value given is a JSON %s.",
						   JB_ROOT_IS_SCALAR(j) ? "scalar" : "array"),
				 errhint("Pass '{}' for no overrides.")));
	return j;
}

/* ----------------------------------------------------------------
 *		SQL-callable validators (used by the CHECK constraints)
 * ----------------------------------------------------------------
 */

Datum
gtm_is_valid_clerk_org_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clerk_id_problem(text_to_cstring(PG_GETARG_TEXT_PP(0)), "org_") == NULL);
}

Datum
gtm_is_valid_clerk_user_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clerk_id_problem(text_to_cstring(PG_GETARG_TEXT_PP(0)), "user_") == NULL);
}

Datum
gtm_is_valid_tenant_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tenant_name_problem(text_to_cstring(PG_GETARG_TEXT_PP(0))) == NULL);
}

Datum
gtm_is_valid_slug(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(slug_problem(text_to_cstring(PG_GETARG_TEXT_PP(0))) == NULL);
}

Datum
gtm_slugify(PG_FUNCTION_ARGS)
{
	char	   *slug = slugify(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (slug[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(slug));
}

static Datum
role_datum(FunctionCallInfo fcinfo, const char *role)
{
	Oid			enumtype = get_fn_expr_rettype(fcinfo->flinfo);

	return DirectFunctionCall2(enum_in, CStringGetDatum(role),
							   ObjectIdGetDatum(enumtype));
}

const char *
clerk_role_or_error(Oid nsp, const char *key)
{
	const char *role = clerk_role_lookup(nsp, key);

	if (role == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Clerk role %s", gtm_msg_value(key, -1, true)),
				 errdetail("The key is not in the role map %s.clerk_role_map.",
						   quote_identifier(get_namespace_name(nsp))),
				 errhint("Map it, as a superuser: INSERT INTO %s.clerk_role_map (clerk_role, role) VALUES (%s, 'viewer'); or pass NULL for viewer.",
						 quote_identifier(get_namespace_name(nsp)),
						 quote_literal_cstr(gtm_msg_value(key, -1, false)))));
	return role;
}

Datum
gtm_role_from_clerk(PG_FUNCTION_ARGS)
{
	const char *role = clerk_role_or_error(gtm_extension_namespace(fcinfo),
										   text_to_cstring(PG_GETARG_TEXT_PP(0)));

	PG_RETURN_DATUM(role_datum(fcinfo, role));
}

